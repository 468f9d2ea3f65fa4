package replicaset

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// ConditionReplicaFailure is the condition set while Pods cannot be created or deleted.
const ConditionReplicaFailure = "ReplicaFailure"

// calculateStatus is the owner's status given the Pods it controls and the error, if any, of
// creating or deleting Pods (Kubernetes' calculateStatus). observedGeneration is left to
// updateStatus.
func calculateStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) *appsv1.ReplicaSetStatus {
	st := &appsv1.ReplicaSetStatus{}
	if rs.GetStatus() != nil {
		st = proto.Clone(rs.GetStatus()).(*appsv1.ReplicaSetStatus)
	}
	templateLabels := labels.SelectorFromSet(rs.GetSpec().GetTemplate().GetMetadata().GetLabels())
	minReady := time.Duration(rs.GetSpec().GetMinReadySeconds()) * time.Second
	var fully, ready, available int32
	for _, p := range pods {
		if templateLabels.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			fully++
		}
		if isReady(p) {
			ready++
			if isAvailable(p, minReady, now) {
				available++
			}
		}
	}
	failure := condition(st, ConditionReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := len(pods) - replicas(rs); diff < 0 {
			reason = "FailedCreate"
		} else if diff > 0 {
			reason = "FailedDelete"
		}
		st.Conditions = append(st.Conditions, &appsv1.ReplicaSetCondition{
			Type: ConditionReplicaFailure, Status: "True", Reason: reason, Message: manageErr.Error(),
			LastTransitionTime: timestamppb.New(now.Truncate(time.Second)),
		})
	case manageErr == nil && failure != nil:
		conds := st.Conditions[:0]
		for _, c := range st.Conditions {
			if c.GetType() != ConditionReplicaFailure {
				conds = append(conds, c)
			}
		}
		st.Conditions = conds
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = fully
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	return st
}

// condition is the status's condition of type t, or nil.
func condition(st *appsv1.ReplicaSetStatus, t string) *appsv1.ReplicaSetCondition {
	for _, c := range st.GetConditions() {
		if c.GetType() == t {
			return c
		}
	}
	return nil
}

// updateStatus writes status, with observedGeneration, to the owner when it differs from the
// stored one, and returns the owner as a ReplicaSet as it then stands.
func (r *Controller) updateStatus(ctx context.Context, owner scheme.Object, rs *appsv1.ReplicaSet, st *appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	st.ObservedGeneration = rs.GetMetadata().GetGeneration()
	cur := rs.GetStatus()
	if cur == nil {
		cur = &appsv1.ReplicaSetStatus{}
	}
	if proto.Equal(cur, st) {
		return rs, nil
	}
	owners := r.client.Resource(r.kind.res)
	out, err := owners.UpdateStatus(ctx, r.kind.withStatus(owner, st))
	if kerrors.IsConflict(err) {
		// The cache is behind, often only by this controller's own last status write: retry
		// once on the stored owner when its spec is still the one the status describes.
		md := owner.GetMetadata()
		fresh, gerr := owners.Get(ctx, md.GetNamespace(), md.GetName())
		if gerr != nil || fresh.GetMetadata().GetUid() != md.GetUid() || fresh.GetMetadata().GetGeneration() != md.GetGeneration() {
			return nil, err
		}
		out, err = owners.UpdateStatus(ctx, r.kind.withStatus(fresh, st))
	}
	if err != nil {
		return nil, err
	}
	return r.kind.asReplicaSet(out), nil
}
