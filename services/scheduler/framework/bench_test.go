package framework_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
	"github.com/berth-dev/berth/services/scheduler/plugins"
)

// benchPod is a Deployment's Pod as the scheduler benchmark creates them: one controller, a
// nodeSelector, 100m CPU and 100 MiB.
func benchPod(i int) *framework.PodInfo {
	ctrl := true
	return framework.NewPodInfo(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprint("pod-", i), Uid: fmt.Sprint("uid-", i),
			Labels:          map[string]string{"app": "checkout"},
			OwnerReferences: []*metav1.OwnerReference{{Kind: "ReplicaSet", Uid: "5b0c3a8e-2f4d-4c61-9a7e-0d1f2e3c4b5a", Controller: &ctrl}}},
		Spec: &corev1.PodSpec{
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
			Tolerations:  []*corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute"}},
			Containers: []*corev1.Container{{Name: "c", Resources: &corev1.ResourceRequirements{
				Requests: map[string]string{"cpu": "100m", "memory": "100Mi"},
			}}},
		},
	})
}

// benchSnapshot is n Nodes of 4 CPU with podsPerNode benchmark Pods each.
func benchSnapshot(n, podsPerNode int) *framework.Snapshot {
	nodes := make([]*framework.NodeInfo, n)
	seq := 0
	for i := range nodes {
		name := fmt.Sprintf("node-%05d", i)
		ni := framework.NewNodeInfo(&corev1.Node{
			Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			}},
			Status: &corev1.NodeStatus{
				Allocatable: map[string]string{"cpu": "4", "memory": "32Gi", "pods": "110"},
				Conditions:  []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
			},
		})
		for range podsPerNode {
			ni.AddPod(benchPod(seq).WithNode(name))
			seq++
		}
		nodes[i] = ni
	}
	return framework.NewSnapshot(nodes...)
}

// BenchmarkSchedule is one decision over 5,000 Nodes holding 2 Pods each, the middle of the
// scheduler benchmark's basic run.
func BenchmarkSchedule(b *testing.B) {
	for _, parallelism := range []int32{1, 2} {
		b.Run(fmt.Sprintf("parallelism=%d", parallelism), func(b *testing.B) {
			c := plugins.DefaultConfig()
			c.Parallelism = parallelism
			f, err := framework.New(c, plugins.Registry())
			if err != nil {
				b.Fatal(err)
			}
			snap := benchSnapshot(5000, 2)
			pod := benchPod(1_000_000)
			cur := framework.Cursor{Last: -1}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for range b.N {
				res, err := f.Schedule(snap, pod, cur)
				if err != nil {
					b.Fatal(err)
				}
				cur = res.Next
			}
			// On a shared machine wall time varies with the neighbours; CPU time much less.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScheduleSpread is one decision for a Pod with topology spread constraints (zone,
// DoNotSchedule; hostname, ScheduleAnyway) and node affinity over 1,000 Nodes in 10 zones
// holding 3 matching Pods each: the scheduler benchmark's spread run, half way.
func BenchmarkScheduleSpread(b *testing.B) {
	spreadPod := func(i int) *framework.PodInfo {
		p := benchPod(i)
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "checkout"}}
		p.Pod.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: framework.LabelZone, WhenUnsatisfiable: "DoNotSchedule", LabelSelector: sel},
			{MaxSkew: 1, TopologyKey: framework.LabelHostname, WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: sel},
		}
		p.Pod.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []*corev1.NodeSelectorTerm{{
				MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"a", "b"}}},
			}}},
		}}
		return framework.NewPodInfo(p.Pod)
	}
	nodes := make([]*framework.NodeInfo, 1000)
	seq := 0
	for i := range nodes {
		name := fmt.Sprintf("node-%05d", i)
		ni := framework.NewNodeInfo(&corev1.Node{
			Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{
				framework.LabelHostname: name, "kubernetes.io/os": "linux", framework.LabelZone: fmt.Sprint("zone-", i%10),
				"tier": string(rune('a' + i%3)),
			}},
			Status: &corev1.NodeStatus{
				Allocatable: map[string]string{"cpu": "4", "memory": "32Gi", "pods": "110"},
				Conditions:  []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
			},
		})
		if i%3 != 2 {
			for range 3 {
				ni.AddPod(spreadPod(seq).WithNode(name))
				seq++
			}
		}
		nodes[i] = ni
	}
	snap := framework.NewSnapshot(nodes...)
	f := plugins.DefaultFramework()
	pod := spreadPod(1_000_000)
	cur := framework.Cursor{Last: -1}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		res, err := f.Schedule(snap, pod, cur)
		if err != nil {
			b.Fatal(err)
		}
		cur = res.Next
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
