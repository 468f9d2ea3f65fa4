package kubejson_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	k8scoordinationv1 "k8s.io/api/coordination/v1"
	k8scorev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-dev/berth/pkg/kubejson"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var t0 = &timestamppb.Timestamp{Seconds: 1704164645} // 2024-01-02T03:04:05Z

func meta(name string) *metav1.ObjectMeta { return &metav1.ObjectMeta{Name: name} }

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		opts kubejson.MarshalOptions
		want string
		// lossy: what is written reads back as a different message (on purpose).
		lossy bool
	}{{
		name: "pod",
		in: &corev1.Pod{
			Metadata: &metav1.ObjectMeta{Name: "a", Namespace: "default", Generation: 3, CreationTimestamp: t0,
				DeletionGracePeriodSeconds: ptr[int64](0), Labels: map[string]string{"z": "1", "a": "<&>"}},
			Spec: &corev1.PodSpec{
				HostIpc: true, TerminationGracePeriodSeconds: ptr[int64](30),
				Volumes: []*corev1.Volume{{Name: "v", EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				Containers: []*corev1.Container{{
					Name: "c", Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
					LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: structpb.NewNumberValue(8080)}},
					ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: structpb.NewStringValue("http")}},
				}},
			},
			Status: &corev1.PodStatus{PodIp: "10.0.0.1", StartTime: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 5e8}},
		},
		want: `{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"2024-01-02T03:04:05Z","deletionGracePeriodSeconds":0,"generation":3,` +
			`"labels":{"a":"\u003c\u0026\u003e","z":"1"},"name":"a","namespace":"default"},"spec":{"containers":[{"livenessProbe":{"httpGet":{"port":8080}},` +
			`"name":"c","ports":[{"containerPort":80}],"readinessProbe":{"tcpSocket":{"port":"http"}}}],"hostIPC":true,` +
			`"terminationGracePeriodSeconds":30,"volumes":[{"emptyDir":{},"name":"v"}]},"status":{"podIP":"10.0.0.1","startTime":"2024-01-02T03:04:05.500Z"}}`,
	}, {
		name: "apiVersion and kind sort among the fields",
		in:   &corev1.ConfigMap{Metadata: meta("c"), Data: map[string]string{"k": "v"}, BinaryData: map[string][]byte{"b": {0, 1, 2}}, Immutable: ptr(false)},
		want: `{"apiVersion":"v1","binaryData":{"b":"AAEC"},"data":{"k":"v"},"immutable":false,"kind":"ConfigMap","metadata":{"name":"c"}}`,
	}, {
		name: "deployment",
		in: &appsv1.Deployment{Metadata: meta("d"), Spec: &appsv1.DeploymentSpec{Replicas: ptr[int32](0), Strategy: &appsv1.DeploymentStrategy{
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: structpb.NewStringValue("25%"), MaxUnavailable: structpb.NewNumberValue(0)}}}},
		want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":0,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":0}}}}`,
	}, {
		name: "list: metadata and items always, items without type meta",
		in:   &corev1.PodList{Metadata: &metav1.ListMeta{}, Items: []*corev1.Pod{{Metadata: meta("a")}}},
		want: `{"apiVersion":"v1","items":[{"metadata":{"name":"a"}}],"kind":"PodList","metadata":{}}`,
	}, {
		name: "empty list",
		in:   &appsv1.DeploymentList{Metadata: &metav1.ListMeta{ResourceVersion: "12"}},
		want: `{"apiVersion":"apps/v1","items":[],"kind":"DeploymentList","metadata":{"resourceVersion":"12"}}`,
	}, {
		name:  "list without metadata",
		in:    &corev1.NodeList{},
		want:  `{"apiVersion":"v1","items":[],"kind":"NodeList","metadata":{}}`,
		lossy: true,
	}, {
		name:  "a Value with nothing set is omitted",
		in:    &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: &structpb.Value{}}},
		want:  `{"tcpSocket":{}}`,
		lossy: true,
	}, {
		name: "list items with type meta",
		in:   &corev1.PodList{Metadata: &metav1.ListMeta{}, Items: []*corev1.Pod{{Metadata: meta("a")}}},
		opts: kubejson.MarshalOptions{ItemTypeMeta: true},
		want: `{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}],"kind":"PodList","metadata":{}}`,
	}, {
		name: "watch event",
		in:   &corev1.PodWatchEvent{Type: "ADDED", Object: &corev1.Pod{Metadata: meta("a")}},
		want: `{"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},"type":"ADDED"}`,
	}, {
		name: "scale",
		in:   &autoscalingv1.Scale{Metadata: meta("d"), Spec: &autoscalingv1.ScaleSpec{Replicas: 3}},
		want: `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d"},"spec":{"replicas":3}}`,
	}, {
		name: "a message that is not an object has no type meta",
		in:   &metav1.ObjectMeta{Name: "a", Uid: "u"},
		want: `{"name":"a","uid":"u"}`,
	}, {
		name: "MicroTime fields have six fractional digits",
		in: &corev1.Event{Metadata: meta("e"), EventTime: t0, LastTimestamp: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 1000},
			FirstTimestamp: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 1}},
		want: `{"apiVersion":"v1","eventTime":"2024-01-02T03:04:05.000000Z","firstTimestamp":"2024-01-02T03:04:05.000000001Z","kind":"Event",` +
			`"lastTimestamp":"2024-01-02T03:04:05.000001Z","metadata":{"name":"e"}}`,
	}, {
		name: "indent",
		in:   &corev1.Namespace{Metadata: meta("n")},
		opts: kubejson.MarshalOptions{Indent: "    "},
		want: "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Namespace\",\n    \"metadata\": {\n        \"name\": \"n\"\n    }\n}",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.Marshal(tt.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if tt.lossy {
				return
			}
			// What we write reads back as the same message.
			back := tt.in.ProtoReflect().Type().New().Interface()
			if err := kubejson.Unmarshal(got, back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(tt.in, back) {
				t.Fatalf("round trip: got %v\nwant %v", back, tt.in)
			}
		})
	}
}

