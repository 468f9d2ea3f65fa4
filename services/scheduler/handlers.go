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
func (s *Scheduler) responsible(p *corev1.Pod) bool {
	return p.GetSpec().GetSchedulerName() == s.cfg.SchedulerName
}

func (s *Scheduler) onPodAdd(obj scheme.Object) {
	p := obj.(*corev1.Pod)
	switch {
	case assigned(p):
		s.cache.AddPod(framework.NewPodInfo(p))
	case s.responsible(p) && p.GetMetadata().GetDeletionTimestamp() == nil:
		s.queue.Add(framework.NewPodInfo(p))
	}
}

func (s *Scheduler) onPodUpdate(oldObj, obj scheme.Object) {
	old, p := oldObj.(*corev1.Pod), obj.(*corev1.Pod)
	if assigned(p) {
		if !assigned(old) {
			s.queue.Delete(framework.NewPodInfo(p).Key)
		}
		s.cache.UpdatePod(framework.NewPodInfo(p))
		return
	}
	if !s.responsible(p) {
		return
	}
	pi := framework.NewPodInfo(p)
	if pi.Terminating {
		s.queue.Delete(pi.Key)
		return
	}
	if s.cache.IsAssumed(pi.UID) {
		return // being bound; a failed binding re-reads it
	}
	s.queue.Update(pi)
}

func (s *Scheduler) onPodDelete(obj scheme.Object) {
	p := obj.(*corev1.Pod)
	pi := framework.NewPodInfo(p)
	if assigned(p) || s.cache.IsAssumed(pi.UID) {
		s.cache.RemovePod(pi.UID)
		s.queue.MoveAllToActiveOrBackoff()
	}
	if !assigned(p) {
		s.queue.Delete(pi.Key)
	}
}

func (s *Scheduler) onNodeAdd(obj scheme.Object) {
	s.cache.AddNode(obj.(*corev1.Node))
	s.queue.MoveAllToActiveOrBackoff()
}

func (s *Scheduler) onNodeUpdate(oldObj, obj scheme.Object) {
	old, n := oldObj.(*corev1.Node), obj.(*corev1.Node)
	s.cache.UpdateNode(n)
	if nodeChanged(old, n) {
		s.queue.MoveAllToActiveOrBackoff()
	}
}

func (s *Scheduler) onNodeDelete(obj scheme.Object) {
	s.cache.RemoveNode(obj.GetMetadata().GetName())
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
