package plugins

import (
	"math"
	"sort"
	"sync"

	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Reasons of NodeResourcesFit, as Kubernetes words them.
const (
	ReasonTooManyPods = "Too many pods"
	// ReasonInsufficient is followed by the resource's name: "Insufficient cpu".
	ReasonInsufficient = "Insufficient "
)

// insufficient holds the "Insufficient <name>" reasons of extended resources.
var insufficient sync.Map

func insufficientReason(name string) string {
	if r, ok := insufficient.Load(name); ok {
		return r.(string)
	}
	r, _ := insufficient.LoadOrStore(name, ReasonInsufficient+name)
	return r.(string)
}

// commonFit are the shared statuses of the most frequent single reasons.
var commonFit = map[string]*framework.Status{}

func init() {
	for _, r := range []string{ReasonTooManyPods, ReasonInsufficient + framework.ResourceCPU,
		ReasonInsufficient + framework.ResourceMemory, ReasonInsufficient + framework.ResourceEphemeralStorage} {
		commonFit[r] = framework.NewStatus(framework.Unschedulable, r)
	}
}

// NodeResourcesFit rejects Nodes that lack room for the Pod's requests — CPU, memory,
// ephemeral storage, the number of Pods and every extended resource, against the Node's
// allocatable minus what the Pods placed or assumed there request — and scores Nodes by how
// much CPU and memory would be left (least allocated first).
type NodeResourcesFit struct{}

// Name implements framework.Plugin.
func (NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter implements framework.FilterPlugin, as Kubernetes' fitsRequest: every shortage is a
// reason of its own.
func (NodeResourcesFit) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	var reasons []string
	if int64(len(node.Pods))+1 > node.Allocatable.Pods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	req := &pod.Requests
	free := func(want, alloc, used int64) bool { return want <= alloc-used }
	if req.MilliCPU > 0 && !free(req.MilliCPU, node.Allocatable.MilliCPU, node.Requested.MilliCPU) {
		reasons = append(reasons, ReasonInsufficient+framework.ResourceCPU)
	}
	if req.Memory > 0 && !free(req.Memory, node.Allocatable.Memory, node.Requested.Memory) {
		reasons = append(reasons, ReasonInsufficient+framework.ResourceMemory)
	}
	if req.EphemeralStorage > 0 && !free(req.EphemeralStorage, node.Allocatable.EphemeralStorage, node.Requested.EphemeralStorage) {
		reasons = append(reasons, ReasonInsufficient+framework.ResourceEphemeralStorage)
	}
	if len(req.Scalar) > 0 {
		var scalar []string
		for name, want := range req.Scalar {
			if want > 0 && !free(want, node.Allocatable.Scalar[name], node.Requested.Scalar[name]) {
				scalar = append(scalar, insufficientReason(name))
			}
		}
		sort.Strings(scalar)
		reasons = append(reasons, scalar...)
	}
	switch len(reasons) {
	case 0:
		return nil
	case 1:
		if st, ok := commonFit[reasons[0]]; ok {
			return st
		}
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// Score implements framework.ScorePlugin: least allocated, Kubernetes' default strategy.
// For CPU and memory (weight 1 each), the share of the Node left free once the Pod is placed,
// scaled to 0..100, counting the default requests for containers without any.
func (NodeResourcesFit) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	cpu := leastRequested(node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU, node.Allocatable.MilliCPU)
	mem := leastRequested(node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory, node.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

func leastRequested(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}

// BalancedAllocation prefers Nodes whose CPU and memory would be used in the same
// proportion once the Pod is placed: 100 × (1 − the standard deviation of the two shares).
type BalancedAllocation struct{}

// Name implements framework.Plugin.
func (BalancedAllocation) Name() string { return BalancedAllocationName }

// PreScore implements framework.PreScorePlugin: Pods that request neither CPU nor memory
// have nothing to balance and skip the Score, as in Kubernetes.
func (BalancedAllocation) PreScore(_ *framework.CycleState, pod *framework.PodInfo, _ *framework.Snapshot, _ []*framework.NodeInfo) *framework.Status {
	if pod.Requests.MilliCPU == 0 && pod.Requests.Memory == 0 {
		return skipStatus
	}
	return nil
}

// Score implements framework.ScorePlugin.
func (BalancedAllocation) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var fractions [2]float64
	n := 0
	add := func(requested, alloc int64) {
		if alloc == 0 {
			return
		}
		fractions[n] = min(float64(requested)/float64(alloc), 1)
		n++
	}
	add(node.Requested.MilliCPU+pod.Requests.MilliCPU, node.Allocatable.MilliCPU)
	add(node.Requested.Memory+pod.Requests.Memory, node.Allocatable.Memory)
	std := 0.0
	if n == 2 {
		std = math.Abs(fractions[0]-fractions[1]) / 2
	}
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}
