package plugins

import (
	"fmt"
	"slices"
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Builders of the Nodes and Pods the table tests run on.

type nodeOpt func(*corev1.Node)

func newNode(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{framework.LabelHostname: name}},
		Spec:     &corev1.NodeSpec{},
		Status: &corev1.NodeStatus{
			Allocatable: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"},
			Conditions:  []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func nodeLabels(kv ...string) nodeOpt {
	return func(n *corev1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func allocatable(kv ...string) nodeOpt {
	return func(n *corev1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Status.Allocatable[kv[i]] = kv[i+1]
		}
	}
}

func taint(key, value, effect string) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, &corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }

func readyStatus(status string) nodeOpt {
	return func(n *corev1.Node) {
		if status == "" {
			n.Status.Conditions = nil
			return
		}
		n.Status.Conditions = []*corev1.NodeCondition{{Type: "Ready", Status: status}}
	}
}

func nodeInfo(n *corev1.Node, pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(n)
	for _, p := range pods {
		p.Spec.NodeName = n.Metadata.Name
		ni.AddPod(framework.NewPodInfo(p))
	}
	return ni
}

type podOpt func(*corev1.Pod)

var podSeq int

func newPod(opts ...podOpt) *corev1.Pod {
	podSeq++
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "p", Uid: fmt.Sprintf("uid-%d", podSeq)},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Resources: &corev1.ResourceRequirements{Requests: map[string]string{}}}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func requests(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.Containers[0].Resources.Requests[kv[i]] = kv[i+1]
		}
	}
}

func podLabels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Metadata.Labels == nil {
			p.Metadata.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func tolerate(key, op, value, effect string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, &corev1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

func hostPort(port int32, protocol, ip string) podOpt {
	return func(p *corev1.Pod) {
		c := p.Spec.Containers[0]
		c.Ports = append(c.Ports, &corev1.ContainerPort{ContainerPort: 80, HostPort: port, Protocol: protocol, HostIp: ip})
	}
}

func owner(uid string) podOpt {
	return func(p *corev1.Pod) {
		ctrl := true
		p.Metadata.OwnerReferences = append(p.Metadata.OwnerReferences, &metav1.OwnerReference{Kind: "ReplicaSet", Name: "rs", Uid: uid, Controller: &ctrl})
	}
}

func nodeSelector(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func req(key, op string, values ...string) *corev1.NodeSelectorRequirement {
	return &corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

// requiredTerms sets required node affinity: each term is a list of matchExpressions, with
// requirements on "metadata.name" as matchFields.
func requiredTerms(terms ...[]*corev1.NodeSelectorRequirement) podOpt {
	return func(p *corev1.Pod) {
		ns := &corev1.NodeSelector{}
		for _, t := range terms {
			term := &corev1.NodeSelectorTerm{}
			for _, r := range t {
				if r.Key == "metadata.name" {
					term.MatchFields = append(term.MatchFields, r)
				} else {
					term.MatchExpressions = append(term.MatchExpressions, r)
				}
			}
			ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, term)
		}
		affinity(p).RequiredDuringSchedulingIgnoredDuringExecution = ns
	}
}

func preferred(weight int32, reqs ...*corev1.NodeSelectorRequirement) podOpt {
	return func(p *corev1.Pod) {
		na := affinity(p)
		na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
			&corev1.PreferredSchedulingTerm{Weight: weight, Preference: &corev1.NodeSelectorTerm{MatchExpressions: reqs}})
	}
}

func affinity(p *corev1.Pod) *corev1.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

func spread(maxSkew int32, key, when string, match map[string]string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, &corev1.TopologySpreadConstraint{
			MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: &metav1.LabelSelector{MatchLabels: match},
		})
	}
}

// filter runs a plugin's PreFilter (when it has one) and Filter, as the framework does, and
// returns the reasons ("" when the Node fits; "skip" when PreFilter skipped the Filter).
func filter(t *testing.T, p framework.FilterPlugin, pod *framework.PodInfo, node *framework.NodeInfo, snap *framework.Snapshot) string {
	t.Helper()
	state := &framework.CycleState{}
	if pf, ok := p.(framework.PreFilterPlugin); ok {
		if snap == nil {
			snap = framework.NewSnapshot(node)
		}
		st := pf.PreFilter(state, pod, snap)
		if st.IsSkip() {
			return "skip"
		}
		if !st.IsSuccess() {
			return "prefilter: " + st.Message()
		}
	}
	return p.Filter(state, pod, node).Message()
}

// scores runs a Score plugin over nodes, as the framework does (PreScore, Score,
// NormalizeScore), and returns the scores by Node name; nil when PreScore skipped.
func scores(t *testing.T, p framework.ScorePlugin, pod *framework.PodInfo, nodes ...*framework.NodeInfo) map[string]int64 {
	t.Helper()
	state := &framework.CycleState{}
	snap := framework.NewSnapshot(nodes...)
	if ps, ok := p.(framework.PreScorePlugin); ok {
		st := ps.PreScore(state, pod, snap, nodes)
		if st.IsSkip() {
			return nil
		}
		if !st.IsSuccess() {
			t.Fatalf("PreScore: %v", st.Err())
		}
	}
	list := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		s, st := p.Score(state, pod, n)
		if !st.IsSuccess() {
			t.Fatalf("Score %s: %v", n.Name, st.Err())
		}
		list[i] = framework.NodeScore{Node: n, Score: s}
	}
	if norm, ok := p.(framework.ScoreNormalizer); ok {
		if st := norm.NormalizeScore(state, pod, list); !st.IsSuccess() {
			t.Fatalf("NormalizeScore: %v", st.Err())
		}
	}
	out := map[string]int64{}
	for _, s := range list {
		out[s.Node.Name] = s.Score
	}
	return out
}

func TestRegistryAndDefaultConfig(t *testing.T) {
	reg := Registry()
	cfg := DefaultConfig()
	if err := cfg.Validate(reg); err != nil {
		t.Fatal(err)
	}
	for name, r := range reg {
		if got := r.New().Name(); got != name {
			t.Errorf("plugin registered as %s names itself %s", name, got)
		}
		used := slices.ContainsFunc(cfg.Plugins.Filter, func(p framework.PluginRef) bool { return p.Name == name }) ||
			slices.ContainsFunc(cfg.Plugins.Score, func(p framework.PluginRef) bool { return p.Name == name })
		if !used {
			t.Errorf("plugin %s is not in the default configuration", name)
		}
	}
	f := DefaultFramework()
	if got := f.FilterPlugins(); got[0] != NodeUnschedulableName || got[len(got)-1] != PodTopologySpreadName {
		t.Errorf("default filters %v", got)
	}
}
