package plugins

import (
	"slices"
	"strconv"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// ReasonNodeAffinity is Kubernetes' reason for a Node that does not match a Pod's
// nodeSelector or required node affinity.
const ReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector"

var nodeAffinityStatus = framework.NewStatus(framework.Unschedulable, ReasonNodeAffinity)

// NodeAffinity rejects Nodes that do not match the Pod's nodeSelector and required node
// affinity, and scores Nodes by the weights of the preferred terms they match.
type NodeAffinity struct{}

// Name implements framework.Plugin.
func (NodeAffinity) Name() string { return NodeAffinityName }

var (
	nodeAffinityFilterKey = framework.NewStateKey()
	nodeAffinityScoreKey  = framework.NewStateKey()
)

// PreFilter implements framework.PreFilterPlugin: it compiles the Pod's selector and
// required terms once; Pods with neither skip the Filter.
func (NodeAffinity) PreFilter(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot) *framework.Status {
	m := requiredNodeAffinity(pod.Pod.GetSpec())
	if m == nil {
		return skipStatus
	}
	m.compile(snap)
	state.Write(nodeAffinityFilterKey, m)
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeAffinity) Filter(state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	m, ok := state.Read(nodeAffinityFilterKey).(*nodeMatcher)
	if !ok {
		m = requiredNodeAffinity(pod.Pod.GetSpec())
	}
	if m.matches(node) {
		return nil
	}
	return nodeAffinityStatus
}

type preferredTerm struct {
	weight int64
	term   nodeTerm
}

// PreScore implements framework.PreScorePlugin: Pods without preferred terms skip the Score.
func (NodeAffinity) PreScore(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot, _ []*framework.NodeInfo) *framework.Status {
	var terms []preferredTerm
	for _, p := range pod.Pod.GetSpec().GetAffinity().GetNodeAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution() {
		if p.GetWeight() == 0 {
			continue
		}
		t := preferredTerm{weight: int64(p.GetWeight()), term: compileTerm(p.GetPreference())}
		t.term.compile(snap)
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return skipStatus
	}
	state.Write(nodeAffinityScoreKey, terms)
	return nil
}

// Score implements framework.ScorePlugin: the sum of the weights of the matching terms.
func (NodeAffinity) Score(state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	terms, _ := state.Read(nodeAffinityScoreKey).([]preferredTerm)
	var s int64
	for i := range terms {
		if terms[i].term.matches(node) {
			s += terms[i].weight
		}
	}
	return s, nil
}

// NormalizeScore implements framework.ScoreNormalizer.
func (NodeAffinity) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}

// nodeMatcher is a Pod's nodeSelector and required node affinity, compiled.
type nodeMatcher struct {
	selector []labelPair
	// selectorCols is selector resolved against a snapshot's label columns (see compile).
	selectorCols []colReq
	// terms are ORed; nil means no required affinity, an empty non-nil slice matches nothing.
	terms []nodeTerm
}

// requiredNodeAffinity compiles what a Node must match for spec; nil when anything goes.
func requiredNodeAffinity(spec *corev1.PodSpec) *nodeMatcher {
	sel := spec.GetNodeSelector()
	req := spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()
	if len(sel) == 0 && req == nil {
		return nil
	}
	m := &nodeMatcher{}
	for k, v := range sel {
		m.selector = append(m.selector, labelPair{k, v})
	}
	if req != nil {
		m.terms = make([]nodeTerm, 0, len(req.GetNodeSelectorTerms()))
		for _, t := range req.GetNodeSelectorTerms() {
			m.terms = append(m.terms, compileTerm(t))
		}
	}
	return m
}

// matches reports whether node satisfies the selector and at least one required term.
func (m *nodeMatcher) matches(node *framework.NodeInfo) bool {
	if m == nil {
		return true
	}
	if m.selectorCols != nil && node.Index < len(m.selectorCols[0].col.IDs) {
		for i := range m.selectorCols {
			if !m.selectorCols[i].matches(node.Index) {
				return false
			}
		}
	} else {
		labels := node.Labels()
		for _, kv := range m.selector {
			if got, ok := labels[kv.key]; !ok || got != kv.value {
				return false
			}
		}
	}
	if m.terms == nil {
		return true
	}
	for _, t := range m.terms {
		if t.matches(node) {
			return true
		}
	}
	return false
}

type labelPair struct{ key, value string }

