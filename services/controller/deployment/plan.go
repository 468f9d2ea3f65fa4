package deployment

import (
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
)

// scaleStep is one ReplicaSet to scale down to a new size.
type scaleStep struct {
	rs *appsv1.ReplicaSet
	to int32
}

// maxScaledDown is how many old replicas a rolling update may remove now: all the Pods
// beyond replicas-maxUnavailable, less the new ReplicaSet's unavailable ones (so that a
// broken new template never makes the old Pods go too).
func maxScaledDown(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	minAvailable := replicas(d) - maxUnavailable(d)
	newRSUnavailable := rsReplicas(newRS) - newRS.GetStatus().GetAvailableReplicas()
	return specReplicas(allRSs) - minAvailable - newRSUnavailable
}

// unhealthyScaleDowns scales the old ReplicaSets down by their unavailable replicas, oldest
// first, at most limit replicas in all.
func unhealthyScaleDowns(oldRSs []*appsv1.ReplicaSet, limit int32) []scaleStep {
	sorted := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	sortOlderFirst(sorted)
	var steps []scaleStep
	var total int32
	for _, rs := range sorted {
		if total >= limit {
			break
		}
		unhealthy := rsReplicas(rs) - rs.GetStatus().GetAvailableReplicas()
		if rsReplicas(rs) == 0 || unhealthy <= 0 {
			continue
		}
		down := min(limit-total, unhealthy)
		steps = append(steps, scaleStep{rs: rs, to: rsReplicas(rs) - down})
		total += down
	}
	return steps
}

// availableScaleDowns scales the old ReplicaSets down, oldest first, by as many replicas as
// are available beyond replicas-maxUnavailable.
func availableScaleDowns(allRSs, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) []scaleStep {
	minAvailable := replicas(d) - maxUnavailable(d)
	available := availableReplicas(nonNil(allRSs))
	if available <= minAvailable {
		return nil
	}
	sorted := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	sortOlderFirst(sorted)
	var steps []scaleStep
	var total int32
	want := available - minAvailable
	for _, rs := range sorted {
		if total >= want {
			break
		}
		if rsReplicas(rs) == 0 {
			continue
		}
		down := min(rsReplicas(rs), want-total)
		steps = append(steps, scaleStep{rs: rs, to: rsReplicas(rs) - down})
		total += down
	}
	return steps
}

// historyToDelete returns the oldest old ReplicaSets beyond limit that may go: not being
// deleted, no replicas wanted or running, their last change observed.
func historyToDelete(oldRSs []*appsv1.ReplicaSet, limit int32) []*appsv1.ReplicaSet {
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.GetMetadata().GetDeletionTimestamp() == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := int32(len(cleanable)) - limit
	if diff <= 0 {
		return nil
	}
	sortByRevision(cleanable)
	var out []*appsv1.ReplicaSet
	for _, rs := range cleanable[:diff] {
		if rs.GetStatus().GetReplicas() != 0 || rsReplicas(rs) != 0 || rs.GetMetadata().GetGeneration() > rs.GetStatus().GetObservedGeneration() {
			continue
		}
		out = append(out, rs)
	}
	return out
}
