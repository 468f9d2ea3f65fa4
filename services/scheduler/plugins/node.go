package plugins

import (
	"fmt"
	"sync"
	"sync/atomic"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Reasons, as Kubernetes words them.
const (
	ReasonUnschedulable = "node(s) were unschedulable"
	ReasonNodeName      = "node(s) didn't match the requested node name"
	ReasonNodePorts     = "node(s) didn't have free ports for the requested pod ports"
)

var (
	unschedulableStatus = framework.NewStatus(framework.Unschedulable, ReasonUnschedulable)
	nodeNameStatus      = framework.NewStatus(framework.Unschedulable, ReasonNodeName)
	nodePortsStatus     = framework.NewStatus(framework.Unschedulable, ReasonNodePorts)
	skipStatus          = framework.NewStatus(framework.Skip)
)

// NodeUnschedulable rejects Nodes marked spec.unschedulable (cordoned), unless the Pod
// tolerates the taint node.kubernetes.io/unschedulable:NoSchedule.
type NodeUnschedulable struct{}

// Name implements framework.Plugin.
func (NodeUnschedulable) Name() string { return NodeUnschedulableName }

// Filter implements framework.FilterPlugin.
func (NodeUnschedulable) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !node.Unschedulable {
		return nil
	}
	if tolerates(pod.Pod.GetSpec().GetTolerations(), framework.TaintNodeUnschedulable, "", "NoSchedule") {
		return nil
	}
	return unschedulableStatus
}

// NodeReady rejects Nodes whose Ready condition is not True. The Node lifecycle controller
// taints such Nodes, but only once it has noticed (a grace period later); until then this
// plugin does what its taints will: a Node that is not ready counts as tainted
// node.kubernetes.io/not-ready:NoSchedule (unreachable when its Ready condition is Unknown),
// and a Pod tolerating that taint may still go there.
type NodeReady struct{}

// Name implements framework.Plugin.
func (NodeReady) Name() string { return NodeReadyName }

// Filter implements framework.FilterPlugin.
func (NodeReady) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	taint := node.NotReadyTaint()
	if taint == "" || tolerates(pod.Pod.GetSpec().GetTolerations(), taint, "", "NoSchedule") {
		return nil
	}
	return taintStatus(taint, "")
}

// NodeName rejects every Node but the one a Pod's spec.nodeName names, when it names one.
type NodeName struct{}

// Name implements framework.Plugin.
func (NodeName) Name() string { return NodeNameName }

// PreFilter implements framework.PreFilterPlugin: Pods that name no Node skip the Filter.
func (NodeName) PreFilter(_ *framework.CycleState, pod *framework.PodInfo, _ *framework.Snapshot) *framework.Status {
	if pod.Pod.GetSpec().GetNodeName() == "" {
		return skipStatus
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeName) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if n := pod.Pod.GetSpec().GetNodeName(); n != "" && n != node.Name {
		return nodeNameStatus
	}
	return nil
}

// NodePorts rejects Nodes where a host port the Pod asks for is taken (same port and
// protocol, and the same or a wildcard address).
type NodePorts struct{}

// Name implements framework.Plugin.
func (NodePorts) Name() string { return NodePortsName }

// PreFilter implements framework.PreFilterPlugin: Pods without host ports skip the Filter.
func (NodePorts) PreFilter(_ *framework.CycleState, pod *framework.PodInfo, _ *framework.Snapshot) *framework.Status {
	if len(pod.HostPorts) == 0 {
		return skipStatus
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodePorts) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if node.PortsFree(pod.HostPorts) {
		return nil
	}
	return nodePortsStatus
}

// TaintToleration rejects Nodes with a NoSchedule or NoExecute taint the Pod does not
// tolerate, and prefers Nodes with fewer PreferNoSchedule taints it does not tolerate.
type TaintToleration struct{}

// Name implements framework.Plugin.
func (TaintToleration) Name() string { return TaintTolerationName }

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	taints := node.Taints
	if len(taints) == 0 {
		return nil
	}
	tols := pod.Pod.GetSpec().GetTolerations()
	for _, t := range taints {
		if e := t.GetEffect(); e != "NoSchedule" && e != "NoExecute" {
			continue
		}
		if !tolerates(tols, t.GetKey(), t.GetValue(), t.GetEffect()) {
			return taintStatus(t.GetKey(), t.GetValue())
		}
	}
	return nil
}

var taintTolerationKey = framework.NewStateKey()

// PreScore implements framework.PreScorePlugin: it keeps the tolerations that can tolerate
// PreferNoSchedule taints.
func (TaintToleration) PreScore(state *framework.CycleState, pod *framework.PodInfo, _ *framework.Snapshot, _ []*framework.NodeInfo) *framework.Status {
	var prefer []*corev1.Toleration
	for _, t := range pod.Pod.GetSpec().GetTolerations() {
		if e := t.GetEffect(); e == "" || e == "PreferNoSchedule" {
			prefer = append(prefer, t)
		}
	}
	state.Write(taintTolerationKey, prefer)
	return nil
}

// Score implements framework.ScorePlugin: the number of PreferNoSchedule taints not
// tolerated (fewer is better once normalized).
func (TaintToleration) Score(state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	tols, _ := state.Read(taintTolerationKey).([]*corev1.Toleration)
	var n int64
	for _, t := range node.Taints {
		if t.GetEffect() == "PreferNoSchedule" && !tolerates(tols, t.GetKey(), t.GetValue(), t.GetEffect()) {
			n++
		}
	}
	return n, nil
}

// NormalizeScore implements framework.ScoreNormalizer.
func (TaintToleration) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}

// tolerates reports whether one of tols tolerates the taint key=value:effect, by
// Kubernetes' rules: an empty toleration effect matches every effect, an empty key with
// Exists matches every taint, Equal (or no operator) compares values.
func tolerates(tols []*corev1.Toleration, key, value, effect string) bool {
	for _, t := range tols {
		if e := t.GetEffect(); e != "" && e != effect {
			continue
		}
		if k := t.GetKey(); k != "" && k != key {
			continue
		}
		switch t.GetOperator() {
		case "", "Equal":
			if t.GetValue() == value {
				return true
			}
		case "Exists":
			return true
		}
	}
	return false
}

// maxTaintStatuses bounds the shared statuses kept for untolerated taints.
const maxTaintStatuses = 1024

var (
	taintStatuses sync.Map // "key\x00value" → *framework.Status
	taintCount    atomic.Int32
)

// taintStatus is Kubernetes' reason for an untolerated taint. The statuses of the first
// maxTaintStatuses taints seen are shared, so rejecting thousands of Nodes allocates nothing.
func taintStatus(key, value string) *framework.Status {
	k := key + "\x00" + value
	if st, ok := taintStatuses.Load(k); ok {
		return st.(*framework.Status)
	}
	st := framework.NewStatus(framework.Unschedulable, fmt.Sprintf("node(s) had untolerated taint {%s: %s}", key, value))
	if taintCount.Add(1) > maxTaintStatuses {
		return st
	}
	v, _ := taintStatuses.LoadOrStore(k, st)
	return v.(*framework.Status)
}
