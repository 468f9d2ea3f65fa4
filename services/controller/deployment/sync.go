package deployment

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// namespaceTerminatingCause is the status cause of a create refused in a terminating
// namespace.
const namespaceTerminatingCause kmetav1.CauseType = "NamespaceTerminating"

// syncStatusOnly only updates d's status (a Deployment being deleted).
func (dc *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	return dc.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// syncScale reconciles a scaling event or a paused Deployment: it scales, never rolls out.
func (dc *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := dc.scale(ctx, d, newRS, oldRSs); err != nil {
		return err
	}
	if d.Spec.GetPaused() {
		if err := dc.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return dc.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// checkPausedConditions sets Progressing to DeploymentPaused or DeploymentResumed when d
// was paused or resumed, so that time spent paused never counts against the deadline.
func (dc *Controller) checkPausedConditions(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(d.Status, ConditionProgressing)
	if cond != nil && cond.GetReason() == ReasonTimedOut {
		return nil // a reported lack of progress stays
	}
	pausedCond := cond != nil && cond.GetReason() == ReasonPaused
	switch {
	case d.Spec.GetPaused() && !pausedCond:
		setCondition(d.Status, newCondition(ConditionProgressing, "Unknown", ReasonPaused, "Deployment is paused", dc.now()))
	case !d.Spec.GetPaused() && pausedCond:
		setCondition(d.Status, newCondition(ConditionProgressing, "Unknown", ReasonResumed, "Deployment is resumed", dc.now()))
	default:
		return nil
	}
	if err := dc.updateStatus(ctx, d); err != nil {
		return fmt.Errorf("update paused condition: %w", err)
	}
	return nil
}

// getAllReplicaSetsAndSyncRevision returns the new ReplicaSet (created when
// createIfNotExisted) and the old ones, bringing the revisions up to date.
func (dc *Controller) getAllReplicaSetsAndSyncRevision(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, createIfNotExisted bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	_, allOld := findOldReplicaSets(d, rsList)
	newRS, err := dc.getNewReplicaSet(ctx, d, rsList, allOld, createIfNotExisted)
	if err != nil {
		return nil, nil, err
	}
	return newRS, allOld, nil
}

// getNewReplicaSet returns the ReplicaSet of d's template with its annotations and revision
// synced (and d's revision), creating it when createIfNotExisted; nil when it does not exist
// and may not be created. An update of rsList's entry replaces it in rsList.
func (dc *Controller) getNewReplicaSet(ctx context.Context, d *appsv1.Deployment, rsList, oldRSs []*appsv1.ReplicaSet, createIfNotExisted bool) (*appsv1.ReplicaSet, error) {
	existing := findNewReplicaSet(d, rsList)
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)
	if existing != nil {
		rsCopy := proto.Clone(existing).(*appsv1.ReplicaSet)
		annotationsUpdated := setNewReplicaSetAnnotations(d, rsCopy, newRevision, true, maxRevHistoryLengthInChars)
		if annotationsUpdated || rsCopy.Spec.GetMinReadySeconds() != d.Spec.GetMinReadySeconds() {
			rsCopy.Spec.MinReadySeconds = d.Spec.GetMinReadySeconds()
			out, err := dc.client.Resource(scheme.ReplicaSets).Update(ctx, rsCopy)
			if err != nil {
				return nil, fmt.Errorf("update replica set %s: %w", rsCopy.Metadata.GetName(), err)
			}
			updated := out.(*appsv1.ReplicaSet)
			for i := range rsList {
				if rsList[i] == existing {
					rsList[i] = updated
				}
			}
			return updated, nil
		}
		meta := setDeploymentRevision(d, rsCopy.Metadata.GetAnnotations()[RevisionAnnotation])
		status := false
		if hasProgressDeadline(d) && getCondition(d.Status, ConditionProgressing) == nil {
			msg := fmt.Sprintf("Found new replica set %q", rsCopy.Metadata.GetName())
			setCondition(d.Status, newCondition(ConditionProgressing, "True", ReasonFoundNewReplicaSet, msg, dc.now()))
			status = true
		}
		if err := dc.writeDeployment(ctx, d, meta, status); err != nil {
			return nil, err
		}
		return rsCopy, nil
	}
	if !createIfNotExisted {
		return nil, nil
	}
	return dc.createNewReplicaSet(ctx, d, oldRSs, newRevision)
}

// newReplicaSetFor builds the ReplicaSet of d's template, named after its hash.
func newReplicaSetFor(d *appsv1.Deployment) *appsv1.ReplicaSet {
	tmpl := proto.Clone(d.Spec.GetTemplate()).(*corev1.PodTemplateSpec)
	if tmpl == nil {
		tmpl = &corev1.PodTemplateSpec{}
	}
	hash := computeHash(tmpl, d.Status.CollisionCount)
	if tmpl.Metadata == nil {
		tmpl.Metadata = &metav1.ObjectMeta{}
	}
	podLabels := maps.Clone(tmpl.Metadata.Labels)
	if podLabels == nil {
		podLabels = map[string]string{}
	}
	podLabels[PodTemplateHashLabel] = hash
	tmpl.Metadata.Labels = podLabels
	sel := proto.Clone(d.Spec.GetSelector()).(*metav1.LabelSelector)
	if sel == nil {
		sel = &metav1.LabelSelector{}
	}
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[PodTemplateHashLabel] = hash
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{
			Name:            d.Metadata.GetName() + "-" + hash,
			Namespace:       d.Metadata.GetNamespace(),
			OwnerReferences: []*metav1.OwnerReference{controllerref.New(d)},
			Labels:          maps.Clone(podLabels),
		},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas:        proto.Int32(0),
			MinReadySeconds: d.Spec.GetMinReadySeconds(),
			Selector:        sel,
			Template:        tmpl,
		},
	}
}

