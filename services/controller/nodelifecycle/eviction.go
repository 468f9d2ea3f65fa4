package nodelifecycle

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The condition a Pod gets before the controller deletes it, as Kubernetes sets it.
const (
	ConditionDisruptionTarget = "DisruptionTarget"
	ReasonTaintEviction       = "DeletionByTaintManager"
	MessageTaintEviction      = "Taint manager: deleting due to NoExecute taint"
)

// tolerates reports whether tol tolerates taint, by Kubernetes' rules: an empty effect
// matches every effect, an empty key with Exists every key, Exists every value, Equal (or no
// operator) the same value.
func tolerates(tol *corev1.Toleration, taint *corev1.Taint) bool {
	if e := tol.GetEffect(); e != "" && e != taint.GetEffect() {
		return false
	}
	if k := tol.GetKey(); k != "" && k != taint.GetKey() {
		return false
	}
	switch tol.GetOperator() {
	case "Exists":
		return true
	case "", "Equal":
		return tol.GetValue() == taint.GetValue()
	}
	return false
}

// evictAfter says when a Pod with tolerations tols must leave a Node with the NoExecute taints
// taints, each present since started(taint): after the returned delay (0: now), or never
// when never is true. It follows Kubernetes' taint eviction: a taint that no toleration
// matches evicts at once, except node.kubernetes.io/not-ready and unreachable, which Berth's
// Pods tolerate for timeout (Kubernetes' DefaultTolerationSeconds admission gives every Pod
// such tolerations); otherwise the Pod stays the smallest tolerationSeconds of the matching
// tolerations (none set: forever), counted from when the earliest taint appeared.
func evictAfter(tols []*corev1.Toleration, taints []*corev1.Taint, started func(*corev1.Taint) time.Time, now time.Time, timeout time.Duration) (after time.Duration, never bool) {
	if len(taints) == 0 {
		return 0, true
	}
	least := time.Duration(math.MaxInt64)
	var since time.Time
	for _, taint := range taints {
		if s := started(taint); since.IsZero() || s.Before(since) {
			since = s
		}
		matched := false
		for _, tol := range tols {
			if !tolerates(tol, taint) {
				continue
			}
			matched = true
			if secs := tol.TolerationSeconds; secs != nil {
				least = min(least, time.Duration(max(*secs, 0))*time.Second)
			}
		}
		if !matched {
			if taint.GetKey() != TaintNotReady && taint.GetKey() != TaintUnreachable {
				return 0, false
			}
			least = min(least, timeout)
		}
	}
	if least == time.Duration(math.MaxInt64) {
		return 0, true
	}
	return max(since.Add(least).Sub(now), 0), false
}

// noExecuteTaints are the NoExecute taints of node.
func noExecuteTaints(node *corev1.Node) []*corev1.Taint {
	var out []*corev1.Taint
	for _, t := range node.GetSpec().GetTaints() {
		if t.GetEffect() == EffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// taintStarts returns when each NoExecute taint of node appeared: its timeAdded, else when
// the controller first saw it.
func (n *Controller) taintStarts(node *corev1.Node, taints []*corev1.Taint, now time.Time) func(*corev1.Taint) time.Time {
	name := node.GetMetadata().GetName()
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := n.firstSeen[name]
	next := map[string]time.Time{}
	for _, t := range taints {
		if t.GetTimeAdded() != nil {
			continue
		}
		id := t.GetKey() + "\x00" + t.GetValue()
		if s, ok := seen[id]; ok {
			next[id] = s
		} else {
			next[id] = now
		}
	}
	if len(next) == 0 {
		delete(n.firstSeen, name)
	} else {
		n.firstSeen[name] = next
	}
	return func(t *corev1.Taint) time.Time {
		if ts := t.GetTimeAdded(); ts != nil {
			return ts.AsTime()
		}
		return next[t.GetKey()+"\x00"+t.GetValue()]
	}
}

// evictPods deletes the Pods of node whose time is up, and returns how long until the next
// one's is (0 when none is due).
func (n *Controller) evictPods(ctx context.Context, node *corev1.Node, pods []*corev1.Pod, now time.Time) (time.Duration, error) {
	taints := noExecuteTaints(node)
	name := node.GetMetadata().GetName()
	n.mu.Lock()
	idle := len(taints) == 0 && len(n.pending[name]) == 0 && n.firstSeen[name] == nil
	n.mu.Unlock()
	if idle { // the usual case: nothing to evict, nothing scheduled
		return 0, nil
	}
	started := n.taintStarts(node, taints, now)
	var next soonest
	var errs []error
	pending := map[string]bool{}
	n.mu.Lock()
	before := n.pending[name]
	n.mu.Unlock()
	for _, pod := range pods {
		md := pod.GetMetadata()
		if md.GetDeletionTimestamp() != nil {
			continue
		}
		key := scheme.Key(md.GetNamespace(), md.GetName())
		after, never := evictAfter(pod.GetSpec().GetTolerations(), taints, started, now, n.opts.PodEvictionTimeout)
		switch {
		case never:
			if before[key] {
				n.evictionEvent(pod, "TaintManagerEviction", "Cancelling deletion of Pod %s", key)
			}
		case after > 0:
			pending[key] = true
			next.in(after)
		default:
			if err := n.evict(ctx, pod, now); err != nil {
				errs = append(errs, err)
				pending[key] = true
			}
		}
	}
	n.mu.Lock()
	if len(pending) == 0 {
		delete(n.pending, name)
	} else {
		n.pending[name] = pending
	}
	n.mu.Unlock()
	return next.d, utilerrors.NewAggregate(errs)
}

// evict deletes pod as Kubernetes' taint eviction does: the condition DisruptionTarget
// first, then a graceful delete.
func (n *Controller) evict(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	md := pod.GetMetadata()
	key := scheme.Key(md.GetNamespace(), md.GetName())
	pods := n.client.Resource(scheme.Pods)
	upd := proto.Clone(pod).(*corev1.Pod)
	if upd.Status == nil {
		upd.Status = &corev1.PodStatus{}
	}
	if setPodCondition(upd.Status, &corev1.PodCondition{
		Type: ConditionDisruptionTarget, Status: StatusTrue, Reason: ReasonTaintEviction, Message: MessageTaintEviction,
	}, now) {
		_, err := pods.UpdateStatus(ctx, upd)
		if kerrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("set condition %s of pod %s: %w", ConditionDisruptionTarget, key, err)
		}
	}
	n.evictionEvent(pod, "TaintManagerEviction", "Marking for deletion Pod %s", key)
	controller.LoggerFrom(ctx).Info("evicting pod", "pod", key)
	_, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: md.GetNamespace(), Name: md.GetName()})
	if err != nil && !kerrors.IsNotFound(err) {
		return fmt.Errorf("evict pod %s: %w", key, err)
	}
	return nil
}

// soonest keeps the shortest positive delay it is given.
type soonest struct{ d time.Duration }

func (s *soonest) in(d time.Duration) {
	if d > 0 && (s.d == 0 || d < s.d) {
		s.d = d
	}
}
