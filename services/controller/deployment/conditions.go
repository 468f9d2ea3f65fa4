package deployment

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
)

// timestamp is t as the apiserver keeps it: whole seconds, as Kubernetes' metav1.Time.
func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.Truncate(time.Second)) }

// newCondition is a Deployment condition updated and transitioned at now.
func newCondition(typ, status, reason, message string, now time.Time) *appsv1.DeploymentCondition {
	return &appsv1.DeploymentCondition{
		Type: typ, Status: status, Reason: reason, Message: message,
		LastUpdateTime: timestamp(now), LastTransitionTime: timestamp(now),
	}
}

// getCondition returns the condition of type typ in st, or nil.
func getCondition(st *appsv1.DeploymentStatus, typ string) *appsv1.DeploymentCondition {
	for _, c := range st.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// setCondition puts c in st as Kubernetes' SetDeploymentCondition does: nothing changes when
// a condition of that type has the same status and reason; otherwise it replaces it (moved to
// the end), keeping the old transition time when the status is the same.
func setCondition(st *appsv1.DeploymentStatus, c *appsv1.DeploymentCondition) {
	cur := getCondition(st, c.GetType())
	if cur != nil && cur.GetStatus() == c.GetStatus() && cur.GetReason() == c.GetReason() {
		return
	}
	c = proto.Clone(c).(*appsv1.DeploymentCondition)
	if cur != nil && cur.GetStatus() == c.GetStatus() {
		c.LastTransitionTime = cur.GetLastTransitionTime()
	}
	removeCondition(st, c.GetType())
	st.Conditions = append(st.Conditions, c)
}

// removeCondition drops the condition of type typ from st.
func removeCondition(st *appsv1.DeploymentStatus, typ string) {
	var out []*appsv1.DeploymentCondition
	for _, c := range st.GetConditions() {
		if c.GetType() != typ {
			out = append(out, c)
		}
	}
	st.Conditions = out
}

// replicaFailures returns the ReplicaFailure conditions of the new ReplicaSet, or else of
// the others, as Deployment conditions.
func replicaFailures(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.DeploymentCondition {
	collect := func(rs *appsv1.ReplicaSet, out []*appsv1.DeploymentCondition) []*appsv1.DeploymentCondition {
		for _, c := range rs.GetStatus().GetConditions() {
			if c.GetType() != ConditionReplicaFailure {
				continue
			}
			out = append(out, &appsv1.DeploymentCondition{
				Type: c.GetType(), Status: c.GetStatus(), Reason: c.GetReason(), Message: c.GetMessage(),
				LastUpdateTime: c.GetLastTransitionTime(), LastTransitionTime: c.GetLastTransitionTime(),
			})
		}
		return out
	}
	var out []*appsv1.DeploymentCondition
	if newRS != nil {
		out = collect(newRS, out)
	}
	if len(out) > 0 {
		return out
	}
	for _, rs := range allRSs {
		if rs != nil {
			out = collect(rs, out)
		}
	}
	return out
}

// calculateStatus is d's status as its ReplicaSets show it, with the Available condition
// brought up to date and the other conditions kept.
func calculateStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment, now time.Time) *appsv1.DeploymentStatus {
	all := nonNil(allRSs)
	available := availableReplicas(all)
	unavailable := max(specReplicas(all)-available, 0)
	var updated int32
	if newRS != nil {
		updated = newRS.GetStatus().GetReplicas()
	}
	st := &appsv1.DeploymentStatus{
		ObservedGeneration:  d.GetMetadata().GetGeneration(),
		Replicas:            actualReplicas(all),
		UpdatedReplicas:     updated,
		ReadyReplicas:       readyReplicas(all),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.GetStatus().CollisionCount,
	}
	for _, c := range d.GetStatus().GetConditions() {
		st.Conditions = append(st.Conditions, proto.Clone(c).(*appsv1.DeploymentCondition))
	}
	if available >= replicas(d)-maxUnavailable(d) {
		setCondition(st, newCondition(ConditionAvailable, "True", ReasonMinimumReplicasAvailable, "Deployment has minimum availability.", now))
	} else {
		setCondition(st, newCondition(ConditionAvailable, "False", ReasonMinimumReplicasUnavailable, "Deployment does not have minimum availability.", now))
	}
	return st
}

// nonNil drops nil entries (allRSs carries a nil new ReplicaSet before it exists).
func nonNil(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, 0, len(rss))
	for _, rs := range rss {
		if rs != nil {
			out = append(out, rs)
		}
	}
	return out
}