// createNewReplicaSet creates d's new ReplicaSet with its first replicas, handling a name
// already taken (by its own ReplicaSet seen late, or by a hash collision).
func (dc *Controller) createNewReplicaSet(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet, newRevision string) (*appsv1.ReplicaSet, error) {
	log := controller.LoggerFrom(ctx)
	newRS := newReplicaSetFor(d)
	count, err := newRSNewReplicas(d, append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS), newRS)
	if err != nil {
		return nil, controller.Terminal(err)
	}
	setRSReplicas(newRS, count)
	setNewReplicaSetAnnotations(d, newRS, newRevision, false, maxRevHistoryLengthInChars)
	name := newRS.Metadata.GetName()
	alreadyExists := false
	out, err := dc.client.Resource(scheme.ReplicaSets).Create(ctx, newRS)
	var created *appsv1.ReplicaSet
	switch {
	case kerrors.IsAlreadyExists(err):
		alreadyExists = true
		rs, ok := dc.replicaSets.Get(d.Metadata.GetNamespace(), name)
		if !ok {
			got, gerr := dc.client.Resource(scheme.ReplicaSets).Get(ctx, d.Metadata.GetNamespace(), name)
			if gerr != nil {
				return nil, fmt.Errorf("get replica set %s: %w", name, gerr)
			}
			rs = got.(*appsv1.ReplicaSet)
		}
		if controllerref.IsControlledBy(rs, d.Metadata.GetUid()) && equalIgnoreHash(d.Spec.GetTemplate(), rs.Spec.GetTemplate()) {
			created = rs
			break
		}
		// A hash collision: bump collisionCount and try another name on the next sync.
		prev := d.Status.GetCollisionCount()
		d.Status.CollisionCount = proto.Int32(prev + 1)
		if uerr := dc.updateStatus(ctx, d); uerr == nil {
			log.Info("found a hash collision for deployment, bumping collisionCount", "oldCollisionCount", prev, "newCollisionCount", prev+1)
		}
		return nil, fmt.Errorf("create replica set %s: %w", name, err)
	case kerrors.HasStatusCause(err, namespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", name, err)
		if hasProgressDeadline(d) {
			setCondition(d.Status, newCondition(ConditionProgressing, "False", ReasonFailedReplicaSetCreate, msg, dc.now()))
			_ = dc.updateStatus(ctx, d) // the bigger issue is reported below
		}
		dc.event(d, events.Warning, ReasonFailedReplicaSetCreate, "%s", msg)
		if kerrors.IsInvalid(err) || kerrors.IsForbidden(err) {
			return nil, controller.Terminal(fmt.Errorf("create replica set %s: %w", name, err))
		}
		return nil, fmt.Errorf("create replica set %s: %w", name, err)
	default:
		created = out.(*appsv1.ReplicaSet)
	}
	if !alreadyExists && count > 0 {
		dc.event(d, events.Normal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", name, count)
	}
	meta := setDeploymentRevision(d, newRevision)
	status := false
	if !alreadyExists && hasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", name)
		setCondition(d.Status, newCondition(ConditionProgressing, "True", ReasonNewReplicaSet, msg, dc.now()))
		status = true
	}
	return created, dc.writeDeployment(ctx, d, meta, status)
}

