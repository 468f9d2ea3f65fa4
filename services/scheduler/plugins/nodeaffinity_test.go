package plugins

import (
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

func TestNodeAffinityFilter(t *testing.T) {
	node := newNode("node-1", nodeLabels("zone", "a", "disk", "ssd", "cores", "8"))
	type reqs = []*corev1.NodeSelectorRequirement
	for _, tc := range []struct {
		name string
		pod  podOpt
		want string
	}{
		{"nothing required", func(*corev1.Pod) {}, "skip"},
		{"nodeSelector matches", nodeSelector("zone", "a", "disk", "ssd"), ""},
		{"nodeSelector value differs", nodeSelector("zone", "b"), ReasonNodeAffinity},
		{"nodeSelector label missing", nodeSelector("gpu", "true"), ReasonNodeAffinity},
		{"In", requiredTerms(reqs{req("zone", "In", "a", "b")}), ""},
		{"In, not listed", requiredTerms(reqs{req("zone", "In", "b", "c")}), ReasonNodeAffinity},
		{"NotIn", requiredTerms(reqs{req("zone", "NotIn", "b")}), ""},
		{"NotIn, listed", requiredTerms(reqs{req("zone", "NotIn", "a")}), ReasonNodeAffinity},
		{"NotIn, label missing", requiredTerms(reqs{req("gpu", "NotIn", "x")}), ""},
		{"Exists", requiredTerms(reqs{req("disk", "Exists")}), ""},
		{"Exists, missing", requiredTerms(reqs{req("gpu", "Exists")}), ReasonNodeAffinity},
		{"DoesNotExist", requiredTerms(reqs{req("gpu", "DoesNotExist")}), ""},
		{"DoesNotExist, present", requiredTerms(reqs{req("disk", "DoesNotExist")}), ReasonNodeAffinity},
		{"Gt", requiredTerms(reqs{req("cores", "Gt", "4")}), ""},
		{"Gt, equal", requiredTerms(reqs{req("cores", "Gt", "8")}), ReasonNodeAffinity},
		{"Lt", requiredTerms(reqs{req("cores", "Lt", "16")}), ""},
		{"Lt, larger", requiredTerms(reqs{req("cores", "Lt", "2")}), ReasonNodeAffinity},
		{"Gt on a non-number label", requiredTerms(reqs{req("zone", "Gt", "1")}), ReasonNodeAffinity},
		{"Gt on a missing label", requiredTerms(reqs{req("gpus", "Gt", "1")}), ReasonNodeAffinity},
		{"Gt with a non-number value", requiredTerms(reqs{req("cores", "Gt", "many")}), ReasonNodeAffinity},
		{"requirements of a term are ANDed", requiredTerms(reqs{req("zone", "In", "a"), req("disk", "In", "hdd")}), ReasonNodeAffinity},
		{"terms are ORed", requiredTerms(reqs{req("zone", "In", "b")}, reqs{req("disk", "In", "ssd")}), ""},
		{"matchFields metadata.name In", requiredTerms(reqs{req("metadata.name", "In", "node-1")}), ""},
		{"matchFields metadata.name NotIn", requiredTerms(reqs{req("metadata.name", "NotIn", "node-1")}), ReasonNodeAffinity},
		{"empty term matches nothing", requiredTerms(reqs{}), ReasonNodeAffinity},
		{"nodeSelector and affinity both apply", func(p *corev1.Pod) {
			nodeSelector("zone", "b")(p)
			requiredTerms(reqs{req("disk", "In", "ssd")})(p)
		}, ReasonNodeAffinity},
		{"unknown operator", requiredTerms(reqs{req("zone", "Near", "a")}), ReasonNodeAffinity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := framework.NewPodInfo(newPod(tc.pod))
			got := filter(t, NodeAffinity{}, pod, nodeInfo(node), nil)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// Without PreFilter the requirements are matched against the labels directly,
			// not through the snapshot's label columns: the same answer.
			if tc.want != "skip" {
				direct := NodeAffinity{}.Filter(&framework.CycleState{}, pod, nodeInfo(node)).Message()
				if direct != tc.want {
					t.Errorf("without PreFilter: got %q, want %q", direct, tc.want)
				}
			}
		})
	}
}

func TestNodeAffinityScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("ssd-a", nodeLabels("disk", "ssd", "zone", "a"))),
		nodeInfo(newNode("ssd-b", nodeLabels("disk", "ssd", "zone", "b"))),
		nodeInfo(newNode("hdd-a", nodeLabels("disk", "hdd", "zone", "a"))),
		nodeInfo(newNode("bare")),
	}
	pod := framework.NewPodInfo(newPod(
		preferred(80, req("disk", "In", "ssd")),
		preferred(20, req("zone", "In", "a")),
	))
	want := map[string]int64{"ssd-a": 100, "ssd-b": 80, "hdd-a": 20, "bare": 0}
	got := scores(t, NodeAffinity{}, pod, nodes...)
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %d, want %d (all: %v)", n, got[n], w, got)
		}
	}
	if got := scores(t, NodeAffinity{}, framework.NewPodInfo(newPod()), nodes...); got != nil {
		t.Errorf("a Pod without preferences was scored: %v", got)
	}
}
