package deployment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/berth-dev/berth/pkg/validation"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Annotations and labels the controller maintains, as Kubernetes names them.
const (
	// RevisionAnnotation is the revision of a ReplicaSet, and of a Deployment's new ReplicaSet.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions of a ReplicaSet brought back.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's replicas when it last scaled the ReplicaSet.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas+maxSurge when the Deployment last scaled the ReplicaSet.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// LastAppliedConfigAnnotation is kubectl apply's, never copied to ReplicaSets.
	LastAppliedConfigAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	// RollbackToAnnotation is the deprecated rollback request of extensions/v1beta1.
	RollbackToAnnotation = "deprecated.deployment.rollback.to"
	// PodTemplateHashLabel tells the ReplicaSets (and Pods) of one Deployment apart.
	PodTemplateHashLabel = "pod-template-hash"

	// maxRevHistoryLengthInChars bounds the revision-history annotation.
	maxRevHistoryLengthInChars = 2000
)

// Strategy types.
const (
	StrategyRollingUpdate = "RollingUpdate"
	StrategyRecreate      = "Recreate"
)

// Condition types, and the reasons the controller gives, as Kubernetes' deployment controller.
const (
	ConditionAvailable      = "Available"
	ConditionProgressing    = "Progressing"
	ConditionReplicaFailure = "ReplicaFailure"

	ReasonNewReplicaSet              = "NewReplicaSetCreated"
	ReasonFoundNewReplicaSet         = "FoundNewReplicaSet"
	ReasonReplicaSetUpdated          = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable     = "NewReplicaSetAvailable"
	ReasonTimedOut                   = "ProgressDeadlineExceeded"
	ReasonPaused                     = "DeploymentPaused"
	ReasonResumed                    = "DeploymentResumed"
	ReasonFailedReplicaSetCreate     = "ReplicaSetCreateError"
	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
)

// annotationsToSkip are the Deployment annotations never copied to its ReplicaSets.
var annotationsToSkip = map[string]bool{
	LastAppliedConfigAnnotation: true,
	RevisionAnnotation:          true,
	RevisionHistoryAnnotation:   true,
	DesiredReplicasAnnotation:   true,
	MaxReplicasAnnotation:       true,
	RollbackToAnnotation:        true,
}

// replicas is spec.replicas of a Deployment (defaulted by the apiserver, so always set).
func replicas(d *appsv1.Deployment) int32 { return d.GetSpec().GetReplicas() }

// rsReplicas is spec.replicas of a ReplicaSet; 0 for nil.
func rsReplicas(rs *appsv1.ReplicaSet) int32 { return rs.GetSpec().GetReplicas() }

func setRSReplicas(rs *appsv1.ReplicaSet, n int32) { rs.Spec.Replicas = proto.Int32(n) }

// isRollingUpdate reports whether d rolls out with the RollingUpdate strategy.
func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.GetSpec().GetStrategy().GetType() == StrategyRollingUpdate
}

// resolveFenceposts turns maxSurge and maxUnavailable into numbers for desired replicas:
// percentages of maxSurge round up, of maxUnavailable down, and when both come to 0
// maxUnavailable is 1 (a surge may be impossible, under a quota for instance).
func resolveFenceposts(ru *appsv1.RollingUpdateDeployment, desired int32) (surge, unavailable int32, err error) {
	ms, ferr := validation.IntOrString(ru.GetMaxSurge(), nil)
	if ferr != nil {
		return 0, 0, fmt.Errorf("maxSurge: %s", ferr.Detail)
	}
	mu, ferr := validation.IntOrString(ru.GetMaxUnavailable(), nil)
	if ferr != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %s", ferr.Detail)
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(&ms, int(desired), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(&mu, int(desired), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// maxSurge is how many Pods a rolling update may run beyond replicas (0 for Recreate).
// Validation refuses values that do not resolve.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	s, _, _ := resolveFenceposts(d.GetSpec().GetStrategy().GetRollingUpdate(), replicas(d))
	return s
}

// maxUnavailable is how many of replicas may be unavailable during a rolling update (0 for
// Recreate or 0 replicas), never more than replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || replicas(d) == 0 {
		return 0
	}
	_, u, _ := resolveFenceposts(d.GetSpec().GetStrategy().GetRollingUpdate(), replicas(d))
	if u > replicas(d) {
		return replicas(d)
	}
	return u
}

