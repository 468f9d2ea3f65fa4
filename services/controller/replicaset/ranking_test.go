package replicaset

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// podOpt shapes a test Pod.
type podOpt func(*corev1.Pod)

func testPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name, CreationTimestamp: timestamppb.New(now.Add(-time.Hour))},
		Spec:     &corev1.PodSpec{},
		Status:   &corev1.PodStatus{Phase: phasePending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func phase(ph string) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func age(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.Metadata.CreationTimestamp = timestamppb.New(now.Add(-d)) }
}
func noCreationTime() podOpt { return func(p *corev1.Pod) { p.Metadata.CreationTimestamp = nil } }
func withRestarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []*corev1.ContainerStatus{{Name: "app", RestartCount: n}}
	}
}
func cost(c string) podOpt {
	return func(p *corev1.Pod) { p.Metadata.Annotations = map[string]string{PodDeletionCostAnnotation: c} }
}
func readyFor(d time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, &corev1.PodCondition{Type: podReady, Status: "True", LastTransitionTime: timestamppb.New(now.Add(-d))})
	}
}
func sidecarRestarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		always := "Always"
		p.Spec.InitContainers = []*corev1.Container{{Name: "proxy", RestartPolicy: &always}}
		p.Status.InitContainerStatuses = []*corev1.ContainerStatus{{Name: "proxy", RestartCount: n}}
	}
}

// TestDeletionOrder: each case lists two Pods, the one to delete first first.
func TestDeletionOrder(t *testing.T) {
	running := phase(phaseRunning)
	tests := []struct {
		name        string
		first, then *corev1.Pod
		related     []*corev1.Pod
	}{
		{"unassigned before assigned", testPod("a"), testPod("b", onNode("n1")), nil},
		{"pending before unknown", testPod("a", onNode("n1")), testPod("b", onNode("n1"), phase(phaseUnknown)), nil},
		{"unknown before running", testPod("a", onNode("n1"), phase(phaseUnknown)), testPod("b", onNode("n1"), running), nil},
		{"not ready before ready", testPod("a", onNode("n1"), running), testPod("b", onNode("n1"), running, readyFor(time.Hour)), nil},
		{"lower deletion cost first", testPod("a", onNode("n1"), running, cost("-5")), testPod("b", onNode("n1"), running), nil},
		{"a bad deletion cost counts as 0", testPod("a", onNode("n1"), running, cost("x")), testPod("b", onNode("n1"), running, cost("1")), nil},
		{"deletion cost before readiness time", testPod("a", onNode("n1"), running, readyFor(time.Hour), cost("1")), testPod("b", onNode("n1"), running, readyFor(time.Minute), cost("2")), nil},
		{
			"doubled up on a node first",
			testPod("a", onNode("n1"), running), testPod("b", onNode("n2"), running),
			[]*corev1.Pod{testPod("x", onNode("n1")), testPod("y", onNode("n1")), testPod("z", onNode("n2"))},
		},
		{"ready for less time first", testPod("a", onNode("n1"), running, readyFor(time.Minute)), testPod("b", onNode("n1"), running, readyFor(time.Hour)), nil},
		{"more restarts first", testPod("a", onNode("n1"), running, withRestarts(3)), testPod("b", onNode("n1"), running, withRestarts(1)), nil},
		{"more sidecar restarts first", testPod("a", onNode("n1"), running, sidecarRestarts(2)), testPod("b", onNode("n1"), running), nil},
		{"newer first", testPod("a", age(time.Minute)), testPod("b", age(time.Hour)), nil},
		{"no creation time first", testPod("a", noCreationTime()), testPod("b", age(time.Second)), nil},
		{"same power of two of age: by uid", testPod("a", age(65*time.Minute)), testPod("b", age(60*time.Minute)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]*corev1.Pod{{tc.first, tc.then}, {tc.then, tc.first}} {
				got := podsToDelete(order, tc.related, 1, now)
				if got[0] != tc.first {
					t.Errorf("deleted %s first, want %s", got[0].GetMetadata().GetName(), tc.first.GetMetadata().GetName())
				}
			}
		})
	}
}

func TestPodsToDeleteWholeOrder(t *testing.T) {
	ready := testPod("ready", onNode("n1"), phase(phaseRunning), readyFor(time.Hour))
	justReady := testPod("just-ready", onNode("n1"), phase(phaseRunning), readyFor(time.Second))
	running := testPod("running", onNode("n1"), phase(phaseRunning))
	pending := testPod("pending", onNode("n1"))
	unassigned := testPod("unassigned")
	got := podsToDelete([]*corev1.Pod{ready, running, unassigned, justReady, pending}, nil, 4, now)
	want := []string{"unassigned", "pending", "running", "just-ready"}
	if len(got) != len(want) {
		t.Fatalf("deleted %d pods, want %d", len(got), len(want))
	}
	for i, p := range got {
		if p.GetMetadata().GetName() != want[i] {
			t.Errorf("deletion %d: %s, want %s", i, p.GetMetadata().GetName(), want[i])
		}
	}
	all := []*corev1.Pod{ready, pending}
	if got := podsToDelete(all, nil, 5, now); len(got) != 2 {
		t.Errorf("deleting more than there are: %d pods, want all 2", len(got))
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		pod       *corev1.Pod
		minReady  time.Duration
		available bool
		wait      time.Duration
	}{
		{testPod("not-ready"), 0, false, 0},
		{testPod("ready-no-min", readyFor(0)), 0, true, 0},
		{testPod("ready-long-enough", readyFor(11*time.Second)), 10 * time.Second, true, 0},
		{testPod("ready-exactly-min", readyFor(10*time.Second)), 10 * time.Second, false, time.Nanosecond},
		{testPod("ready-too-short", readyFor(4*time.Second)), 10 * time.Second, false, 6 * time.Second},
	}
	for _, tc := range tests {
		name := tc.pod.GetMetadata().GetName()
		if got := isAvailable(tc.pod, tc.minReady, now); got != tc.available {
			t.Errorf("%s: available %v, want %v", name, got, tc.available)
		}
		if wait, _ := availableIn(tc.pod, tc.minReady, now); wait != tc.wait {
			t.Errorf("%s: available in %v, want %v", name, wait, tc.wait)
		}
	}
}

func ExamplePodDeletionCostAnnotation() {
	fmt.Println(deletionCost(testPod("a", cost("100"))), deletionCost(testPod("b", cost("99999999999"))))
	// Output: 100 0
}
