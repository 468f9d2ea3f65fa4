package kubejson_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/berth-dev/berth/pkg/kubejson"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// benchPod is a typical Pod as the apiserver stores it.
const benchPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d4b9c8f6-x2k9p","namespace":"default","uid":"3f1c2b9e-8a7d-4c6e-9b1a-2d3e4f5a6b7c",
"resourceVersion":"123456","generation":1,"creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"web","pod-template-hash":"7d4b9c8f6"},
"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c8f6","uid":"9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4","controller":true,"blockOwnerDeletion":true}]},
"spec":{"containers":[{"name":"web","image":"berth-testapp:latest","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
"env":[{"name":"PORT","value":"8080"}],"resources":{"requests":{"cpu":"100m","memory":"100Mi"},"limits":{"memory":"200Mi"}},
"readinessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},
"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","nodeName":"node-1",
"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
"status":{"phase":"Running","podIP":"10.0.0.12","hostIP":"192.168.1.10","startTime":"2024-01-02T03:04:06Z","qosClass":"Burstable",
"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-02T03:04:09Z"}],
"containerStatuses":[{"name":"web","ready":true,"restartCount":0,"image":"berth-testapp:latest","imageID":"sha256:abc","containerID":"docker://def",
"state":{"running":{"startedAt":"2024-01-02T03:04:07Z"}},"started":true}]}}`

func benchPodMessage(b *testing.B) *corev1.Pod {
	p := &corev1.Pod{}
	if err := kubejson.Unmarshal([]byte(benchPod), p); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkMarshalPod(b *testing.B) {
	p := benchPodMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kubejson.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPod(b *testing.B) {
	data := []byte(benchPod)
	b.ReportAllocs()
	for b.Loop() {
		if err := kubejson.Unmarshal(data, &corev1.Pod{}); err != nil {
			b.Fatal(err)
		}
	}
}

// The protojson benchmarks are the yardstick: the generic proto JSON codec on the same Pod.
func BenchmarkProtojsonMarshalPod(b *testing.B) {
	p := benchPodMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protojson.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProtojsonUnmarshalPod(b *testing.B) {
	data, err := protojson.Marshal(benchPodMessage(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := protojson.Unmarshal(data, &corev1.Pod{}); err != nil {
			b.Fatal(err)
		}
	}
}
