package plugins

import (
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
	"testing"

	"github.com/berth-dev/berth/services/scheduler/framework"
)

func TestOwnerSpread(t *testing.T) {
	rs := owner("rs-1")
	other := owner("rs-2")
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("a1", nodeLabels(framework.LabelZone, "a")), newPod(rs), newPod(rs)),
		nodeInfo(newNode("a2", nodeLabels(framework.LabelZone, "a")), newPod(rs)),
		nodeInfo(newNode("b1", nodeLabels(framework.LabelZone, "b")), newPod(other), newPod(other)),
		nodeInfo(newNode("b2", nodeLabels(framework.LabelZone, "b"))),
	}
	got := scores(t, OwnerSpread{}, framework.NewPodInfo(newPod(rs)), nodes...)
	// Node scores: a1 0, a2 50, b1 100, b2 100. Zone a holds 3 (zone score 0), b none (100).
	// Blended 1/3 node + 2/3 zone, rounded: a1 0, a2 17, b1 100, b2 100.
	want := map[string]int64{"a1": 0, "a2": 17, "b1": 100, "b2": 100}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %d, want %d (all: %v)", n, got[n], w, got)
		}
	}
	if got := scores(t, OwnerSpread{}, framework.NewPodInfo(newPod()), nodes...); got != nil {
		t.Errorf("a Pod without controller was scored: %v", got)
	}
	withConstraints := newPod(rs, spread(1, framework.LabelZone, "ScheduleAnyway", map[string]string{"app": "x"}))
	if got := scores(t, OwnerSpread{}, framework.NewPodInfo(withConstraints), nodes...); got != nil {
		t.Errorf("a Pod with its own spread constraints was scored by OwnerSpread: %v", got)
	}
	// Without zones, only the Nodes count.
	flat := []*framework.NodeInfo{
		nodeInfo(newNode("n1"), newPod(rs), newPod(rs)),
		nodeInfo(newNode("n2"), newPod(rs)),
		nodeInfo(newNode("n3")),
	}
	got = scores(t, OwnerSpread{}, framework.NewPodInfo(newPod(rs)), flat...)
	if want := map[string]int64{"n1": 0, "n2": 50, "n3": 100}; got["n1"] != want["n1"] || got["n2"] != want["n2"] || got["n3"] != want["n3"] {
		t.Errorf("without zones: %v, want %v", got, want)
	}
}

