package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// PodDeletionCostAnnotation ranks a Pod for scale-down among its siblings: lower costs go
// first (Kubernetes' controller.kubernetes.io/pod-deletion-cost, an int32).
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// phaseOrdinal orders phases for scale-down: earlier phases go first.
var phaseOrdinal = map[string]int{phasePending: 0, phaseUnknown: 1, phaseRunning: 2}

// podsToDelete returns the diff least valuable of pods, in deletion order. related are the
// active Pods of the owner's siblings (ReplicaSets with the same controller), which rank Pods
// doubled up on a Node before the others. pods is reordered.
func podsToDelete(pods, related []*corev1.Pod, diff int, now time.Time) []*corev1.Pod {
	if diff >= len(pods) {
		return pods
	}
	onNode := map[string]int{}
	for _, p := range related {
		if isActive(p) {
			onNode[p.GetSpec().GetNodeName()]++
		}
	}
	r := ranked{pods: pods, rank: make([]int, len(pods)), now: now}
	for i, p := range pods {
		r.rank[i] = onNode[p.GetSpec().GetNodeName()]
	}
	sort.Sort(r)
	return pods[:diff]
}

// ranked sorts Pods least valuable first (Kubernetes' ActivePodsWithRanks, with
// LogarithmicScaleDown and PodDeletionCost on, as they are by default).
type ranked struct {
	pods []*corev1.Pod
	rank []int // active sibling Pods on the same Node
	now  time.Time
}

func (r ranked) Len() int { return len(r.pods) }

func (r ranked) Swap(i, j int) {
	r.pods[i], r.pods[j] = r.pods[j], r.pods[i]
	r.rank[i], r.rank[j] = r.rank[j], r.rank[i]
}

func (r ranked) Less(i, j int) bool {
	a, b := r.pods[i], r.pods[j]
	// 1. Unassigned before assigned.
	na, nb := a.GetSpec().GetNodeName(), b.GetSpec().GetNodeName()
	if na != nb && (na == "" || nb == "") {
		return na == ""
	}
	// 2. Pending before Unknown before Running.
	if pa, pb := phaseOrdinal[a.GetStatus().GetPhase()], phaseOrdinal[b.GetStatus().GetPhase()]; pa != pb {
		return pa < pb
	}
	// 3. Not ready before ready.
	ra, rb := isReady(a), isReady(b)
	if ra != rb {
		return !ra
	}
	// 4. Lower deletion cost before higher.
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	// 5. Doubled up on a Node before alone.
	if r.rank[i] != r.rank[j] {
		return r.rank[i] > r.rank[j]
	}
	// 6. Ready for less time before ready for more, by powers of two of the time.
	if ra && rb {
		ta, tb := readySince(a), readySince(b)
		if !ta.Equal(tb) {
			if ta.IsZero() || tb.IsZero() {
				return afterOrZero(ta, tb)
			}
			if d := logRankDiff(ta, tb, r.now); d != 0 {
				return d < 0
			}
			return a.GetMetadata().GetUid() < b.GetMetadata().GetUid()
		}
	}
	// 7. More container restarts before fewer.
	if ma, mb := maxRestarts(a), maxRestarts(b); ma != mb {
		return ma.regular > mb.regular || (ma.regular == mb.regular && ma.sidecar > mb.sidecar)
	}
	// 8. Newer before older, by powers of two of the age.
	ta, tb := created(a), created(b)
	if !ta.Equal(tb) {
		if ta.IsZero() || tb.IsZero() {
			return afterOrZero(ta, tb)
		}
		if d := logRankDiff(ta, tb, r.now); d != 0 {
			return d < 0
		}
		return a.GetMetadata().GetUid() < b.GetMetadata().GetUid()
	}
	return false
}

// deletionCost is the Pod's deletion cost annotation; 0 when absent or not an int32.
func deletionCost(p *corev1.Pod) int32 {
	v, ok := p.GetMetadata().GetAnnotations()[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// afterOrZero orders a zero time first, then later times before earlier ones.
func afterOrZero(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero()
	}
	return a.After(b)
}

// logRankDiff compares how long ago a and b were by the integer log2 of the nanoseconds: a
// negative result means a is more recent by at least a power of two.
func logRankDiff(a, b, now time.Time) int64 {
	rank := func(t time.Time) int64 {
		d := now.Sub(t)
		if d <= 0 {
			return -1
		}
		return int64(math.Log2(float64(d)))
	}
	return rank(a) - rank(b)
}

// restarts are a Pod's highest restart counts.
type restarts struct{ regular, sidecar int32 }

// maxRestarts is the highest restart count of the Pod's containers, and of its sidecars (init
// containers with restartPolicy Always).
func maxRestarts(p *corev1.Pod) restarts {
	var r restarts
	for _, s := range p.GetStatus().GetContainerStatuses() {
		r.regular = max(r.regular, s.GetRestartCount())
	}
	sidecars := map[string]bool{}
	for _, c := range p.GetSpec().GetInitContainers() {
		if c.GetRestartPolicy() == "Always" {
			sidecars[c.GetName()] = true
		}
	}
	for _, s := range p.GetStatus().GetInitContainerStatuses() {
		if sidecars[s.GetName()] {
			r.sidecar = max(r.sidecar, s.GetRestartCount())
		}
	}
	return r
}

func created(p *corev1.Pod) time.Time {
	ts := p.GetMetadata().GetCreationTimestamp()
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
