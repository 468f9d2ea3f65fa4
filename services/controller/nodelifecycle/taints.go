package nodelifecycle

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Taints the controller manages, Kubernetes' well-known ones.
const (
	TaintNotReady           = "node.kubernetes.io/not-ready"
	TaintUnreachable        = "node.kubernetes.io/unreachable"
	TaintUnschedulable      = "node.kubernetes.io/unschedulable"
	TaintMemoryPressure     = "node.kubernetes.io/memory-pressure"
	TaintDiskPressure       = "node.kubernetes.io/disk-pressure"
	TaintPIDPressure        = "node.kubernetes.io/pid-pressure"
	TaintNetworkUnavailable = "node.kubernetes.io/network-unavailable"

	EffectNoSchedule = "NoSchedule"
	EffectNoExecute  = "NoExecute"
)

// conditionTaints maps a Node condition's type and status to the key of the NoSchedule taint
// it gives the Node, in the order they are added.
var conditionTaints = []struct{ condition, status, taint string }{
	{ConditionReady, StatusFalse, TaintNotReady},
	{ConditionReady, StatusUnknown, TaintUnreachable},
	{ConditionMemoryPressure, StatusTrue, TaintMemoryPressure},
	{ConditionDiskPressure, StatusTrue, TaintDiskPressure},
	{ConditionNetworkUnavailable, StatusTrue, TaintNetworkUnavailable},
	{ConditionPIDPressure, StatusTrue, TaintPIDPressure},
}

// managed reports whether the controller owns the taint key:effect.
func managed(key, effect string) bool {
	switch effect {
	case EffectNoExecute:
		return key == TaintNotReady || key == TaintUnreachable
	case EffectNoSchedule:
		if key == TaintUnschedulable {
			return true
		}
		for _, ct := range conditionTaints {
			if ct.taint == key {
				return true
			}
		}
	}
	return false
}

// wantedTaints are the key:effect pairs of the taints the controller wants on node, in the
// order they are added. The NoExecute taint follows the Ready condition; keepNoExecute is
// true when the Node has no Ready condition yet, so that its NoExecute taints stay as they are.
func wantedTaints(node *corev1.Node) (want [][2]string, keepNoExecute bool) {
	status := node.GetStatus()
	for _, ct := range conditionTaints {
		if condition(status, ct.condition).GetStatus() == ct.status {
			want = append(want, [2]string{ct.taint, EffectNoSchedule})
		}
	}
	if node.GetSpec().GetUnschedulable() {
		want = append(want, [2]string{TaintUnschedulable, EffectNoSchedule})
	}
	ready := condition(status, ConditionReady)
	switch ready.GetStatus() {
	case StatusFalse:
		want = append(want, [2]string{TaintNotReady, EffectNoExecute})
	case StatusUnknown:
		want = append(want, [2]string{TaintUnreachable, EffectNoExecute})
	}
	return want, ready == nil
}

// reconcileTaints returns the taints node should have: its own, minus the managed ones it no
// longer warrants, plus the ones it warrants and lacks (timeAdded now). It reports whether they
// differ from the Node's. strip and allowNew are the zones' NoExecute policy (see
// zones.noExecutePolicy).
func reconcileTaints(node *corev1.Node, now time.Time, strip, allowNew bool) ([]*corev1.Taint, bool) {
	want, keepNoExecute := wantedTaints(node)
	if strip || !allowNew {
		old := node.GetSpec().GetTaints()
		swap := hasTaint(old, TaintNotReady, EffectNoExecute) || hasTaint(old, TaintUnreachable, EffectNoExecute)
		want = slices.DeleteFunc(want, func(kv [2]string) bool {
			return kv[1] == EffectNoExecute && (strip || !(swap || hasTaint(old, kv[0], kv[1])))
		})
		keepNoExecute = keepNoExecute && !strip
	}
	old := node.GetSpec().GetTaints()
	out := make([]*corev1.Taint, 0, len(old)+len(want))
	have := map[[2]string]bool{}
	changed := false
	for _, t := range old {
		kv := [2]string{t.GetKey(), t.GetEffect()}
		keep := !managed(kv[0], kv[1]) || slices.Contains(want, kv) || (keepNoExecute && kv[1] == EffectNoExecute)
		if !keep || have[kv] {
			changed = true
			continue
		}
		have[kv] = true
		out = append(out, t)
	}
	for _, kv := range want {
		if !have[kv] {
			out = append(out, &corev1.Taint{Key: kv[0], Effect: kv[1], TimeAdded: timestamp(now)})
			changed = true
		}
	}
	return out, changed
}

// hasTaint reports whether taints hold key:effect.
func hasTaint(taints []*corev1.Taint, key, effect string) bool {
	return slices.ContainsFunc(taints, func(t *corev1.Taint) bool { return t.GetKey() == key && t.GetEffect() == effect })
}

// syncTaints gives node the taints its conditions and its zone warrant, and returns the Node
// as stored.
func (n *Controller) syncTaints(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	strip, allowNew := n.zones.noExecutePolicy(zoneKey(node.GetMetadata().GetLabels()))
	taints, changed := reconcileTaints(node, now, strip, allowNew)
	if !changed {
		return node, nil
	}
	upd := proto.Clone(node).(*corev1.Node) // never modify the cache's copy
	if upd.Spec == nil {
		upd.Spec = &corev1.NodeSpec{}
	}
	upd.Spec.Taints = taints
	out, err := n.client.Resource(scheme.Nodes).Update(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("update taints of node %s: %w", node.GetMetadata().GetName(), err)
	}
	stored := out.(*corev1.Node)
	controller.LoggerFrom(ctx).Info("node taints updated", "taints", taintList(stored.GetSpec().GetTaints()))
	if hasTaint(node.GetSpec().GetTaints(), TaintUnreachable, EffectNoExecute) &&
		condition(stored.GetStatus(), ConditionReady).GetStatus() == StatusTrue {
		// Back from unreachable: its agent, cut off meanwhile, does not know it was marked.
		n.event(stored, events.Normal, "NodeReady", "Node %s status is now: %s", stored.GetMetadata().GetName(), "NodeReady")
	}
	return stored, nil
}

// taintList is taints as kubectl prints them, for logs.
func taintList(taints []*corev1.Taint) []string {
	out := make([]string, 0, len(taints))
	for _, t := range taints {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		out = append(out, s+":"+t.GetEffect())
	}
	return out
}