// scale spreads d's replicas over its ReplicaSets without rolling out: the only active one
// (or the newest) gets them all; with a saturated new ReplicaSet the old ones go to 0; else,
// for a rolling update, they are scaled in proportion to their size.
func (dc *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) error {
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if rsReplicas(rs) == replicas(d) {
			return nil
		}
		_, _, err := dc.scaleReplicaSetAndRecordEvent(ctx, rs, replicas(d), d)
		return err
	}
	if isSaturated(d, newRS) {
		for _, old := range filterActive(oldRSs) {
			if _, _, err := dc.scaleReplicaSetAndRecordEvent(ctx, old, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	ordered, sizes, op := proportionalSizes(d, filterActive(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)))
	for _, rs := range ordered {
		if _, _, err := dc.scaleReplicaSet(ctx, rs, sizes[rs.GetMetadata().GetName()], d, op); err != nil {
			return err
		}
	}
	return nil
}

// scaleReplicaSetAndRecordEvent scales rs to newScale when it differs.
func (dc *Controller) scaleReplicaSetAndRecordEvent(ctx context.Context, rs *appsv1.ReplicaSet, newScale int32, d *appsv1.Deployment) (bool, *appsv1.ReplicaSet, error) {
	if rsReplicas(rs) == newScale {
		return false, rs, nil
	}
	op := "down"
	if rsReplicas(rs) < newScale {
		op = "up"
	}
	return dc.scaleReplicaSet(ctx, rs, newScale, d, op)
}

// scaleReplicaSet sets rs's replicas and desired/max annotations, recording a
// ScalingReplicaSet Event when the size changed. It returns whether it scaled and rs as
// stored.
func (dc *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, newScale int32, d *appsv1.Deployment, op string) (bool, *appsv1.ReplicaSet, error) {
	sizeNeedsUpdate := rsReplicas(rs) != newScale
	maxReplicas := replicas(d) + maxSurge(d)
	if !sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicas(d), maxReplicas) {
		return false, rs, nil
	}
	oldScale := rsReplicas(rs)
	rsCopy := proto.Clone(rs).(*appsv1.ReplicaSet)
	setRSReplicas(rsCopy, newScale)
	setReplicasAnnotations(rsCopy, replicas(d), maxReplicas)
	out, err := dc.client.Resource(scheme.ReplicaSets).Update(ctx, rsCopy)
	if err != nil {
		return false, nil, fmt.Errorf("scale replica set %s to %d: %w", rs.GetMetadata().GetName(), newScale, err)
	}
	if sizeNeedsUpdate {
		dc.event(d, events.Normal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.GetMetadata().GetName(), oldScale, newScale)
	}
	return sizeNeedsUpdate, out.(*appsv1.ReplicaSet), nil
}

// cleanupDeployment deletes the oldest old ReplicaSets, without replicas, beyond
// revisionHistoryLimit.
func (dc *Controller) cleanupDeployment(ctx context.Context, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) error {
	if !hasRevisionHistoryLimit(d) {
		return nil
	}
	for _, rs := range historyToDelete(oldRSs, *d.Spec.RevisionHistoryLimit) {
		controller.LoggerFrom(ctx).Debug("cleaning up old replica set", "replicaSet", rs.GetMetadata().GetName())
		_, err := dc.client.Resource(scheme.ReplicaSets).Delete(ctx, &metav1.DeleteRequest{
			Namespace: rs.GetMetadata().GetNamespace(), Name: rs.GetMetadata().GetName(),
		})
		if err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("delete old replica set %s: %w", rs.GetMetadata().GetName(), err)
		}
	}
	return nil
}

// syncDeploymentStatus writes d's status when it differs from what its ReplicaSets show.
func (dc *Controller) syncDeploymentStatus(ctx context.Context, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	st := calculateStatus(allRSs, newRS, d, dc.now())
	if proto.Equal(d.Status, st) {
		return nil
	}
	d.Status = st
	return dc.updateStatus(ctx, d)
}

// isScalingEvent reports whether d's replicas changed since its active ReplicaSets were last
// scaled (their desired-replicas annotation).
func (dc *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return false, err
	}
	for _, rs := range filterActive(append(oldRSs, newRS)) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicas(d) {
			return true, nil
		}
	}
	return false, nil
}
