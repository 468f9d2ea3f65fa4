package scheduler

import (
	"maps"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// The informers' handlers keep the cache and the queue in step: bound Pods go to the cache,
// unbound Pods of this scheduler to the queue. They run on the informers' goroutines.

func assigned(p *corev1.Pod) bool { return p.GetSpec().GetNodeName() != "" }

// responsible reports whether this scheduler places p.
func (t *term) responsible(p *corev1.Pod) bool {
	return p.GetSpec().GetSchedulerName() == t.cfg.SchedulerName
}

func (t *term) onPodAdd(obj scheme.Object) {
	p := obj.(*corev1.Pod)
	switch {
	case assigned(p):
		t.cache.AddPod(framework.NewPodInfo(p))
	case t.responsible(p) && p.GetMetadata().GetDeletionTimestamp() == nil:
		t.queue.Add(framework.NewPodInfo(p))
	}
}

func (t *term) onPodUpdate(oldObj, obj scheme.Object) {
	old, p := oldObj.(*corev1.Pod), obj.(*corev1.Pod)
	if !assigned(p) && !t.responsible(p) {
		return
	}
	pi := framework.NewPodInfo(p)
	if assigned(p) {
		if !assigned(old) {
			t.queue.Delete(pi.Key)
		}
		t.cache.UpdatePod(pi)
		return
	}
	if pi.Terminating {
		t.queue.Delete(pi.Key)
		return
	}
	if t.cache.IsAssumed(pi.UID) {
		return // being bound; a failed binding re-reads it
	}
	t.queue.Update(pi)
}

func (t *term) onPodDelete(obj scheme.Object) {
	p := obj.(*corev1.Pod)
	pi := framework.NewPodInfo(p)
	if assigned(p) || t.cache.IsAssumed(pi.UID) {
		t.cache.RemovePod(pi.UID)
		t.queue.MoveAllToActiveOrBackoff()
	}
	if !assigned(p) {
		t.queue.Delete(pi.Key)
	}
}

func (t *term) onNodeAdd(obj scheme.Object) {
	t.cache.AddNode(obj.(*corev1.Node))
	t.queue.MoveAllToActiveOrBackoff()
}

func (t *term) onNodeUpdate(oldObj, obj scheme.Object) {
	old, n := oldObj.(*corev1.Node), obj.(*corev1.Node)
	t.cache.UpdateNode(n)
	if nodeChanged(old, n) {
		t.queue.MoveAllToActiveOrBackoff()
	}
}

func (t *term) onNodeDelete(obj scheme.Object) {
	t.cache.RemoveNode(obj.GetMetadata().GetName())
}

// nodeChanged reports whether a Node update may let a Pod fit that did not: its spec
// (unschedulable, taints), labels, allocatable or readiness changed — not a heartbeat.
func nodeChanged(old, n *corev1.Node) bool {
	return !proto.Equal(old.GetSpec(), n.GetSpec()) ||
		!maps.Equal(old.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()) ||
		!maps.Equal(old.GetStatus().GetAllocatable(), n.GetStatus().GetAllocatable()) ||
		ready(old) != ready(n)
}

func ready(n *corev1.Node) string {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}