// computeHash is the pod-template-hash of a template: fnv32a over its deterministic
// encoding, then collisionCount when set, rendered with rand.SafeEncodeString as Kubernetes'
// controller.ComputeHash does.
func computeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(template)
	if err != nil { // a valid message always marshals
		panic(fmt.Sprintf("marshal pod template: %v", err))
	}
	h.Write(b)
	if collisionCount != nil {
		buf := make([]byte, 8)
		binary.LittleEndian.PutUint32(buf, uint32(*collisionCount))
		h.Write(buf)
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// equalIgnoreHash reports whether two templates are equal once the pod-template-hash label
// is left out.
func equalIgnoreHash(t1, t2 *corev1.PodTemplateSpec) bool {
	c1 := proto.Clone(t1).(*corev1.PodTemplateSpec)
	c2 := proto.Clone(t2).(*corev1.PodTemplateSpec)
	if c1.GetMetadata() != nil {
		delete(c1.Metadata.Labels, PodTemplateHashLabel)
	}
	if c2.GetMetadata() != nil {
		delete(c2.Metadata.Labels, PodTemplateHashLabel)
	}
	return proto.Equal(c1, c2)
}

// created is an object's creation time.
func created(rs *appsv1.ReplicaSet) time.Time {
	return rs.GetMetadata().GetCreationTimestamp().AsTime()
}

// olderFirst orders ReplicaSets by creation time, then name.
func olderFirst(a, b *appsv1.ReplicaSet) bool {
	ta, tb := created(a), created(b)
	if ta.Equal(tb) {
		return a.GetMetadata().GetName() < b.GetMetadata().GetName()
	}
	return ta.Before(tb)
}

func sortOlderFirst(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool { return olderFirst(rss[i], rss[j]) })
}

// sortBySizeNewer puts the largest first, the newer first among equals (scaling up).
func sortBySizeNewer(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		if rsReplicas(rss[i]) == rsReplicas(rss[j]) {
			return olderFirst(rss[j], rss[i])
		}
		return rsReplicas(rss[i]) > rsReplicas(rss[j])
	})
}

// sortBySizeOlder puts the largest first, the older first among equals (scaling down).
func sortBySizeOlder(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		if rsReplicas(rss[i]) == rsReplicas(rss[j]) {
			return olderFirst(rss[i], rss[j])
		}
		return rsReplicas(rss[i]) > rsReplicas(rss[j])
	})
}

// sortByRevision orders by revision, then by creation time.
func sortByRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		r1, err1 := revision(rss[i])
		r2, err2 := revision(rss[j])
		if err1 != nil || err2 != nil || r1 == r2 {
			return olderFirst(rss[i], rss[j])
		}
		return r1 < r2
	})
}

// findNewReplicaSet returns the oldest ReplicaSet whose template is d's, or nil.
func findNewReplicaSet(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	sorted := append([]*appsv1.ReplicaSet(nil), rsList...)
	sortOlderFirst(sorted)
	for _, rs := range sorted {
		if equalIgnoreHash(rs.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			return rs
		}
	}
	return nil
}

// findOldReplicaSets returns the ReplicaSets other than the new one: those with replicas,
// and all of them.
func findOldReplicaSets(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (withReplicas, all []*appsv1.ReplicaSet) {
	newRS := findNewReplicaSet(d, rsList)
	for _, rs := range rsList {
		if newRS != nil && rs.GetMetadata().GetUid() == newRS.GetMetadata().GetUid() {
			continue
		}
		all = append(all, rs)
		if rsReplicas(rs) != 0 {
			withReplicas = append(withReplicas, rs)
		}
	}
	return withReplicas, all
}

// filterActive keeps the non-nil ReplicaSets with replicas.
func filterActive(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && rsReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// findActiveOrLatest returns the only active ReplicaSet, or the newest when none is active,
// or nil when several are.
func findActiveOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	sorted := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	sort.SliceStable(sorted, func(i, j int) bool { return olderFirst(sorted[j], sorted[i]) })
	active := filterActive(append(sorted, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return sorted[0]
	case 1:
		return active[0]
	default:
		return nil
	}
}

// Sums over ReplicaSets (nil entries count nothing).
func specReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rsReplicas(rs)
		}
	}
	return n
}

func actualReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rs.GetStatus().GetReplicas()
	}
	return n
}

func readyReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rs.GetStatus().GetReadyReplicas()
	}
	return n
}

func availableReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rs.GetStatus().GetAvailableReplicas()
	}
	return n
}

