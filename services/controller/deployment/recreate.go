package deployment

import (
	"context"

	"github.com/berth-dev/berth/pkg/controller"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// rolloutRecreate takes one step of a Recreate rollout: scale every old ReplicaSet to 0,
// wait until none of their Pods is active, then create and scale up the new one.
func (dc *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, podMap map[string][]*corev1.Pod) (controller.Result, error) {
	// No new ReplicaSet yet: creating it now would scale up before the old ones are down.
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return controller.Result{}, err
	}
	allRSs := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	activeOld := filterActive(oldRSs)
	scaledDown, err := dc.scaleDownOldReplicaSetsForRecreate(ctx, activeOld, d)
	if err != nil {
		return controller.Result{}, err
	}
	if scaledDown {
		return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	if oldPodsRunning(newRS, oldRSs, podMap) {
		return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	if newRS == nil {
		newRS, oldRSs, err = dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
		if err != nil {
			return controller.Result{}, err
		}
		allRSs = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	}
	if _, _, err := dc.scaleReplicaSetAndRecordEvent(ctx, newRS, replicas(d), d); err != nil {
		return controller.Result{}, err
	}
	if deploymentComplete(d, d.Status) {
		if err := dc.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return controller.Result{}, err
		}
	}
	return dc.syncRolloutStatus(ctx, allRSs, newRS, d)
}

// scaleDownOldReplicaSetsForRecreate scales every old ReplicaSet to 0; true when it scaled
// any.
func (dc *Controller) scaleDownOldReplicaSetsForRecreate(ctx context.Context, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	scaled := false
	for i, rs := range oldRSs {
		if rsReplicas(rs) == 0 {
			continue
		}
		did, updated, err := dc.scaleReplicaSetAndRecordEvent(ctx, rs, 0, d)
		if err != nil {
			return false, err
		}
		if did {
			oldRSs[i] = updated
			scaled = true
		}
	}
	return scaled, nil
}

// oldPodsRunning reports whether an old ReplicaSet still has replicas, or Pods not in a
// terminal phase.
func oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podMap map[string][]*corev1.Pod) bool {
	if actualReplicas(oldRSs) > 0 {
		return true
	}
	for uid, pods := range podMap {
		if newRS != nil && newRS.GetMetadata().GetUid() == uid {
			continue
		}
		for _, pod := range pods {
			switch pod.GetStatus().GetPhase() {
			case "Failed", "Succeeded":
				continue // terminal: not running
			default:
				return true // running, pending, or Unknown (which may still be running)
			}
		}
	}
	return false
}
