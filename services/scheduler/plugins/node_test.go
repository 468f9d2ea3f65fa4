package plugins

import (
	"testing"

	"github.com/berth-dev/berth/services/scheduler/framework"
)

func TestNodeUnschedulable(t *testing.T) {
	for _, tc := range []struct {
		name string
		node nodeOpt
		pod  []podOpt
		want string
	}{
		{"schedulable", nodeLabels(), nil, ""},
		{"cordoned", cordoned, nil, ReasonUnschedulable},
		{"cordoned, tolerated", cordoned, []podOpt{tolerate("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule")}, ""},
		{"cordoned, tolerated by any key", cordoned, []podOpt{tolerate("", "Exists", "", "")}, ""},
		{"cordoned, toleration of another effect", cordoned, []podOpt{tolerate("node.kubernetes.io/unschedulable", "Exists", "", "NoExecute")}, ReasonUnschedulable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := filter(t, NodeUnschedulable{}, framework.NewPodInfo(newPod(tc.pod...)), nodeInfo(newNode("n", tc.node)), nil)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNodeReady(t *testing.T) {
	notReady := "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
	for _, tc := range []struct {
		name, status string
		pod          []podOpt
		want         string
	}{
		{"ready", "True", nil, ""},
		{"not ready", "False", nil, notReady},
		{"no Ready condition", "", nil, notReady},
		{"unknown", "Unknown", nil, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
		{"not ready, tolerated", "False", []podOpt{tolerate("node.kubernetes.io/not-ready", "Exists", "", "NoSchedule")}, ""},
		{"not ready, NoExecute toleration only", "False", []podOpt{tolerate("node.kubernetes.io/not-ready", "Exists", "", "NoExecute")}, notReady},
		{"unknown, tolerating not-ready only", "Unknown", []podOpt{tolerate("node.kubernetes.io/not-ready", "Exists", "", "")}, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := filter(t, NodeReady{}, framework.NewPodInfo(newPod(tc.pod...)), nodeInfo(newNode("n", readyStatus(tc.status))), nil)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNodeName(t *testing.T) {
	for _, tc := range []struct {
		name, nodeName, want string
	}{
		{"no node named", "", "skip"},
		{"this node", "n", ""},
		{"another node", "m", ReasonNodeName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPod()
			p.Spec.NodeName = tc.nodeName
			if got := filter(t, NodeName{}, framework.NewPodInfo(p), nodeInfo(newNode("n")), nil); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNodePorts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		placed []podOpt
		pod    []podOpt
		want   string
	}{
		{"no host ports", []podOpt{hostPort(80, "", "")}, nil, "skip"},
		{"free", []podOpt{hostPort(80, "", "")}, []podOpt{hostPort(81, "", "")}, ""},
		{"taken", []podOpt{hostPort(80, "", "")}, []podOpt{hostPort(80, "TCP", "")}, ReasonNodePorts},
		{"other protocol", []podOpt{hostPort(53, "TCP", "")}, []podOpt{hostPort(53, "UDP", "")}, ""},
		{"distinct addresses", []podOpt{hostPort(80, "", "10.0.0.1")}, []podOpt{hostPort(80, "", "10.0.0.2")}, ""},
		{"same address", []podOpt{hostPort(80, "", "10.0.0.1")}, []podOpt{hostPort(80, "", "10.0.0.1")}, ReasonNodePorts},
		{"wildcard against an address", []podOpt{hostPort(80, "", "10.0.0.1")}, []podOpt{hostPort(80, "", "0.0.0.0")}, ReasonNodePorts},
		{"address against the wildcard", []podOpt{hostPort(80, "", "")}, []podOpt{hostPort(80, "", "10.0.0.1")}, ReasonNodePorts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ni := nodeInfo(newNode("n"), newPod(tc.placed...))
			if got := filter(t, NodePorts{}, framework.NewPodInfo(newPod(tc.pod...)), ni, nil); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// A removed Pod frees its ports.
	placed := newPod(hostPort(80, "", ""))
	ni := nodeInfo(newNode("n"), placed)
	ni.RemovePod(placed.Metadata.Uid)
	if got := filter(t, NodePorts{}, framework.NewPodInfo(newPod(hostPort(80, "", ""))), ni, nil); got != "" {
		t.Errorf("after the Pod holding the port left: %q", got)
	}
}

func TestTaintTolerationFilter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taint []nodeOpt
		pod   []podOpt
		want  string
	}{
		{"no taints", nil, nil, ""},
		{"NoSchedule", []nodeOpt{taint("dedicated", "gpu", "NoSchedule")}, nil, "node(s) had untolerated taint {dedicated: gpu}"},
		{"NoExecute", []nodeOpt{taint("dedicated", "", "NoExecute")}, nil, "node(s) had untolerated taint {dedicated: }"},
		{"PreferNoSchedule does not filter", []nodeOpt{taint("dedicated", "gpu", "PreferNoSchedule")}, nil, ""},
		{"tolerated with Equal", []nodeOpt{taint("dedicated", "gpu", "NoSchedule")}, []podOpt{tolerate("dedicated", "Equal", "gpu", "NoSchedule")}, ""},
		{"tolerated with no operator", []nodeOpt{taint("dedicated", "gpu", "NoSchedule")}, []podOpt{tolerate("dedicated", "", "gpu", "")}, ""},
		{"Equal with another value", []nodeOpt{taint("dedicated", "gpu", "NoSchedule")}, []podOpt{tolerate("dedicated", "Equal", "cpu", "NoSchedule")}, "node(s) had untolerated taint {dedicated: gpu}"},
		{"Exists", []nodeOpt{taint("dedicated", "gpu", "NoSchedule")}, []podOpt{tolerate("dedicated", "Exists", "", "")}, ""},
		{"Exists without key tolerates everything", []nodeOpt{taint("a", "1", "NoSchedule"), taint("b", "2", "NoExecute")}, []podOpt{tolerate("", "Exists", "", "")}, ""},
		{"effect mismatch", []nodeOpt{taint("dedicated", "gpu", "NoExecute")}, []podOpt{tolerate("dedicated", "Exists", "", "NoSchedule")}, "node(s) had untolerated taint {dedicated: gpu}"},
		{"the first untolerated is named", []nodeOpt{taint("a", "1", "NoSchedule"), taint("b", "2", "NoSchedule")}, []podOpt{tolerate("a", "Exists", "", "")}, "node(s) had untolerated taint {b: 2}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := filter(t, TaintToleration{}, framework.NewPodInfo(newPod(tc.pod...)), nodeInfo(newNode("n", tc.taint...)), nil)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTaintTolerationScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("clean")),
		nodeInfo(newNode("one", taint("a", "", "PreferNoSchedule"))),
		nodeInfo(newNode("two", taint("a", "", "PreferNoSchedule"), taint("b", "", "PreferNoSchedule"))),
		nodeInfo(newNode("hard", taint("c", "", "NoSchedule"))), // not counted by the score
	}
	for _, tc := range []struct {
		name string
		pod  []podOpt
		want map[string]int64
	}{
		{"no tolerations", nil, map[string]int64{"clean": 100, "one": 50, "two": 0, "hard": 100}},
		{"tolerates a", []podOpt{tolerate("a", "Exists", "", "PreferNoSchedule")}, map[string]int64{"clean": 100, "one": 100, "two": 0, "hard": 100}},
		{"tolerates everything", []podOpt{tolerate("", "Exists", "", "")}, map[string]int64{"clean": 100, "one": 100, "two": 100, "hard": 100}},
		{"NoSchedule toleration does not help", []podOpt{tolerate("a", "Exists", "", "NoSchedule")}, map[string]int64{"clean": 100, "one": 50, "two": 0, "hard": 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scores(t, TaintToleration{}, framework.NewPodInfo(newPod(tc.pod...)), nodes...)
			for n, w := range tc.want {
				if got[n] != w {
					t.Errorf("%s: %d, want %d (all: %v)", n, got[n], w, got)
				}
			}
		})
	}
}