// TestMarshalKubernetesReadsIt decodes what we write into the k8s.io/api types strictly.
func TestMarshalKubernetesReadsIt(t *testing.T) {
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "a", CreationTimestamp: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 123}},
		Spec: &corev1.PodSpec{HostPid: true, SetHostnameAsFqdn: ptr(true), Containers: []*corev1.Container{{
			Name:           "c",
			Resources:      &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "500m"}},
			LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: structpb.NewNumberValue(8080)}},
			ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: structpb.NewStringValue("http")}},
		}}},
		Status: &corev1.PodStatus{PodIps: []*corev1.PodIP{{Ip: "10.0.0.1"}}, QosClass: "Burstable"},
	}
	js, err := kubejson.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	kp := decodeK8s(t, "Pod", js).(*k8scorev1.Pod)
	c := kp.Spec.Containers[0]
	switch {
	case !kp.Spec.HostPID || kp.Spec.SetHostnameAsFQDN == nil || !*kp.Spec.SetHostnameAsFQDN:
		t.Errorf("spec: %+v", kp.Spec)
	case !c.Resources.Requests.Cpu().Equal(resource.MustParse("500m")):
		t.Errorf("requests: %v", c.Resources.Requests)
	case c.LivenessProbe.HTTPGet.Port != intstr.FromInt32(8080) || c.ReadinessProbe.TCPSocket.Port != intstr.FromString("http"):
		t.Errorf("probes: %+v %+v", c.LivenessProbe, c.ReadinessProbe)
	case kp.Status.PodIPs[0].IP != "10.0.0.1" || kp.Status.QOSClass != "Burstable":
		t.Errorf("status: %+v", kp.Status)
	case !kp.CreationTimestamp.Time.Equal(time.Unix(1704164645, 123)):
		t.Errorf("creationTimestamp: %v", kp.CreationTimestamp)
	}

	// Kubernetes reads MicroTime only with exactly six fractional digits.
	lease := &coordinationv1.Lease{Metadata: meta("l"), Spec: &coordinationv1.LeaseSpec{
		HolderIdentity: ptr("me"), RenewTime: t0, AcquireTime: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 7000}}}
	js, err = kubejson.Marshal(lease)
	if err != nil {
		t.Fatal(err)
	}
	kl := decodeK8s(t, "Lease", js).(*k8scoordinationv1.Lease)
	if !kl.Spec.RenewTime.Time.Equal(time.Unix(1704164645, 0)) || !kl.Spec.AcquireTime.Time.Equal(time.Unix(1704164645, 7000)) {
		t.Errorf("lease times: %v %v", kl.Spec.RenewTime, kl.Spec.AcquireTime)
	}
}

