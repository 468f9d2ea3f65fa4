package nodelifecycle

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The condition an orphaned Pod gets before the controller deletes it, as Kubernetes' pod GC
// sets it.
const (
	ReasonPodGC  = "DeletionByPodGC"
	MessagePodGC = "PodGC: node no longer exists"
)

// podsOn returns the Pods bound to the Node name, from the cache.
func (n *Controller) podsOn(name string) []*corev1.Pod {
	pods, err := n.pods.ByIndex(IndexNodeName, name)
	if err != nil { // New adds the index: cannot happen
		panic(fmt.Sprintf("nodelifecycle: pods by node: %v", err))
	}
	return pods
}

// setPodCondition sets cond in status as Kubernetes does: its transition time moves to now
// only when its status changes. It reports whether anything changed.
func setPodCondition(status *corev1.PodStatus, cond *corev1.PodCondition, now time.Time) bool {
	for _, c := range status.Conditions {
		if c.GetType() != cond.GetType() {
			continue
		}
		if c.GetStatus() == cond.GetStatus() && c.GetReason() == cond.GetReason() && c.GetMessage() == cond.GetMessage() {
			return false
		}
		if c.GetStatus() != cond.GetStatus() {
			c.LastTransitionTime = timestamp(now)
		}
		c.Status, c.Reason, c.Message = cond.GetStatus(), cond.GetReason(), cond.GetMessage()
		return true
	}
	c := proto.Clone(cond).(*corev1.PodCondition)
	c.LastTransitionTime = timestamp(now)
	status.Conditions = append(status.Conditions, c)
	return true
}

// markPodsNotReady sets the Ready condition of the Pods of node to False, as Kubernetes'
// MarkPodsNotReady does, so that endpoints drop them; Pods without a Ready condition are left
// alone.
func (n *Controller) markPodsNotReady(ctx context.Context, node *corev1.Node, pods []*corev1.Pod, now time.Time) error {
	var errs []error
	for _, pod := range pods {
		var ready *corev1.PodCondition
		for _, c := range pod.GetStatus().GetConditions() {
			if c.GetType() == "Ready" {
				ready = c
			}
		}
		if ready == nil || ready.GetStatus() == StatusFalse {
			continue
		}
		upd := proto.Clone(pod).(*corev1.Pod)
		want := proto.Clone(ready).(*corev1.PodCondition)
		want.Status = StatusFalse
		setPodCondition(upd.Status, want, now)
		md := pod.GetMetadata()
		key := scheme.Key(md.GetNamespace(), md.GetName())
		_, err := n.client.Resource(scheme.Pods).UpdateStatus(ctx, upd)
		if kerrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mark pod %s not ready: %w", key, err))
			continue
		}
		controller.LoggerFrom(ctx).Info("pod marked not ready", "pod", key)
		n.event(pod, events.Warning, "NodeNotReady", "Node is not ready")
	}
	return utilerrors.NewAggregate(errs)
}

// collectOrphans deletes the Pods bound to the Node name, which does not exist, once they have
// been found so for the quarantine and the apiserver confirms the Node is gone.
func (n *Controller) collectOrphans(ctx context.Context, name string) (controller.Result, error) {
	n.forget(name)
	pods := n.podsOn(name)
	now := n.now()
	n.mu.Lock()
	if len(pods) == 0 {
		delete(n.missing, name)
		n.mu.Unlock()
		return controller.Result{}, nil
	}
	first, ok := n.missing[name]
	if !ok {
		first = now
		n.missing[name] = now
	}
	n.mu.Unlock()
	if wait := first.Add(n.opts.PodGCQuarantine).Sub(now); wait > 0 {
		return controller.Result{RequeueAfter: wait}, nil
	}
	_, err := n.client.Resource(scheme.Nodes).Get(ctx, "", name)
	if err == nil {
		return controller.Result{}, nil // the cache is behind: the Node's add brings it back here
	}
	if !kerrors.IsNotFound(err) {
		return controller.Result{}, fmt.Errorf("read node %s: %w", name, err)
	}
	var errs []error
	for _, pod := range pods {
		if err := n.deleteOrphan(ctx, pod, now); err != nil {
			errs = append(errs, err)
		}
	}
	return controller.Result{}, utilerrors.NewAggregate(errs)
}

// deleteOrphan marks pod Failed (condition DisruptionTarget, DeletionByPodGC) unless it has
// finished, and deletes it at once: no agent is left to finish it.
func (n *Controller) deleteOrphan(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	md := pod.GetMetadata()
	key := scheme.Key(md.GetNamespace(), md.GetName())
	pods := n.client.Resource(scheme.Pods)
	if p := pod.GetStatus().GetPhase(); p != "Succeeded" && p != "Failed" {
		upd := proto.Clone(pod).(*corev1.Pod)
		if upd.Status == nil {
			upd.Status = &corev1.PodStatus{}
		}
		upd.Status.Phase = "Failed"
		setPodCondition(upd.Status, &corev1.PodCondition{
			Type: ConditionDisruptionTarget, Status: StatusTrue, Reason: ReasonPodGC, Message: MessagePodGC,
		}, now)
		_, err := pods.UpdateStatus(ctx, upd)
		if kerrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark orphaned pod %s failed: %w", key, err)
		}
	}
	controller.LoggerFrom(ctx).Info("found orphaned pod assigned to the node, deleting", "pod", key, "node", pod.GetSpec().GetNodeName())
	zero := int64(0)
	_, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: md.GetNamespace(), Name: md.GetName(), GracePeriodSeconds: &zero})
	if err != nil && !kerrors.IsNotFound(err) {
		return fmt.Errorf("delete orphaned pod %s: %w", key, err)
	}
	return nil
}
