package replicaset

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// kind adapts one owner kind to the reconcile loop, which works on ReplicaSets: as in
// Kubernetes, a ReplicationController is read as a ReplicaSet whose selector is its equality
// map, and its status written back from a ReplicaSet's.
type kind struct {
	res *scheme.Resource
	// asReplicaSet views an owner from the cache as a ReplicaSet. The view may share fields
	// with the cached object: never modify it.
	asReplicaSet func(obj scheme.Object) *appsv1.ReplicaSet
	// withStatus returns a copy of the owner carrying status, to write through UpdateStatus.
	withStatus func(obj scheme.Object, status *appsv1.ReplicaSetStatus) scheme.Object
}

// kindOf returns the adapter of res: ReplicaSets or ReplicationControllers. Any other
// resource is a programming error: it panics.
func kindOf(res *scheme.Resource) *kind {
	switch res {
	case scheme.ReplicaSets:
		return &kind{
			res:          res,
			asReplicaSet: func(obj scheme.Object) *appsv1.ReplicaSet { return obj.(*appsv1.ReplicaSet) },
			withStatus: func(obj scheme.Object, st *appsv1.ReplicaSetStatus) scheme.Object {
				rs := proto.Clone(obj).(*appsv1.ReplicaSet)
				rs.Status = proto.Clone(st).(*appsv1.ReplicaSetStatus)
				return rs
			},
		}
	case scheme.ReplicationControllers:
		return &kind{res: res, asReplicaSet: rcAsReplicaSet, withStatus: rcWithStatus}
	}
	panic(fmt.Sprintf("replicaset: no controller for %s", res.GroupResource()))
}

// rcAsReplicaSet views a ReplicationController as a ReplicaSet.
func rcAsReplicaSet(obj scheme.Object) *appsv1.ReplicaSet {
	rc := obj.(*corev1.ReplicationController)
	spec := rc.GetSpec()
	rs := &appsv1.ReplicaSet{
		Metadata: rc.GetMetadata(),
		Spec: &appsv1.ReplicaSetSpec{
			Replicas:        spec.Replicas,
			MinReadySeconds: spec.GetMinReadySeconds(),
			Selector:        &metav1.LabelSelector{MatchLabels: spec.GetSelector()},
			Template:        spec.GetTemplate(),
		},
	}
	if st := rc.GetStatus(); st != nil {
		rs.Status = &appsv1.ReplicaSetStatus{
			Replicas: st.Replicas, FullyLabeledReplicas: st.FullyLabeledReplicas, ReadyReplicas: st.ReadyReplicas,
			AvailableReplicas: st.AvailableReplicas, ObservedGeneration: st.ObservedGeneration,
		}
		for _, c := range st.GetConditions() {
			rs.Status.Conditions = append(rs.Status.Conditions, &appsv1.ReplicaSetCondition{
				Type: c.Type, Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
			})
		}
	}
	return rs
}

// rcWithStatus copies a ReplicationController and gives it a ReplicaSet's status.
func rcWithStatus(obj scheme.Object, st *appsv1.ReplicaSetStatus) scheme.Object {
	rc := proto.Clone(obj).(*corev1.ReplicationController)
	rc.Status = &corev1.ReplicationControllerStatus{
		Replicas: st.GetReplicas(), FullyLabeledReplicas: st.GetFullyLabeledReplicas(), ReadyReplicas: st.GetReadyReplicas(),
		AvailableReplicas: st.GetAvailableReplicas(), ObservedGeneration: st.GetObservedGeneration(),
	}
	for _, c := range st.GetConditions() {
		c = proto.Clone(c).(*appsv1.ReplicaSetCondition)
		rc.Status.Conditions = append(rc.Status.Conditions, &corev1.ReplicationControllerCondition{
			Type: c.Type, Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rc
}

// replicas is spec.replicas, 1 when unset (as the apiserver defaults it).
func replicas(rs *appsv1.ReplicaSet) int {
	if r := rs.GetSpec().Replicas; r != nil {
		return int(*r)
	}
	return 1
}
