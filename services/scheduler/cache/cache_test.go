package cache

import (
	"fmt"
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

func node(name, zone string) *corev1.Node {
	labels := map[string]string{}
	if zone != "" {
		labels[framework.LabelZone] = zone
	}
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
		Status:   &corev1.NodeStatus{Allocatable: map[string]string{"cpu": "2", "memory": "4Gi", "pods": "10"}},
	}
}

func pod(name, nodeName, cpu string) *framework.PodInfo {
	return framework.NewPodInfo(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name},
		Spec: &corev1.PodSpec{NodeName: nodeName, Containers: []*corev1.Container{{
			Name: "c", Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": cpu}},
		}}},
	})
}

func names(s *framework.Snapshot) string {
	var out []string
	for _, n := range s.Nodes {
		out = append(out, fmt.Sprintf("%s:%d", n.Name, len(n.Pods)))
	}
	return fmt.Sprint(out)
}

func TestAssumeConfirmForget(t *testing.T) {
	c := New()
	c.AddNode(node("n1", ""))
	p := pod("p", "", "500m")
	if err := c.AssumePod(p); err == nil {
		t.Fatal("assumed a pod without a node")
	}
	a := p.WithNode("n1")
	if err := c.AssumePod(a); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(a); err == nil {
		t.Error("assumed the same pod twice")
	}
	ni, _ := c.NodeInfo("n1")
	if ni.Requested.MilliCPU != 500 || !c.IsAssumed("uid-p") {
		t.Fatalf("assumed pod not counted: %d, assumed %v", ni.Requested.MilliCPU, c.IsAssumed("uid-p"))
	}
	// The informer shows the Pod bound: confirmed, counted once.
	c.FinishBinding(a)
	c.AddPod(pod("p", "n1", "500m"))
	ni, _ = c.NodeInfo("n1")
	if ni.Requested.MilliCPU != 500 || c.IsAssumed("uid-p") || len(ni.Pods) != 1 {
		t.Fatalf("after confirmation: cpu %d, pods %d, assumed %v", ni.Requested.MilliCPU, len(ni.Pods), c.IsAssumed("uid-p"))
	}
	// ForgetPod leaves confirmed Pods alone.
	c.ForgetPod(a)
	if ni, _ = c.NodeInfo("n1"); len(ni.Pods) != 1 {
		t.Fatal("ForgetPod removed a confirmed pod")
	}
	// A failed binding forgets the assumption.
	b := pod("b", "", "1").WithNode("n1")
	if err := c.AssumePod(b); err != nil {
		t.Fatal(err)
	}
	c.ForgetPod(b)
	if ni, _ = c.NodeInfo("n1"); ni.Requested.MilliCPU != 500 {
		t.Fatalf("after forgetting: cpu %d, want 500", ni.Requested.MilliCPU)
	}
	// Bound elsewhere than assumed: moved.
	d := pod("d", "", "100m").WithNode("n1")
	_ = c.AssumePod(d)
	c.AddNode(node("n2", ""))
	c.AddPod(pod("d", "n2", "100m"))
	n1, _ := c.NodeInfo("n1")
	n2, _ := c.NodeInfo("n2")
	if n1.Requested.MilliCPU != 500 || n2.Requested.MilliCPU != 100 {
		t.Fatalf("after binding elsewhere: n1 %d, n2 %d", n1.Requested.MilliCPU, n2.Requested.MilliCPU)
	}
	c.RemovePod("uid-d")
	if nodes, pods, assumed := c.Counts(); nodes != 2 || pods != 1 || assumed != 0 {
		t.Errorf("counts %d nodes %d pods %d assumed", nodes, pods, assumed)
	}
}