// revision parses a ReplicaSet's revision annotation (0 when absent).
func revision(rs *appsv1.ReplicaSet) (int64, error) {
	v, ok := rs.GetMetadata().GetAnnotations()[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// maxRevision is the highest revision among rss (unparsable ones skipped).
func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var max int64
	for _, rs := range rss {
		if v, err := revision(rs); err == nil && v > max {
			max = v
		}
	}
	return max
}

// newRSNewReplicas is how many replicas the new ReplicaSet should have now.
func newRSNewReplicas(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, error) {
	switch d.GetSpec().GetStrategy().GetType() {
	case StrategyRollingUpdate:
		surge, _, err := resolveFenceposts(d.GetSpec().GetStrategy().GetRollingUpdate(), replicas(d))
		if err != nil {
			return 0, err
		}
		current := specReplicas(allRSs)
		maxTotal := replicas(d) + surge
		if current >= maxTotal {
			return rsReplicas(newRS), nil // cannot scale up
		}
		up := min(maxTotal-current, replicas(d)-rsReplicas(newRS))
		return rsReplicas(newRS) + up, nil
	case StrategyRecreate:
		return replicas(d), nil
	default:
		return 0, fmt.Errorf("deployment type %v isn't supported", d.GetSpec().GetStrategy().GetType())
	}
}

// isSaturated reports whether rs runs all of d's replicas, available.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, err := strconv.Atoi(rs.GetMetadata().GetAnnotations()[DesiredReplicasAnnotation])
	if err != nil {
		return false
	}
	return rsReplicas(rs) == replicas(d) && int32(desired) == replicas(d) &&
		rs.GetStatus().GetAvailableReplicas() == replicas(d)
}

// intAnnotation reads an integer annotation of a ReplicaSet.
func intAnnotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.GetMetadata().GetAnnotations()[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// getProportion is how many of the replicas to add (or remove, when negative) go to rs in a
// proportional scaling, given how many were handed out already.
func getProportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := replicaSetFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// replicaSetFraction is rs's share of the Deployment's new size minus its current size.
func replicaSetFraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if replicas(d) == 0 {
		return -rsReplicas(rs)
	}
	deploymentReplicas := replicas(d) + maxSurge(d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || annotated == 0 {
		annotated = d.GetStatus().GetReplicas()
	}
	if annotated == 0 {
		return 0
	}
	size := float64(rsReplicas(rs)*deploymentReplicas) / float64(annotated)
	return int32(math.Round(size)) - rsReplicas(rs)
}

// proportionalSizes spreads the difference between d's allowed size (replicas+maxSurge) and
// the active ReplicaSets' replicas over them in proportion to their size; leftovers go to
// the first (largest) one. It returns the ReplicaSets in the order to scale them, their new
// sizes by name, and "up", "down" or "".
func proportionalSizes(d *appsv1.Deployment, active []*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, map[string]int32, string) {
	allRSs := append([]*appsv1.ReplicaSet(nil), active...)
	var allowed int32
	if replicas(d) > 0 {
		allowed = replicas(d) + maxSurge(d)
	}
	toAdd := allowed - specReplicas(allRSs)
	var op string
	switch {
	case toAdd > 0:
		sortBySizeNewer(allRSs)
		op = "up"
	case toAdd < 0:
		sortBySizeOlder(allRSs)
		op = "down"
	}
	var added int32
	sizes := make(map[string]int32, len(allRSs))
	for _, rs := range allRSs {
		name := rs.GetMetadata().GetName()
		if toAdd == 0 {
			sizes[name] = rsReplicas(rs)
			continue
		}
		p := getProportion(rs, d, toAdd, added)
		sizes[name] = rsReplicas(rs) + p
		added += p
	}
	if toAdd != 0 && len(allRSs) > 0 {
		first := allRSs[0].GetMetadata().GetName()
		sizes[first] += toAdd - added
		if sizes[first] < 0 {
			sizes[first] = 0
		}
	}
	return allRSs, sizes, op
}

// replicasAnnotationsNeedUpdate reports whether rs's desired/max annotations differ.
func replicasAnnotationsNeedUpdate(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	a := rs.GetMetadata().GetAnnotations()
	return a[DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) || a[MaxReplicasAnnotation] != strconv.Itoa(int(maxReplicas))
}

// setReplicasAnnotations writes the desired/max annotations; true when they changed.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Metadata.Annotations == nil {
		rs.Metadata.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range map[string]string{DesiredReplicasAnnotation: strconv.Itoa(int(desired)), MaxReplicasAnnotation: strconv.Itoa(int(maxReplicas))} {
		if rs.Metadata.Annotations[k] != v {
			rs.Metadata.Annotations[k] = v
			changed = true
		}
	}
	return changed
}

