package deployment

import (
	"context"

	"github.com/berth-dev/berth/pkg/controller"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
)

// rolloutRolling takes one step of a rolling update: scale the new ReplicaSet up within
// maxSurge, or else the old ones down within maxUnavailable, then report progress.
func (dc *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (controller.Result, error) {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return controller.Result{}, err
	}
	allRSs := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	scaledUp, err := dc.reconcileNewReplicaSet(ctx, allRSs, newRS, d)
	if err != nil {
		return controller.Result{}, err
	}
	if scaledUp {
		return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	scaledDown, err := dc.reconcileOldReplicaSets(ctx, allRSs, filterActive(oldRSs), newRS, d)
	if err != nil {
		return controller.Result{}, err
	}
	if scaledDown {
		return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	if deploymentComplete(d, d.Status) {
		if err := dc.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return controller.Result{}, err
		}
	}
	return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
}

// reconcileNewReplicaSet scales the new ReplicaSet towards replicas, as far as maxSurge
// allows.
func (dc *Controller) reconcileNewReplicaSet(ctx context.Context, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	switch {
	case rsReplicas(newRS) == replicas(d):
		return false, nil
	case rsReplicas(newRS) > replicas(d):
		scaled, _, err := dc.scaleReplicaSetAndRecordEvent(ctx, newRS, replicas(d), d)
		return scaled, err
	}
	n, err := newRSNewReplicas(d, allRSs, newRS)
	if err != nil {
		return false, controller.Terminal(err)
	}
	scaled, _, err := dc.scaleReplicaSetAndRecordEvent(ctx, newRS, n, d)
	return scaled, err
}

// reconcileOldReplicaSets scales the old ReplicaSets down as far as maxUnavailable allows,
// their unhealthy replicas first.
func (dc *Controller) reconcileOldReplicaSets(ctx context.Context, allRSs, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if specReplicas(oldRSs) == 0 {
		return false, nil // nothing left to scale down
	}
	limit := maxScaledDown(allRSs, newRS, d)
	if limit <= 0 {
		return false, nil
	}
	// Unhealthy replicas first: they would otherwise block the rollout until it times out.
	oldRSs = append([]*appsv1.ReplicaSet(nil), oldRSs...)
	cleaned, err := dc.applyScaleDowns(ctx, oldRSs, unhealthyScaleDowns(oldRSs, limit), d)
	if err != nil {
		return false, err
	}
	allRSs = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	scaledDown, err := dc.applyScaleDowns(ctx, oldRSs, availableScaleDowns(allRSs, oldRSs, d), d)
	if err != nil {
		return false, err
	}
	controller.LoggerFrom(ctx).Debug("scaled down old replica sets", "unhealthy", cleaned, "available", scaledDown)
	return cleaned+scaledDown > 0, nil
}

// applyScaleDowns scales each ReplicaSet of steps to its new size, replacing it in rss with
// the stored one; it returns how many replicas it removed.
func (dc *Controller) applyScaleDowns(ctx context.Context, rss []*appsv1.ReplicaSet, steps []scaleStep, d *appsv1.Deployment) (int32, error) {
	var total int32
	for _, s := range steps {
		_, updated, err := dc.scaleReplicaSetAndRecordEvent(ctx, s.rs, s.to, d)
		if err != nil {
			return total, err
		}
		total += rsReplicas(s.rs) - s.to
		for i := range rss {
			if rss[i] == s.rs {
				rss[i] = updated
			}
		}
	}
	return total, nil
}