func TestSnapshotIsIncremental(t *testing.T) {
	c := New()
	for i := range 4 {
		c.AddNode(node(fmt.Sprintf("n%d", i), fmt.Sprintf("z%d", i%2)))
	}
	snap := &framework.Snapshot{}
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[n0:0 n1:0 n2:0 n3:0]" {
		t.Fatalf("snapshot %s", got)
	}
	before := map[string]*framework.NodeInfo{}
	gens := map[string]int64{}
	for _, n := range snap.Nodes {
		before[n.Name] = n
		gens[n.Name] = n.Generation
	}
	_ = c.AssumePod(pod("p", "", "1").WithNode("n2"))
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[n0:0 n1:0 n2:1 n3:0]" {
		t.Fatalf("snapshot %s", got)
	}
	for _, n := range snap.Nodes {
		if before[n.Name] != n {
			t.Errorf("%s: the snapshot's NodeInfo was replaced, not updated in place", n.Name)
		}
		if changed := n.Generation != gens[n.Name]; changed != (n.Name == "n2") {
			t.Errorf("%s: generation changed %v", n.Name, changed)
		}
	}
	// The snapshot is a copy: the cache changing does not change it until the next update.
	_ = c.AssumePod(pod("q", "", "1").WithNode("n2"))
	if n := snap.Get("n2"); len(n.Pods) != 1 {
		t.Fatalf("snapshot changed without an update: %d pods", len(n.Pods))
	}
	c.UpdateSnapshot(snap)
	if n := snap.Get("n2"); len(n.Pods) != 2 {
		t.Fatalf("after update: %d pods", len(n.Pods))
	}
}

func TestSnapshotNodesComeAndGo(t *testing.T) {
	c := New()
	snap := &framework.Snapshot{}
	// A Pod bound to a Node not seen yet counts, on a Node no snapshot shows.
	c.AddPod(pod("early", "late-node", "1"))
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 {
		t.Fatalf("snapshot %s, want no nodes", names(snap))
	}
	c.AddNode(node("late-node", "z1"))
	c.AddNode(node("other", "z2"))
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[late-node:1 other:0]" {
		t.Fatalf("snapshot %s", got)
	}
	// A removed Node leaves the snapshot; its Pods still count until removed.
	c.RemoveNode("late-node")
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[other:0]" || snap.Get("late-node") != nil {
		t.Fatalf("snapshot %s", got)
	}
	if _, ok := c.NodeInfo("late-node"); !ok {
		t.Fatal("the pods of a removed node were dropped")
	}
	c.RemovePod("uid-early")
	if _, ok := c.NodeInfo("late-node"); ok {
		t.Fatal("an empty node without object is still cached")
	}
	c.RemoveNode("other")
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 || len(snap.ByName) != 0 {
		t.Fatalf("snapshot %s", names(snap))
	}
	// A Node's zone changes: the order follows.
	c.AddNode(node("a", "z1"))
	c.AddNode(node("b", "z1"))
	c.AddNode(node("c", "z2"))
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[a:0 c:0 b:0]" {
		t.Fatalf("snapshot %s, want zones interleaved", got)
	}
	c.UpdateNode(node("b", "z3"))
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[a:0 c:0 b:0]" {
		t.Fatalf("snapshot %s", got)
	}
	c.UpdateNode(node("a", "z2"))
	c.UpdateSnapshot(snap)
	if got := names(snap); got != "[a:0 b:0 c:0]" {
		t.Fatalf("snapshot %s after a moved to z2", got)
	}
	// Label columns follow label changes.
	zone := func(name string) int32 {
		col := snap.LabelColumn(framework.LabelZone)
		return col.IDs[snap.Get(name).Index]
	}
	if zone("b") == zone("c") || zone("a") != zone("c") {
		t.Fatalf("zone ids a=%d b=%d c=%d", zone("a"), zone("b"), zone("c"))
	}
	n := node("c", "z3")
	n.Metadata.Labels["extra"] = "1"
	c.UpdateNode(n)
	c.UpdateSnapshot(snap)
	if zone("b") != zone("c") || zone("a") == zone("c") {
		t.Fatalf("after c moved to z3: zone ids a=%d b=%d c=%d", zone("a"), zone("b"), zone("c"))
	}
	if col := snap.LabelColumn("extra"); col.IDs[snap.Get("c").Index] != col.ID("1") || col.ID("2") != framework.NoSuchValue {
		t.Fatalf("column of extra: %v", col.IDs)
	}
}
