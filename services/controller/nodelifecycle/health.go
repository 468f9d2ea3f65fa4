package nodelifecycle

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Node condition types and statuses.
const (
	ConditionReady              = "Ready"
	ConditionMemoryPressure     = "MemoryPressure"
	ConditionDiskPressure       = "DiskPressure"
	ConditionPIDPressure        = "PIDPressure"
	ConditionNetworkUnavailable = "NetworkUnavailable"

	StatusTrue    = "True"
	StatusFalse   = "False"
	StatusUnknown = "Unknown"
)

// Reasons and messages of the conditions of a Node that stopped posting its status, as
// Kubernetes words them.
const (
	ReasonStatusUnknown       = "NodeStatusUnknown"
	MessageStatusUnknown      = "Kubelet stopped posting node status."
	ReasonStatusNeverUpdated  = "NodeStatusNeverUpdated"
	MessageStatusNeverUpdated = "Kubelet never posted node status."
)

// unknownConditionTypes are the conditions a silent Node gets as Unknown, in Kubernetes'
// order (NetworkUnavailable is left alone: the network provider owns it).
var unknownConditionTypes = []string{ConditionReady, ConditionMemoryPressure, ConditionDiskPressure, ConditionPIDPressure}

// health is what the controller last saw of one Node's heartbeats.
type health struct {
	// probe is when, on the controller's clock, the last heartbeat was seen.
	probe time.Time
	// heartbeat is the Ready condition's lastHeartbeatTime and hasReady whether there was a
	// Ready condition, as last seen.
	heartbeat time.Time
	hasReady  bool
	// renew is the Lease's renewTime as last seen (zero: no Lease).
	renew time.Time
}

// observe records the heartbeats node and its lease (nil when it has none) show at now, and
// returns when the controller saw the Node's last heartbeat. A Node seen for the first time
// counts as having just sent one.
func (n *Controller) observe(node *corev1.Node, lease *coordinationv1.Lease, now time.Time) time.Time {
	ready := condition(node.GetStatus(), ConditionReady)
	var beat, renew time.Time
	if ts := ready.GetLastHeartbeatTime(); ts != nil {
		beat = ts.AsTime()
	}
	if ts := lease.GetSpec().GetRenewTime(); ts != nil {
		renew = ts.AsTime()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	name := node.GetMetadata().GetName()
	h, ok := n.health[name]
	switch {
	case !ok:
		h = &health{probe: now}
		n.health[name] = h
	case !beat.Equal(h.heartbeat) || (ready != nil) != h.hasReady:
		h.probe = now
	case !renew.IsZero() && !renew.Equal(h.renew):
		h.probe = now
	}
	h.heartbeat, h.hasReady, h.renew = beat, ready != nil, renew
	return h.probe
}

// forget drops what the controller knows of a Node that is gone.
func (n *Controller) forget(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.health, name)
	delete(n.firstSeen, name)
	delete(n.pending, name)
}

// condition returns the condition of type typ of status, nil when it has none.
func condition(status *corev1.NodeStatus, typ string) *corev1.NodeCondition {
	for _, c := range status.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// markUnknown does to status what Kubernetes does to the status of a Node that stopped
// posting it: each condition of unknownConditionTypes becomes Unknown (NodeStatusUnknown,
// its transition time now, its heartbeat time kept), and a missing one is added as Unknown
// with NodeStatusNeverUpdated and the Node's creation time as heartbeat. It reports whether
// anything changed.
func markUnknown(status *corev1.NodeStatus, created *timestamppb.Timestamp, now time.Time) bool {
	ts := timestamp(now)
	changed := false
	for _, typ := range unknownConditionTypes {
		c := condition(status, typ)
		switch {
		case c == nil:
			status.Conditions = append(status.Conditions, &corev1.NodeCondition{
				Type: typ, Status: StatusUnknown,
				Reason: ReasonStatusNeverUpdated, Message: MessageStatusNeverUpdated,
				LastHeartbeatTime: created, LastTransitionTime: ts,
			})
			changed = true
		case c.GetStatus() != StatusUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = StatusUnknown, ReasonStatusUnknown, MessageStatusUnknown, ts
			changed = true
		}
	}
	return changed
}

// timestamp is t as the API stores times (whole seconds).
func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.Truncate(time.Second)) }