// colReq is a requirement on a label (In, NotIn, Exists, DoesNotExist) resolved against a
// snapshot's label column: matching a Node reads one number from an array instead of looking
// up its labels, which for thousands of Nodes per Pod is most of the filter's cost.
type colReq struct {
	col *framework.LabelColumn
	op  string
	ids []int32
}

func newColReq(snap *framework.Snapshot, key, op string, values []string) *colReq {
	r := &colReq{col: snap.LabelColumn(key), op: op}
	for _, v := range values {
		r.ids = append(r.ids, r.col.ID(v))
	}
	return r
}

func (r *colReq) matches(i int) bool {
	id := r.col.IDs[i]
	switch r.op {
	case "In":
		return id != 0 && slices.Contains(r.ids, id)
	case "NotIn":
		return id == 0 || !slices.Contains(r.ids, id)
	case "Exists":
		return id != 0
	case "DoesNotExist":
		return id == 0
	}
	return false
}

// compile resolves the label requirements against snap's label columns, for the Filter of
// snap's Nodes.
func (m *nodeMatcher) compile(snap *framework.Snapshot) {
	if m == nil || snap == nil || len(snap.Nodes) == 0 {
		return
	}
	if len(m.selector) > 0 {
		m.selectorCols = make([]colReq, len(m.selector))
		for i, kv := range m.selector {
			m.selectorCols[i] = *newColReq(snap, kv.key, "In", []string{kv.value})
		}
	}
	for i := range m.terms {
		m.terms[i].compile(snap)
	}
}

// compile resolves the term's label requirements against snap's label columns.
func (t *nodeTerm) compile(snap *framework.Snapshot) {
	if t.invalid || snap == nil || len(snap.Nodes) == 0 {
		return
	}
	for j := range t.reqs {
		r := &t.reqs[j]
		switch {
		case r.field:
		case r.op == "In" || r.op == "NotIn" || r.op == "Exists" || r.op == "DoesNotExist":
			r.col = newColReq(snap, r.key, r.op, r.values)
		}
	}
}

// nodeTerm is a NodeSelectorTerm: all its requirements must hold. A term without any, or
// with one that cannot be parsed, matches nothing (as in Kubernetes).
type nodeTerm struct {
	reqs    []nodeRequirement
	invalid bool
}

type nodeRequirement struct {
	key    string
	op     string
	values []string
	num    int64 // the value of Gt and Lt
	field  bool  // a matchFields requirement (metadata.name)
	// col is the requirement resolved against a snapshot, when compiled.
	col *colReq
}

func compileTerm(t *corev1.NodeSelectorTerm) nodeTerm {
	var nt nodeTerm
	add := func(r *corev1.NodeSelectorRequirement, field bool) {
		req := nodeRequirement{key: r.GetKey(), op: r.GetOperator(), values: r.GetValues(), field: field}
		switch req.op {
		case "In", "NotIn":
			if len(req.values) == 0 {
				nt.invalid = true
			}
		case "Exists", "DoesNotExist":
			if field || len(req.values) != 0 {
				nt.invalid = true
			}
		case "Gt", "Lt":
			n, err := strconv.ParseInt(firstOf(req.values), 10, 64)
			if field || len(req.values) != 1 || err != nil {
				nt.invalid = true
			}
			req.num = n
		default:
			nt.invalid = true
		}
		if field && req.key != "metadata.name" {
			nt.invalid = true
		}
		nt.reqs = append(nt.reqs, req)
	}
	for _, r := range t.GetMatchExpressions() {
		add(r, false)
	}
	for _, r := range t.GetMatchFields() {
		add(r, true)
	}
	if len(nt.reqs) == 0 {
		nt.invalid = true
	}
	return nt
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (t *nodeTerm) matches(node *framework.NodeInfo) bool {
	if t.invalid {
		return false
	}
	labels := node.Labels()
	for i := range t.reqs {
		r := &t.reqs[i]
		if r.col != nil && node.Index < len(r.col.col.IDs) {
			if !r.col.matches(node.Index) {
				return false
			}
			continue
		}
		var v string
		var has bool
		if r.field {
			v, has = node.Name, true
		} else {
			v, has = labels[r.key]
		}
		if !r.matches(v, has) {
			return false
		}
	}
	return true
}

func (r *nodeRequirement) matches(v string, has bool) bool {
	switch r.op {
	case "In":
		return has && slices.Contains(r.values, v)
	case "NotIn":
		return !has || !slices.Contains(r.values, v)
	case "Exists":
		return has
	case "DoesNotExist":
		return !has
	case "Gt", "Lt":
		if !has {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == "Gt" {
			return n > r.num
		}
		return n < r.num
	}
	return false
}
