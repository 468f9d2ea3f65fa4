package plugins

import (
	"fmt"
	"math"
	"unique"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Reasons of PodTopologySpread, as Kubernetes words them.
const (
	ReasonTopologySpread         = "node(s) didn't match pod topology spread constraints"
	ReasonTopologySpreadNoLabels = ReasonTopologySpread + " (missing required label)"
)

var (
	topologySpreadStatus         = framework.NewStatus(framework.Unschedulable, ReasonTopologySpread)
	topologySpreadNoLabelsStatus = framework.NewStatus(framework.Unschedulable, ReasonTopologySpreadNoLabels)
)

// PodTopologySpread enforces a Pod's topologySpreadConstraints: those with
// whenUnsatisfiable: DoNotSchedule as a Filter (placing the Pod must not make the number of
// matching Pods in the Node's domain exceed the smallest domain's by more than maxSkew), those
// with ScheduleAnyway as a Score (fewer matching Pods in the domain is better). Matching Pods
// are those of the Pod's namespace that the constraint's labelSelector selects, counted on
// the Nodes that match the Pod's node affinity and carry every constraint's topology key,
// as Kubernetes does by default (nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore).
//
// Counting reads the snapshot's label columns for the topology keys and the Nodes' Pods by
// LabelSet, each LabelSet matched against the selector once per decision: the cost is the
// number of Nodes times the distinct label sets on each, not the number of Pods.
type PodTopologySpread struct{}

// Name implements framework.Plugin.
func (PodTopologySpread) Name() string { return PodTopologySpreadName }

type spreadConstraint struct {
	maxSkew    int64
	key        string
	minDomains int
	selfMatch  int64 // 1 when the Pod matches its own constraint
	col        *framework.LabelColumn
	match      *selectorMemo
}

// constraints compiles the Pod's constraints with the given whenUnsatisfiable against snap.
func constraints(pod *framework.PodInfo, when string, snap *framework.Snapshot) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for _, c := range pod.Pod.GetSpec().GetTopologySpreadConstraints() {
		w := c.GetWhenUnsatisfiable()
		if w == "" {
			w = "DoNotSchedule"
		}
		if w != when {
			continue
		}
		sel, err := labelSelector(c.GetLabelSelector())
		if err != nil {
			return nil, fmt.Errorf("topologySpreadConstraints %s: %w", c.GetTopologyKey(), err)
		}
		sc := spreadConstraint{
			maxSkew: int64(c.GetMaxSkew()), key: c.GetTopologyKey(), minDomains: int(c.GetMinDomains()),
			col: snap.LabelColumn(c.GetTopologyKey()), match: newSelectorMemo(sel, pod.Namespace()),
		}
		if sel.Matches(labels.Set(pod.Labels())) {
			sc.selfMatch = 1
		}
		out = append(out, sc)
	}
	return out, nil
}

// labelSelector converts a selector as Kubernetes does: nil selects nothing, empty everything.
func labelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	k := &kmetav1.LabelSelector{MatchLabels: s.GetMatchLabels()}
	for _, e := range s.GetMatchExpressions() {
		k.MatchExpressions = append(k.MatchExpressions, kmetav1.LabelSelectorRequirement{
			Key: e.GetKey(), Operator: kmetav1.LabelSelectorOperator(e.GetOperator()), Values: e.GetValues(),
		})
	}
	return kmetav1.LabelSelectorAsSelector(k)
}

// selectorMemo counts the Pods of a Node that a selector selects in a namespace, matching
// each LabelSet once.
type selectorMemo struct {
	sel  labels.Selector
	ns   string
	seen map[unique.Handle[string]]bool
}

func newSelectorMemo(sel labels.Selector, ns string) *selectorMemo {
	return &selectorMemo{sel: sel, ns: ns, seen: map[unique.Handle[string]]bool{}}
}

// count counts the matching Pods of node that are not terminating. It writes the memo: not
// for concurrent use.
func (m *selectorMemo) count(node *framework.NodeInfo) int64 {
	var n int64
	for _, ls := range node.LabelSets() {
		ok, seen := m.seen[ls.Set]
		if !seen {
			ok = ls.Namespace == m.ns && m.sel.Matches(labels.Set(ls.Labels))
			m.seen[ls.Set] = ok
		}
		if ok {
			n += int64(ls.Pods)
		}
	}
	return n
}

// domains reads, for each constraint, the ID of node's domain; false when node lacks one of
// the topology keys.
func domains(node *framework.NodeInfo, cs []spreadConstraint, ids []int32) bool {
	for i := range cs {
		ids[i] = cs[i].col.NodeID(node, cs[i].key)
		if ids[i] == 0 {
			return false
		}
	}
	return true
}

type spreadFilterState struct {
	constraints []spreadConstraint
	// counts[i][d] is the number of matching Pods in domain d of constraint i (by label
	// column ID); present[i][d] whether d is a domain of an eligible Node.
	counts  [][]int64
	present [][]bool
	// minMatch[i] is the smallest count among constraint i's domains (0 when there are fewer
	// domains than minDomains).
	minMatch []int64
}

var spreadFilterKey = framework.NewStateKey()

