package body

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	kappsv1 "k8s.io/api/apps/v1"
	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// encodeProtobuf writes obj as k8s.io/client-go's typed clients send it.
func encodeProtobuf(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := kubeProtobuf.Encode(obj, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testPod() *kcorev1.Pod {
	return &kcorev1.Pod{
		TypeMeta:   kmetav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: kmetav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
		Spec: kcorev1.PodSpec{Containers: []kcorev1.Container{{
			Name: "c", Image: "nginx", Ports: []kcorev1.ContainerPort{{ContainerPort: 80}},
		}}},
	}
}

func TestDecodeProtobuf(t *testing.T) {
	var p corev1.Pod
	warnings, err := DecodeProtobuf(encodeProtobuf(t, testPod()), &p, podKind, Strict)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("decode: %v %q", err, warnings)
	}
	if p.GetMetadata().GetName() != "p" || p.GetMetadata().GetLabels()["a"] != "b" || p.GetSpec().GetContainers()[0].GetPorts()[0].GetContainerPort() != 80 {
		t.Errorf("decoded %v", &p)
	}

	// A field Berth does not have, set by the client: reported as unknown.
	pod := testPod()
	pod.Spec.HostUsers = ptr.To(true)
	if _, err := DecodeProtobuf(encodeProtobuf(t, pod), &p, podKind, Strict); err == nil || !strings.Contains(err.Error(), `unknown field "spec.hostUsers"`) {
		t.Errorf("Strict with an unknown field: %v", err)
	}
	warnings, err = DecodeProtobuf(encodeProtobuf(t, pod), &p, podKind, Warn)
	if err != nil || len(warnings) != 1 {
		t.Errorf("Warn with an unknown field: %v %q", err, warnings)
	}

	d := &kappsv1.Deployment{TypeMeta: kmetav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: kmetav1.ObjectMeta{Name: "d"}}
	if _, err := DecodeProtobuf(encodeProtobuf(t, d), &p, podKind, Warn); code(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "Deployment") {
		t.Errorf("a Deployment as a Pod: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("k8s\x00"), []byte("k8s\x00\xff\xff"), []byte(`{"kind":"Pod"}`)} {
		if _, err := DecodeProtobuf(bad, &p, podKind, Warn); code(err) != http.StatusBadRequest {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDecodeDeleteOptionsProtobuf(t *testing.T) {
	fg := kmetav1.DeletePropagationForeground
	opts := &kmetav1.DeleteOptions{TypeMeta: kmetav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeleteOptions"}, PropagationPolicy: &fg}
	got, err := DecodeDeleteOptions(encodeProtobuf(t, opts), ContentTypeProtobuf)
	if err != nil || got.PropagationPolicy == nil || *got.PropagationPolicy != fg {
		t.Errorf("got %+v, %v", got, err)
	}
}

func FuzzDecodeProtobuf(f *testing.F) {
	f.Add(encodeProtobuf(f, testPod()))
	pod := testPod()
	pod.Spec.HostUsers = ptr.To(true)
	pod.Spec.Containers[0].Resources.Requests = kcorev1.ResourceList{}
	f.Add(encodeProtobuf(f, pod))
	f.Add([]byte("k8s\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p corev1.Pod
		if _, err := DecodeProtobuf(data, &p, podKind, Warn); err != nil && code(err) != http.StatusBadRequest {
			t.Fatalf("error is not a 400: %v", err)
		}
	})
}
