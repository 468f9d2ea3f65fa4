package agent

import (
	"context"
	"fmt"
	goruntime "runtime"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Well-known Node labels the agent sets.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

// Node condition reasons and messages, as the kubelet writes them.
const (
	reasonReady    = "KubeletReady"
	reasonNotReady = "KubeletNotReady"
	messageReady   = "kubelet is posting ready status"
)

// nodeState is what the agent last learned from its runtime.
type nodeState struct {
	info runtime.NodeInfo
	// err is why the runtime did not answer; nil while it does.
	err error
}

// newNode is the Node object the agent registers (metadata and status; its spec is left to
// the cluster).
func (a *agent) newNode(st nodeState) *corev1.Node {
	labels := map[string]string{
		LabelHostname: a.cfg.NodeName,
		LabelOS:       orDefault(st.info.OS, goruntime.GOOS),
		LabelArch:     orDefault(st.info.Arch, goruntime.GOARCH),
	}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: labels},
		Spec:     &corev1.NodeSpec{},
		Status:   a.nodeStatus(st, nil, time.Now()),
	}
}

// capacity is the Node's capacity: the configured values, else the runtime's.
func (a *agent) capacity(info runtime.NodeInfo) map[string]string {
	c := map[string]string{"pods": strconv.Itoa(a.cfg.MaxPods)}
	if info.CPUs > 0 {
		c["cpu"] = strconv.Itoa(info.CPUs)
	}
	if info.MemoryBytes > 0 {
		c["memory"] = resource.NewQuantity(info.MemoryBytes, resource.BinarySI).String()
	}
	for k, v := range a.cfg.Capacity {
		c[k] = v
	}
	return c
}

// nodeStatus is the status the agent reports: capacity, addresses, system info, the port of
// its logs/exec service and its conditions. The conditions keep their transition times from
// old when their status did not change.
func (a *agent) nodeStatus(st nodeState, old *corev1.NodeStatus, now time.Time) *corev1.NodeStatus {
	info := st.info
	capacity := a.capacity(info)
	if st.err != nil && old != nil {
		// The runtime is down: keep the capacity it last reported.
		for k, v := range old.GetCapacity() {
			if _, ok := capacity[k]; !ok {
				capacity[k] = v
			}
		}
	}
	allocatable := make(map[string]string, len(capacity))
	for k, v := range capacity {
		allocatable[k] = v
	}
	addrs := []*corev1.NodeAddress{{Type: "InternalIP", Address: a.address}}
	if a.hostname != "" {
		addrs = append(addrs, &corev1.NodeAddress{Type: "Hostname", Address: a.hostname})
	}
	ts := timestamppb.New(now.Truncate(time.Second))
	ready := &corev1.NodeCondition{Type: "Ready", Status: "True", Reason: reasonReady, Message: messageReady}
	if st.err != nil {
		ready.Status, ready.Reason = "False", reasonNotReady
		ready.Message = fmt.Sprintf("container runtime is down: %v", st.err)
	}
	conds := []*corev1.NodeCondition{
		{Type: "MemoryPressure", Status: "False", Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: "DiskPressure", Status: "False", Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: "PIDPressure", Status: "False", Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}
	for _, c := range conds {
		c.LastHeartbeatTime, c.LastTransitionTime = ts, ts
		for _, o := range old.GetConditions() {
			if o.GetType() == c.Type && o.GetStatus() == c.Status && o.GetLastTransitionTime() != nil {
				c.LastTransitionTime = o.GetLastTransitionTime()
			}
		}
	}
	nodeInfo := &corev1.NodeSystemInfo{
		MachineId: info.MachineID, KernelVersion: info.KernelVersion, OsImage: info.OSImage,
		ContainerRuntimeVersion: info.RuntimeVersion, KubeletVersion: a.cfg.Version,
		OperatingSystem: orDefault(info.OS, goruntime.GOOS), Architecture: orDefault(info.Arch, goruntime.GOARCH),
	}
	if st.err != nil && old.GetNodeInfo() != nil {
		nodeInfo = old.GetNodeInfo()
	}
	return &corev1.NodeStatus{
		Capacity: capacity, Allocatable: allocatable, Conditions: conds, Addresses: addrs,
		DaemonEndpoints: &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: a.port}},
		NodeInfo:        nodeInfo,
	}
}

// sameStatus tells whether two statuses differ only in heartbeat times.
func sameStatus(a, b *corev1.NodeStatus) bool {
	if a == nil || b == nil {
		return a == b
	}
	a, b = proto.Clone(a).(*corev1.NodeStatus), proto.Clone(b).(*corev1.NodeStatus)
	for _, s := range []*corev1.NodeStatus{a, b} {
		for _, c := range s.Conditions {
			c.LastHeartbeatTime = nil
		}
	}
	return proto.Equal(a, b)
}

