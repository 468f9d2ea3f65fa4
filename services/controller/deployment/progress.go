package deployment

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/controller"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
)

// syncRolloutStatus writes d's status during a rollout: counts, Available, Progressing
// (NewReplicaSetAvailable, ReplicaSetUpdated or ProgressDeadlineExceeded) and ReplicaFailure.
// When nothing changed it asks to be called again when the progress deadline would pass.
func (dc *Controller) syncRolloutStatus(ctx context.Context, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (controller.Result, error) {
	now := dc.now()
	st := calculateStatus(allRSs, newRS, d, now)
	if !hasProgressDeadline(d) {
		removeCondition(st, ConditionProgressing)
	}
	cur := getCondition(d.Status, ConditionProgressing)
	complete := st.GetReplicas() == st.GetUpdatedReplicas() && cur != nil && cur.GetReason() == ReasonNewReplicaSetAvailable
	if hasProgressDeadline(d) && !complete {
		name := func(format string) string {
			if newRS != nil {
				return fmt.Sprintf("ReplicaSet %q "+format, newRS.GetMetadata().GetName())
			}
			return fmt.Sprintf("Deployment %q "+format, d.GetMetadata().GetName())
		}
		switch {
		case deploymentComplete(d, st):
			setCondition(st, newCondition(ConditionProgressing, "True", ReasonNewReplicaSetAvailable, name("has successfully progressed."), now))
		case deploymentProgressing(d, st):
			// Progress moves lastUpdateTime even when the reason stays the same.
			c := newCondition(ConditionProgressing, "True", ReasonReplicaSetUpdated, name("is progressing."), now)
			if cur != nil {
				if cur.GetStatus() == "True" {
					c.LastTransitionTime = cur.GetLastTransitionTime()
				}
				removeCondition(st, ConditionProgressing)
			}
			setCondition(st, c)
		case deploymentTimedOut(d, st, now):
			setCondition(st, newCondition(ConditionProgressing, "False", ReasonTimedOut, name("has timed out progressing."), now))
		}
	}
	if failures := replicaFailures(allRSs, newRS); len(failures) > 0 {
		setCondition(st, failures[0])
	} else {
		removeCondition(st, ConditionReplicaFailure)
	}
	if proto.Equal(d.Status, st) {
		return controller.Result{RequeueAfter: dc.requeueStuck(d, st)}, nil
	}
	d.Status = st
	if err := dc.updateStatus(ctx, d); err != nil {
		return controller.Result{}, fmt.Errorf("update status of deployment: %w", err)
	}
	return controller.Result{}, nil
}

// requeueStuck is when to look again at a Deployment that made no progress, so that
// ProgressDeadlineExceeded is set on time: lastUpdateTime of Progressing plus
// progressDeadlineSeconds (plus a second against early wake-ups); 0 when there is nothing to
// wait for.
func (dc *Controller) requeueStuck(d *appsv1.Deployment, st *appsv1.DeploymentStatus) time.Duration {
	cur := getCondition(d.Status, ConditionProgressing)
	if !hasProgressDeadline(d) || cur == nil {
		return 0
	}
	if deploymentComplete(d, st) || cur.GetReason() == ReasonTimedOut {
		return 0
	}
	after := cur.GetLastUpdateTime().AsTime().Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(dc.now())
	if after < time.Second {
		return time.Second
	}
	return after + time.Second
}
