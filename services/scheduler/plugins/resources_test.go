package plugins

import (
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

func TestNodeResourcesFitFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		node   []nodeOpt
		placed [][]podOpt
		pod    []podOpt
		want   string
	}{
		{"fits", nil, nil, []podOpt{requests("cpu", "1", "memory", "1Gi")}, ""},
		{"exactly fits", nil, [][]podOpt{{requests("cpu", "3", "memory", "7Gi")}}, []podOpt{requests("cpu", "1", "memory", "1Gi")}, ""},
		{"cpu", nil, [][]podOpt{{requests("cpu", "3500m")}}, []podOpt{requests("cpu", "1")}, "Insufficient cpu"},
		{"memory", nil, nil, []podOpt{requests("memory", "9Gi")}, "Insufficient memory"},
		{"cpu and memory", nil, nil, []podOpt{requests("cpu", "5", "memory", "9Gi")}, "Insufficient cpu, Insufficient memory"},
		{"ephemeral storage", []nodeOpt{allocatable("ephemeral-storage", "10Gi")}, nil, []podOpt{requests("ephemeral-storage", "20Gi")}, "Insufficient ephemeral-storage"},
		{"extended resource", []nodeOpt{allocatable("example.com/gpu", "2")}, [][]podOpt{{requests("example.com/gpu", "1")}}, []podOpt{requests("example.com/gpu", "2")}, "Insufficient example.com/gpu"},
		{"extended resource the Node lacks", nil, nil, []podOpt{requests("example.com/gpu", "1")}, "Insufficient example.com/gpu"},
		{"extended resource fits", []nodeOpt{allocatable("example.com/gpu", "2")}, nil, []podOpt{requests("example.com/gpu", "2")}, ""},
		{"hugepages", []nodeOpt{allocatable("hugepages-2Mi", "64Mi")}, nil, []podOpt{requests("hugepages-2Mi", "128Mi")}, "Insufficient hugepages-2Mi"},
		{"pods count", []nodeOpt{allocatable("pods", "2")}, [][]podOpt{nil, nil}, nil, "Too many pods"},
		{"pods count and cpu", []nodeOpt{allocatable("pods", "1")}, [][]podOpt{{requests("cpu", "4")}}, []podOpt{requests("cpu", "1")}, "Too many pods, Insufficient cpu"},
		{"no allocatable pods", []nodeOpt{func(n *corev1.Node) { delete(n.Status.Allocatable, "pods") }}, nil, nil, "Too many pods"},
		{"no requests on a full node", nil, [][]podOpt{{requests("cpu", "4", "memory", "8Gi")}}, nil, ""},
		{"init container larger than the sum", nil, nil, []podOpt{requests("cpu", "1"), func(p *corev1.Pod) {
			p.Spec.InitContainers = []*corev1.Container{{Name: "init", Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "5"}}}}
		}}, "Insufficient cpu"},
		{"containers add up", nil, nil, []podOpt{requests("cpu", "3"), func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: "side", Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "1500m"}}})
		}}, "Insufficient cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var placed []*corev1.Pod
			for _, opts := range tc.placed {
				placed = append(placed, newPod(opts...))
			}
			ni := nodeInfo(newNode("n", tc.node...), placed...)
			if got := filter(t, NodeResourcesFit{}, framework.NewPodInfo(newPod(tc.pod...)), ni, nil); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResourceScores(t *testing.T) {
	// Kubernetes' least-allocated and balanced-allocation arithmetic.
	nodes := []*framework.NodeInfo{
		nodeInfo(newNode("empty", allocatable("cpu", "4", "memory", "4Gi"))),
		nodeInfo(newNode("half-cpu", allocatable("cpu", "4", "memory", "4Gi")), newPod(requests("cpu", "2", "memory", "0"))),
		nodeInfo(newNode("balanced", allocatable("cpu", "4", "memory", "4Gi")), newPod(requests("cpu", "2", "memory", "2Gi"))),
	}
	pod := framework.NewPodInfo(newPod(requests("cpu", "1", "memory", "1Gi")))
	for _, tc := range []struct {
		plugin framework.ScorePlugin
		want   map[string]int64
	}{
		// empty: cpu (4-1)/4=75, mem 75 → 75. half-cpu: cpu (4-3)/4=25; memory counts the
		// default 200Mi of the placed Pod: (4096-1024-200)/4096 → 70; (25+70)/2=47.
		// balanced: 25 and 25 → 25.
		{NodeResourcesFit{}, map[string]int64{"empty": 75, "half-cpu": 47, "balanced": 25}},
		// empty: 0.25 and 0.25 → 100. half-cpu: 0.75 and 0.25 → 1-0.25 → 75. balanced: 100.
		{BalancedAllocation{}, map[string]int64{"empty": 100, "half-cpu": 75, "balanced": 100}},
	} {
		t.Run(tc.plugin.Name(), func(t *testing.T) {
			got := scores(t, tc.plugin, pod, nodes...)
			for n, w := range tc.want {
				if got[n] != w {
					t.Errorf("%s: %d, want %d (all: %v)", n, got[n], w, got)
				}
			}
		})
	}
	if got := scores(t, BalancedAllocation{}, framework.NewPodInfo(newPod()), nodes...); got != nil {
		t.Errorf("a best-effort Pod was scored for balance: %v", got)
	}
	// Overcommitted Nodes score 0 free, and a fraction is capped at 1.
	over := nodeInfo(newNode("over", allocatable("cpu", "1", "memory", "1Gi")), newPod(requests("cpu", "2", "memory", "512Mi")))
	got := scores(t, NodeResourcesFit{}, pod, over)
	if got["over"] != 0 {
		t.Errorf("overcommitted node scored %d, want 0", got["over"])
	}
}