// copyDeploymentAnnotations copies d's annotations but the skipped ones to rs; true when rs
// changed.
func copyDeploymentAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs.Metadata.Annotations == nil {
		rs.Metadata.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range d.GetMetadata().GetAnnotations() {
		if cur, ok := rs.Metadata.Annotations[k]; annotationsToSkip[k] || (ok && cur == v) {
			continue
		}
		rs.Metadata.Annotations[k] = v
		changed = true
	}
	return changed
}

// setNewReplicaSetAnnotations brings the new ReplicaSet's annotations up to date: d's
// annotations, the revision (raised to newRevision, the earlier one appended to the
// revision history), and for a ReplicaSet about to be created the desired/max annotations.
// It reports whether anything changed.
func setNewReplicaSetAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision string, exists bool, historyLimit int) bool {
	changed := copyDeploymentAnnotations(d, rs)
	oldRevision, ok := rs.Metadata.Annotations[RevisionAnnotation]
	oldInt, err := strconv.ParseInt(oldRevision, 10, 64)
	if err != nil {
		if oldRevision != "" {
			return false // not a number: leave it alone
		}
		oldInt = 0
	}
	newInt, err := strconv.ParseInt(newRevision, 10, 64)
	if err != nil {
		return false
	}
	if oldInt < newInt {
		rs.Metadata.Annotations[RevisionAnnotation] = newRevision
		changed = true
	}
	if ok && oldInt < newInt {
		history := rs.Metadata.Annotations[RevisionHistoryAnnotation]
		olds := strings.Split(history, ",")
		if len(olds[0]) == 0 {
			rs.Metadata.Annotations[RevisionHistoryAnnotation] = oldRevision
		} else {
			total := len(history) + len(oldRevision) + 1
			start := 0
			for total > historyLimit && start < len(olds) {
				total -= len(olds[start]) + 1
				start++
			}
			if total <= historyLimit {
				rs.Metadata.Annotations[RevisionHistoryAnnotation] = strings.Join(append(olds[start:], oldRevision), ",")
			}
		}
	}
	if !exists && setReplicasAnnotations(rs, replicas(d), replicas(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// setDeploymentRevision sets d's revision annotation; true when it changed.
func setDeploymentRevision(d *appsv1.Deployment, rev string) bool {
	if d.Metadata.Annotations == nil {
		d.Metadata.Annotations = map[string]string{}
	}
	if d.Metadata.Annotations[RevisionAnnotation] == rev {
		return false
	}
	d.Metadata.Annotations[RevisionAnnotation] = rev
	return true
}

// hasProgressDeadline reports whether d's progress is measured.
func hasProgressDeadline(d *appsv1.Deployment) bool {
	p := d.GetSpec().ProgressDeadlineSeconds
	return p != nil && *p != math.MaxInt32
}

// hasRevisionHistoryLimit reports whether d limits its old ReplicaSets.
func hasRevisionHistoryLimit(d *appsv1.Deployment) bool {
	l := d.GetSpec().RevisionHistoryLimit
	return l != nil && *l != math.MaxInt32
}

// deploymentComplete reports whether status shows every replica updated and available.
func deploymentComplete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	return st.GetUpdatedReplicas() == replicas(d) && st.GetReplicas() == replicas(d) &&
		st.GetAvailableReplicas() == replicas(d) && st.GetObservedGeneration() >= d.GetMetadata().GetGeneration()
}

// deploymentProgressing reports whether st shows progress over d's recorded status.
func deploymentProgressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.GetStatus()
	oldOld := old.GetReplicas() - old.GetUpdatedReplicas()
	newOld := st.GetReplicas() - st.GetUpdatedReplicas()
	return st.GetUpdatedReplicas() > old.GetUpdatedReplicas() || newOld < oldOld ||
		st.GetReadyReplicas() > old.GetReadyReplicas() || st.GetAvailableReplicas() > old.GetAvailableReplicas()
}

// deploymentTimedOut reports whether d made no progress for progressDeadlineSeconds since
// the Progressing condition of st was last updated.
func deploymentTimedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(st, ConditionProgressing)
	if c == nil || c.GetReason() == ReasonNewReplicaSetAvailable {
		return false
	}
	if c.GetReason() == ReasonTimedOut {
		return true
	}
	from := c.GetLastUpdateTime().AsTime()
	delta := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	return from.Add(delta).Before(now)
}
