package plugins

import (
	"fmt"
	"math"

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
type PodTopologySpread struct{}

// Name implements framework.Plugin.
func (PodTopologySpread) Name() string { return PodTopologySpreadName }

type spreadConstraint struct {
	maxSkew    int64
	key        string
	selector   labels.Selector
	minDomains int
	selfMatch  int64 // 1 when the Pod matches its own constraint
}

// constraints compiles the Pod's constraints with the given whenUnsatisfiable.
func constraints(pod *framework.PodInfo, when string) ([]spreadConstraint, error) {
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
		sc := spreadConstraint{maxSkew: int64(c.GetMaxSkew()), key: c.GetTopologyKey(), selector: sel, minDomains: int(c.GetMinDomains())}
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

// hasKeys reports whether a Node carries every constraint's topology key.
func hasKeys(node *framework.NodeInfo, cs []spreadConstraint) bool {
	l := node.Labels()
	for i := range cs {
		if _, ok := l[cs[i].key]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the Pods on node in namespace ns, not terminating, that sel selects.
func countMatching(node *framework.NodeInfo, sel labels.Selector, ns string) int64 {
	var n int64
	for _, p := range node.Pods {
		if p.Terminating || p.Namespace() != ns {
			continue
		}
		if sel.Matches(labels.Set(p.Labels())) {
			n++
		}
	}
	return n
}

type spreadFilterState struct {
	constraints []spreadConstraint
	// counts[i] maps each domain (value of constraint i's key) to its matching Pods.
	counts []map[string]int64
	// minMatch[i] is the smallest count among constraint i's domains (0 when there are fewer
	// domains than minDomains).
	minMatch []int64
}

var spreadFilterKey = framework.NewStateKey()

// PreFilter implements framework.PreFilterPlugin: it counts the matching Pods of every
// domain. Pods without DoNotSchedule constraints skip the Filter.
func (PodTopologySpread) PreFilter(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot) *framework.Status {
	cs, err := constraints(pod, "DoNotSchedule")
	if err != nil {
		return framework.NewStatus(framework.Unschedulable, err.Error())
	}
	if len(cs) == 0 {
		return skipStatus
	}
	s := &spreadFilterState{constraints: cs, counts: make([]map[string]int64, len(cs)), minMatch: make([]int64, len(cs))}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	affinity := requiredNodeAffinity(pod.Pod.GetSpec())
	ns := pod.Namespace()
	for _, node := range snap.Nodes {
		if !affinity.matches(node) || !hasKeys(node, cs) {
			continue
		}
		l := node.Labels()
		for i := range cs {
			s.counts[i][l[cs[i].key]] += countMatching(node, cs[i].selector, ns)
		}
	}
	for i := range cs {
		m := int64(math.MaxInt64)
		for _, c := range s.counts[i] {
			m = min(m, c)
		}
		if len(s.counts[i]) == 0 || len(s.counts[i]) < cs[i].minDomains {
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
	l := node.Labels()
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := l[c.key]
		if !ok {
			return topologySpreadNoLabelsStatus
		}
		if s.counts[i][v]+c.selfMatch-s.minMatch[i] > c.maxSkew {
			return topologySpreadStatus
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	// counts[i] maps each domain of constraint i among the feasible Nodes to its matching
	// Pods over all Nodes (unused for kubernetes.io/hostname, counted per Node in Score).
	counts []map[string]int64
	// weights[i] is log(number of domains + 2), so that constraints over few domains weigh less.
	weights []float64
	ignored map[string]bool
}

var spreadScoreKey = framework.NewStateKey()

// PreScore implements framework.PreScorePlugin. Pods without ScheduleAnyway constraints skip
// the Score.
func (PodTopologySpread) PreScore(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot, feasible []*framework.NodeInfo) *framework.Status {
	cs, err := constraints(pod, "ScheduleAnyway")
	if err != nil {
		return framework.AsStatus(err)
	}
	if len(cs) == 0 {
		return skipStatus
	}
	s := &spreadScoreState{constraints: cs, counts: make([]map[string]int64, len(cs)), weights: make([]float64, len(cs)), ignored: map[string]bool{}}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	for _, node := range feasible {
		if !hasKeys(node, cs) {
			s.ignored[node.Name] = true
			continue
		}
		l := node.Labels()
		for i := range cs {
			if cs[i].key != framework.LabelHostname {
				s.counts[i][l[cs[i].key]] += 0
			}
		}
	}
	for i := range cs {
		size := len(s.counts[i])
		if cs[i].key == framework.LabelHostname {
			size = len(feasible) - len(s.ignored)
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	// Count the matching Pods of those domains over every eligible Node.
	affinity := requiredNodeAffinity(pod.Pod.GetSpec())
	ns := pod.Namespace()
	for _, node := range snap.Nodes {
		if !affinity.matches(node) || !hasKeys(node, s.constraints) {
			continue
		}
		l := node.Labels()
		for i := range s.constraints {
			c := &s.constraints[i]
			if c.key == framework.LabelHostname {
				continue
			}
			if _, ok := s.counts[i][l[c.key]]; ok {
				s.counts[i][l[c.key]] += countMatching(node, c.selector, ns)
			}
		}
	}
	state.Write(spreadScoreKey, s)
	return nil
}

// Score implements framework.ScorePlugin: Σ over constraints of count × weight + maxSkew − 1.
func (PodTopologySpread) Score(state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	s, ok := state.Read(spreadScoreKey).(*spreadScoreState)
	if !ok || s.ignored[node.Name] {
		return 0, nil
	}
	l := node.Labels()
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := l[c.key]
		if !ok {
			continue
		}
		var n int64
		if c.key == framework.LabelHostname {
			n = countMatching(node, c.selector, pod.Namespace())
		} else {
			n = s.counts[i][v]
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
		if s.ignored[sc.Node.Name] {
			continue
		}
		minScore, maxScore = min(minScore, sc.Score), max(maxScore, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Node.Name]:
			scores[i].Score = 0
		case maxScore == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (maxScore + minScore - scores[i].Score) / maxScore
		}
	}
	return nil
}