func TestPodTopologySpreadFilter(t *testing.T) {
	app := podLabels("app", "web")
	build := func() []*framework.NodeInfo {
		return []*framework.NodeInfo{
			nodeInfo(newNode("a1", nodeLabels(framework.LabelZone, "a")), newPod(app), newPod(app)),
			nodeInfo(newNode("b1", nodeLabels(framework.LabelZone, "b")), newPod(app)),
			nodeInfo(newNode("c1", nodeLabels(framework.LabelZone, "c"))),
			nodeInfo(newNode("nozone")),
		}
	}
	web := map[string]string{"app": "web"}
	for _, tc := range []struct {
		name string
		pod  []podOpt
		want map[string]string
	}{
		{"no constraints", []podOpt{app}, map[string]string{"a1": "skip", "b1": "skip", "c1": "skip", "nozone": "skip"}},
		{"maxSkew 1 by zone", []podOpt{app, spread(1, framework.LabelZone, "DoNotSchedule", web)},
			map[string]string{"a1": ReasonTopologySpread, "b1": ReasonTopologySpread, "c1": "", "nozone": ReasonTopologySpreadNoLabels}},
		{"maxSkew 2 by zone", []podOpt{app, spread(2, framework.LabelZone, "DoNotSchedule", web)},
			map[string]string{"a1": ReasonTopologySpread, "b1": "", "c1": "", "nozone": ReasonTopologySpreadNoLabels}},
		{"a Pod that does not match its own selector", []podOpt{spread(1, framework.LabelZone, "DoNotSchedule", web)},
			map[string]string{"a1": ReasonTopologySpread, "b1": "", "c1": ""}},
		{"ScheduleAnyway does not filter", []podOpt{app, spread(1, framework.LabelZone, "ScheduleAnyway", web)},
			map[string]string{"a1": "skip", "c1": "skip"}},
		{"by hostname", []podOpt{app, spread(1, framework.LabelHostname, "DoNotSchedule", web)},
			map[string]string{"a1": ReasonTopologySpread, "b1": ReasonTopologySpread, "c1": "", "nozone": ""}},
		{"only Nodes matching the Pod's affinity count", []podOpt{app, nodeSelector(framework.LabelZone, "a"), spread(1, framework.LabelZone, "DoNotSchedule", web)},
			map[string]string{"a1": ""}},
		{"minDomains above the domains makes the minimum 0", []podOpt{app, spread(2, framework.LabelZone, "DoNotSchedule", web), func(p *corev1.Pod) {
			n := int32(5)
			p.Spec.TopologySpreadConstraints[0].MinDomains = &n
		}}, map[string]string{"a1": ReasonTopologySpread, "b1": "", "c1": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := build()
			snap := framework.NewSnapshot(nodes...)
			pod := framework.NewPodInfo(newPod(tc.pod...))
			for name, want := range tc.want {
				if got := filter(t, PodTopologySpread{}, pod, snap.Get(name), snap); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestPodTopologySpreadScore(t *testing.T) {
	app := podLabels("app", "web")
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("a1", nodeLabels(framework.LabelZone, "a")), newPod(app), newPod(app)),
		nodeInfo(newNode("a2", nodeLabels(framework.LabelZone, "a"))),
		nodeInfo(newNode("b1", nodeLabels(framework.LabelZone, "b")), newPod(app)),
		nodeInfo(newNode("c1", nodeLabels(framework.LabelZone, "c"))),
		nodeInfo(newNode("nozone")),
	}
	pod := framework.NewPodInfo(newPod(app, spread(1, framework.LabelZone, "ScheduleAnyway", map[string]string{"app": "web"})))
	got := scores(t, PodTopologySpread{}, pod, nodes...)
	// Zone counts a=2, b=1, c=0 over 3 domains: raw = count × ln(5), rounded: a 3, b 2, c 0.
	// Normalized 100 × (max + min − s) / max: a 0, b 33, c 100; nozone is ignored (0).
	want := map[string]int64{"a1": 0, "a2": 0, "b1": 33, "c1": 100, "nozone": 0}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %d, want %d (all: %v)", n, got[n], w, got)
		}
	}
	if got := scores(t, PodTopologySpread{}, framework.NewPodInfo(newPod(app)), nodes...); got != nil {
		t.Errorf("a Pod without constraints was scored: %v", got)
	}
}

// Only the Pods of the Pod's namespace that are not terminating count, however many share
// their labels.
func TestPodTopologySpreadCounts(t *testing.T) {
	app := podLabels("app", "web")
	otherNS := func(p *corev1.Pod) { p.Metadata.Namespace = "other" }
	terminating := func(p *corev1.Pod) { p.Metadata.DeletionTimestamp = timestamppb.Now() }
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("a1", nodeLabels(framework.LabelZone, "a")), newPod(app), newPod(app, otherNS), newPod(app, otherNS)),
		nodeInfo(newNode("b1", nodeLabels(framework.LabelZone, "b")), newPod(app, terminating), newPod(app, terminating)),
		nodeInfo(newNode("c1", nodeLabels(framework.LabelZone, "c")), newPod(app), newPod(podLabels("app", "db"))),
	}
	snap := framework.NewSnapshot(nodes...)
	pod := framework.NewPodInfo(newPod(app, spread(1, framework.LabelZone, "DoNotSchedule", map[string]string{"app": "web"})))
	// Counts: a=1, b=0, c=1: b is the only domain at the minimum; elsewhere the skew is 2.
	for name, want := range map[string]string{"a1": ReasonTopologySpread, "b1": "", "c1": ReasonTopologySpread} {
		if got := filter(t, PodTopologySpread{}, pod, snap.Get(name), snap); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if sets := snap.Get("a1").LabelSets(); len(sets) != 2 {
		t.Errorf("a1 has %d label sets, want 2 (one per namespace)", len(sets))
	}
	if sets := snap.Get("b1").LabelSets(); len(sets) != 0 {
		t.Errorf("b1 counts terminating pods: %v", sets)
	}
	// A matching Pod in b raises the minimum to 1: every zone may take one more.
	nodes[1].AddPod(framework.NewPodInfo(newPod(app)))
	snap = framework.NewSnapshot(nodes...)
	for _, name := range []string{"a1", "b1", "c1"} {
		if got := filter(t, PodTopologySpread{}, pod, snap.Get(name), snap); got != "" {
			t.Errorf("%s after a pod joined b: got %q", name, got)
		}
	}
}