func TestMarshalWatchEvent(t *testing.T) {
	pod := &corev1.Pod{Metadata: meta("a")}
	got, err := kubejson.MarshalWatchEvent("MODIFIED", pod)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kubejson.Marshal(&corev1.PodWatchEvent{Type: "MODIFIED", Object: pod})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || string(got) != `{"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},"type":"MODIFIED"}` {
		t.Fatalf("got %s, Marshal writes %s", got, want)
	}
}

func TestMarshalList(t *testing.T) {
	objs := []proto.Message{
		&corev1.Pod{Metadata: meta("a")},
		&appsv1.Deployment{Metadata: meta("d"), Spec: &appsv1.DeploymentSpec{Replicas: ptr[int32](2)}},
	}
	got, err := kubejson.MarshalList(objs)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},` +
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2}}],"kind":"List","metadata":{"resourceVersion":""}}`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	y, err := kubejson.MarshalOptions{}.MarshalListYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	wantYAML := `apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: d
  spec:
    replicas: 2
kind: List
metadata:
  resourceVersion: ""
`
	if string(y) != wantYAML {
		t.Fatalf("YAML:\n%s\nwant\n%s", y, wantYAML)
	}
}

func TestMarshalYAML(t *testing.T) {
	svc := &corev1.Service{Metadata: meta("s"), Spec: &corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []*corev1.ServicePort{{Port: 80, TargetPort: structpb.NewStringValue("8080")}},
	}}
	y, err := kubejson.MarshalYAML(svc)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 80
    targetPort: "8080"
  selector:
    app: web
`
	if string(y) != want {
		t.Fatalf("got\n%s\nwant\n%s", y, want)
	}
	back := &corev1.Service{}
	if err := kubejson.Unmarshal(y, back); err != nil || !proto.Equal(back, svc) {
		t.Fatalf("round trip: %v, %v", err, back)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		want string
	}{
		{"timestamp out of range", &corev1.Pod{Metadata: &metav1.ObjectMeta{CreationTimestamp: &timestamppb.Timestamp{Seconds: 1 << 40}}}, "metadata: creationTimestamp: timestamp"},
		{"NaN", &corev1.Service{Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{TargetPort: structpb.NewNumberValue(nan())}}}}, "spec: ports: [0]: targetPort: unsupported number NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubejson.Marshal(tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want one starting %q", err, tt.want)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

// TestMarshalStringsLikeEncodingJSON checks our string escaping against encoding/json's, which
// the Kubernetes apiserver uses.
func TestMarshalStringsLikeEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "<a&b>", "\n\r\t\b\f\x00\x1f\x7f", "é ✓ 😀", "\u2028\u2029", "bad \xff utf8 \xc3"} {
		checkStringEscaping(t, s)
	}
}

func checkStringEscaping(t *testing.T, s string) {
	t.Helper()
	got, err := kubejson.Marshal(&metav1.ObjectMeta{Name: s})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(map[string]string{"name": s})
	if s == "" {
		want = []byte("{}")
	}
	if string(got) != string(want) {
		t.Fatalf("%q: got %s, want %s", s, got, want)
	}
}