// register creates the Node, or, when it exists (a restart, or a Node created ahead of its
// agent), adds the agent's labels to it; then it writes the Node's status.
func (a *agent) register(ctx context.Context, st nodeState) error {
	want := a.newNode(st)
	obj, err := a.nodes.Create(ctx, want)
	switch {
	case err == nil:
		a.log.Info("node registered")
	case kerrors.IsAlreadyExists(err):
		if obj, err = a.updateNodeLabels(ctx, want.GetMetadata().GetLabels()); err != nil {
			return err
		}
		a.log.Info("node exists, updated")
	default:
		return fmt.Errorf("register node %s: %w", a.cfg.NodeName, err)
	}
	a.metrics.registeredNode.Inc()
	a.setNode(obj.(*corev1.Node))
	return a.writeNodeStatus(ctx, st)
}

// updateNodeLabels sets labels on the existing Node, leaving the others it has alone.
func (a *agent) updateNodeLabels(ctx context.Context, labels map[string]string) (*corev1.Node, error) {
	for attempt := 0; ; attempt++ {
		obj, err := a.nodes.Get(ctx, "", a.cfg.NodeName)
		if err != nil {
			return nil, fmt.Errorf("read node %s: %w", a.cfg.NodeName, err)
		}
		node := proto.Clone(obj).(*corev1.Node)
		md := node.GetMetadata()
		changed := false
		if md.Labels == nil {
			md.Labels = map[string]string{}
		}
		for k, v := range labels {
			if md.Labels[k] != v {
				md.Labels[k], changed = v, true
			}
		}
		if !changed {
			return node, nil
		}
		updated, err := a.nodes.Update(ctx, node)
		if kerrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update node %s: %w", a.cfg.NodeName, err)
		}
		return updated.(*corev1.Node), nil
	}
}

// writeNodeStatus writes the status st gives through UpdateStatus, re-reading the Node when
// the write conflicts.
func (a *agent) writeNodeStatus(ctx context.Context, st nodeState) error {
	node := a.node
	for attempt := 0; ; attempt++ {
		next := proto.Clone(node).(*corev1.Node)
		next.Status = a.nodeStatus(st, node.GetStatus(), time.Now())
		updated, err := a.nodes.UpdateStatus(ctx, next)
		switch {
		case err == nil:
			a.metrics.statusUpdates.WithLabelValues("node", "ok").Inc()
			a.setNode(updated.(*corev1.Node))
			a.statusWritten = time.Now()
			a.setReady(st.err == nil)
			return nil
		case kerrors.IsConflict(err) && attempt < 5:
			a.metrics.statusUpdates.WithLabelValues("node", "conflict").Inc()
		case kerrors.IsNotFound(err):
			// Someone deleted the Node: register it again.
			a.metrics.statusUpdates.WithLabelValues("node", "error").Inc()
			a.log.Warn("node was deleted, registering it again")
			return a.register(ctx, st)
		default:
			a.metrics.statusUpdates.WithLabelValues("node", "error").Inc()
			return fmt.Errorf("update status of node %s: %w", a.cfg.NodeName, err)
		}
		obj, err := a.nodes.Get(ctx, "", a.cfg.NodeName)
		if err != nil {
			return fmt.Errorf("read node %s: %w", a.cfg.NodeName, err)
		}
		node = obj.(*corev1.Node)
	}
}

// setReady keeps the ready-Nodes gauge in step with this Node's Ready condition.
func (a *agent) setReady(ready bool) {
	if ready == a.ready {
		return
	}
	a.ready = ready
	if ready {
		a.metrics.readyNodes.Inc()
	} else {
		a.metrics.readyNodes.Dec()
	}
}

// probe asks the runtime for its node info, bounded by a timeout.
func (a *agent) probe(ctx context.Context) nodeState {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.RuntimeTimeout)
	defer cancel()
	info, err := a.cfg.Runtime.Info(ctx)
	if err != nil {
		return nodeState{info: a.lastInfo, err: err}
	}
	a.lastInfo = info
	return nodeState{info: info}
}

// syncNodeStatus runs until ctx ends: every StatusInterval it probes the runtime and writes
// the Node's status when it changed or when StatusReportInterval has passed since the last
// write.
func (a *agent) syncNodeStatus(ctx context.Context) {
	t := time.NewTicker(a.cfg.StatusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := a.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		want := a.nodeStatus(st, a.node.GetStatus(), time.Now())
		if sameStatus(want, a.node.GetStatus()) && time.Since(a.statusWritten) < a.cfg.StatusReportInterval {
			continue
		}
		if (st.err == nil) != a.ready {
			if st.err != nil {
				a.log.Warn("node not ready: the runtime does not answer", "err", st.err)
				a.recorder.Eventf(a.node, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady", a.cfg.NodeName)
			} else {
				a.log.Info("node ready")
				a.recorder.Eventf(a.node, "Normal", "NodeReady", "Node %s status is now: NodeReady", a.cfg.NodeName)
			}
		}
		if err := a.writeNodeStatus(ctx, st); err != nil && ctx.Err() == nil {
			a.log.Warn("node status", "err", err)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