// PreFilter implements framework.PreFilterPlugin: it counts the matching Pods of every
// domain. Pods without DoNotSchedule constraints skip the Filter.
func (PodTopologySpread) PreFilter(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot) *framework.Status {
	cs, err := constraints(pod, "DoNotSchedule", snap)
	if err != nil {
		return framework.NewStatus(framework.Unschedulable, err.Error())
	}
	if len(cs) == 0 {
		return skipStatus
	}
	s := &spreadFilterState{constraints: cs, counts: make([][]int64, len(cs)), present: make([][]bool, len(cs)), minMatch: make([]int64, len(cs))}
	for i := range cs {
		s.counts[i] = make([]int64, cs[i].col.Values()+1)
		s.present[i] = make([]bool, cs[i].col.Values()+1)
	}
	affinity := requiredNodeAffinity(pod.Pod.GetSpec())
	affinity.compile(snap)
	ids := make([]int32, len(cs))
	for _, node := range snap.Nodes {
		if !domains(node, cs, ids) || !affinity.matches(node) {
			continue
		}
		for i := range cs {
			s.present[i][ids[i]] = true
			s.counts[i][ids[i]] += cs[i].match.count(node)
		}
	}
	for i := range cs {
		m, n := int64(math.MaxInt64), 0
		for d, ok := range s.present[i] {
			if ok {
				m, n = min(m, s.counts[i][d]), n+1
			}
		}
		if n == 0 || n < cs[i].minDomains {
			m = 0
		}
		s.minMatch[i] = m
	}
	state.Write(spreadFilterKey, s)
	return nil
}

// Filter implements framework.FilterPlugin.
func (PodTopologySpread) Filter(state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	s, ok := state.Read(spreadFilterKey).(*spreadFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s: Filter without PreFilter", PodTopologySpreadName))
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		d := c.col.NodeID(node, c.key)
		if d == 0 {
			return topologySpreadNoLabelsStatus
		}
		var n int64
		if d > 0 {
			n = s.counts[i][d]
		}
		if n+c.selfMatch-s.minMatch[i] > c.maxSkew {
			return topologySpreadStatus
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	// counts[i][d] is the number of matching Pods, over every eligible Node, in domain d of
	// constraint i, for the domains of the feasible Nodes; for kubernetes.io/hostname,
	// counts[i][n] is the count of the Node with Index n.
	counts [][]int64
	// weights[i] is log(number of domains + 2), so that constraints over few domains weigh less.
	weights []float64
	// ignored[n] is set for the feasible Node with Index n that lacks a topology key.
	ignored []bool
}

var spreadScoreKey = framework.NewStateKey()

// PreScore implements framework.PreScorePlugin. Pods without ScheduleAnyway constraints skip
// the Score.
func (PodTopologySpread) PreScore(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot, feasible []*framework.NodeInfo) *framework.Status {
	cs, err := constraints(pod, "ScheduleAnyway", snap)
	if err != nil {
		return framework.AsStatus(err)
	}
	if len(cs) == 0 {
		return skipStatus
	}
	s := &spreadScoreState{constraints: cs, counts: make([][]int64, len(cs)), weights: make([]float64, len(cs)), ignored: make([]bool, len(snap.Nodes))}
	present := make([][]bool, len(cs))
	sizes := make([]int, len(cs))
	for i := range cs {
		if cs[i].key == framework.LabelHostname {
			s.counts[i] = make([]int64, len(snap.Nodes))
		} else {
			s.counts[i] = make([]int64, cs[i].col.Values()+1)
			present[i] = make([]bool, cs[i].col.Values()+1)
		}
	}
	ids := make([]int32, len(cs))
	ignored := 0
	for _, node := range feasible {
		if !domains(node, cs, ids) {
			s.ignored[node.Index] = true
			ignored++
			continue
		}
		for i := range cs {
			if cs[i].key == framework.LabelHostname {
				s.counts[i][node.Index] = cs[i].match.count(node)
			} else if !present[i][ids[i]] {
				present[i][ids[i]] = true
				sizes[i]++
			}
		}
	}
	for i := range cs {
		size := sizes[i]
		if cs[i].key == framework.LabelHostname {
			size = len(feasible) - ignored
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	// Count the matching Pods of the feasible Nodes' domains over every eligible Node.
	affinity := requiredNodeAffinity(pod.Pod.GetSpec())
	affinity.compile(snap)
	for _, node := range snap.Nodes {
		if !domains(node, cs, ids) || !affinity.matches(node) {
			continue
		}
		for i := range cs {
			if cs[i].key != framework.LabelHostname && present[i][ids[i]] {
				s.counts[i][ids[i]] += cs[i].match.count(node)
			}
		}
	}
	state.Write(spreadScoreKey, s)
	return nil
}

// Score implements framework.ScorePlugin: Σ over constraints of count × weight + maxSkew − 1.
func (PodTopologySpread) Score(state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	s, ok := state.Read(spreadScoreKey).(*spreadScoreState)
	if !ok || s.ignored[node.Index] {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		var n int64
		if c.key == framework.LabelHostname {
			n = s.counts[i][node.Index]
		} else if d := c.col.NodeID(node, c.key); d > 0 {
			n = s.counts[i][d]
		}
		score += float64(n)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// NormalizeScore implements framework.ScoreNormalizer: the Nodes with the fewest matching
// Pods get 100; ignored Nodes (missing a topology key) get 0.
func (PodTopologySpread) NormalizeScore(state *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	s, ok := state.Read(spreadScoreKey).(*spreadScoreState)
	if !ok {
		return nil
	}
	var minScore, maxScore int64 = math.MaxInt64, 0
	for _, sc := range scores {
		if s.ignored[sc.Node.Index] {
			continue
		}
		minScore, maxScore = min(minScore, sc.Score), max(maxScore, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Node.Index]:
			scores[i].Score = 0
		case maxScore == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (maxScore + minScore - scores[i].Score) / maxScore
		}
	}
	return nil
}
