package scheduler

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/events"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
	"github.com/berth-dev/berth/services/scheduler/queue"
)

// Reasons of the PodScheduled condition, as Kubernetes'.
const (
	reasonUnschedulable  = "Unschedulable"
	reasonSchedulerError = "SchedulerError"
)

// rpcTimeout bounds each call to the apiserver.
const rpcTimeout = 30 * time.Second

// bind binds an assumed Pod on a goroutine of its own (at most BindConcurrency at once). On
// success the Pod's assumption waits for the informer to confirm it; on failure it is
// forgotten and, unless the Pod is gone or bound by someone else, the Pod is retried after
// a backoff.
func (t *term) bind(ctx context.Context, qp *queue.QueuedPod, assumed *framework.PodInfo, start time.Time) {
	ok := t.async(ctx, t.bindSem, func(ctx context.Context) {
		md := assumed.Pod.GetMetadata()
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := t.pods.Bind(rctx, &corev1.Binding{
			Metadata: &metav1.ObjectMeta{Namespace: md.GetNamespace(), Name: md.GetName(), Uid: md.GetUid()},
			Target:   &corev1.ObjectReference{Kind: "Node", ApiVersion: "v1", Name: assumed.NodeName},
		})
		cancel()
		if err != nil {
			t.cache.ForgetPod(assumed)
			t.metrics.attempt(resultError, start)
			if kerrors.IsConflict(err) || kerrors.IsNotFound(err) {
				// Bound by someone else, being deleted, or gone: the informer tells the rest.
				t.log.Debug("binding refused", "pod", assumed.Key, "node", assumed.NodeName, "err", err)
				return
			}
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("binding failed", "pod", assumed.Key, "node", assumed.NodeName, "err", err)
			t.queue.Requeue(qp, false)
			t.failed(ctx, assumed, reasonSchedulerError, "Binding rejected: "+err.Error())
			return
		}
		t.cache.FinishBinding(assumed)
		t.metrics.attempt(resultScheduled, start)
		t.metrics.e2e.Observe(time.Since(qp.FirstSeen).Seconds())
		t.rec.Eventf(assumed.Pod, events.Normal, "Scheduled", "Successfully assigned %s to %s", assumed.Key, assumed.NodeName)
	})
	if !ok {
		t.cache.ForgetPod(assumed)
	}
}

// failed reports a failed attempt: a Warning Event FailedScheduling with the message, and the
// condition PodScheduled=False with reason and message (written only when it changes).
func (t *term) failed(ctx context.Context, pi *framework.PodInfo, reason, msg string) {
	t.rec.Eventf(pi.Pod, events.Warning, "FailedScheduling", "%s", msg)
	if scheduledCondition(pi.Pod, reason, msg) {
		return
	}
	t.async(ctx, t.statusSem, func(ctx context.Context) { t.setCondition(ctx, pi, reason, msg) })
}

// scheduledCondition reports whether pod already has PodScheduled=False with reason and msg.
func scheduledCondition(pod *corev1.Pod, reason, msg string) bool {
	for _, c := range pod.GetStatus().GetConditions() {
		if c.GetType() == "PodScheduled" {
			return c.GetStatus() == "False" && c.GetReason() == reason && c.GetMessage() == msg
		}
	}
	return false
}

// setCondition writes PodScheduled=False through the status subresource, re-reading the Pod
// on a conflict. A Pod bound or replaced in the meantime is left alone.
func (t *term) setCondition(ctx context.Context, pi *framework.PodInfo, reason, msg string) {
	md := pi.Pod.GetMetadata()
	cur := pi.Pod
	if latest, ok := t.podLister.Get(md.GetNamespace(), md.GetName()); ok {
		cur = latest
	}
	for range 3 {
		if cur.GetMetadata().GetUid() != pi.UID || cur.GetSpec().GetNodeName() != "" || scheduledCondition(cur, reason, msg) {
			return
		}
		upd := proto.Clone(cur).(*corev1.Pod)
		setPodScheduledFalse(upd, reason, msg, time.Now())
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := t.pods.UpdateStatus(rctx, upd)
		if err == nil || !kerrors.IsConflict(err) {
			if err != nil && !kerrors.IsNotFound(err) && ctx.Err() == nil {
				t.log.Warn("update pod status", "pod", pi.Key, "err", err)
			}
			cancel()
			return
		}
		cur, err = t.pods.Get(rctx, &metav1.GetRequest{Namespace: md.GetNamespace(), Name: md.GetName()})
		cancel()
		if err != nil {
			return
		}
	}
}

// setPodScheduledFalse sets the PodScheduled condition as Kubernetes does: the transition
// time changes only with the status.
func setPodScheduledFalse(p *corev1.Pod, reason, msg string, now time.Time) {
	if p.Status == nil {
		p.Status = &corev1.PodStatus{}
	}
	if p.Status.Phase == "" {
		p.Status.Phase = "Pending"
	}
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" {
			if c.Status != "False" {
				c.LastTransitionTime = timestamppb.New(now)
			}
			c.Status, c.Reason, c.Message, c.LastProbeTime = "False", reason, msg, nil
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, &corev1.PodCondition{
		Type: "PodScheduled", Status: "False", Reason: reason, Message: msg, LastTransitionTime: timestamppb.New(now),
	})
}
