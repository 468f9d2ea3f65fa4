package agent

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func testAgent(cfg Config) *agent {
	setDefaults(&cfg)
	return &agent{cfg: cfg, address: "10.0.0.7", hostname: "host-a", port: 10250}
}

func TestCapacity(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		info runtime.NodeInfo
		want map[string]string
	}{
		{"from the runtime", Config{}, runtime.NodeInfo{CPUs: 2, MemoryBytes: 8 << 30},
			map[string]string{"cpu": "2", "memory": "8Gi", "pods": "110"}},
		{"memory not a whole Ki", Config{MaxPods: 20}, runtime.NodeInfo{CPUs: 1, MemoryBytes: 1001},
			map[string]string{"cpu": "1", "memory": "1001", "pods": "20"}},
		{"kernel-reported memory", Config{}, runtime.NodeInfo{CPUs: 4, MemoryBytes: 16318644 * 1024},
			map[string]string{"cpu": "4", "memory": "16318644Ki", "pods": "110"}},
		{"hollow overrides", Config{Capacity: map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"}}, runtime.NodeInfo{CPUs: 2, MemoryBytes: 1 << 30},
			map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"}},
		{"runtime down", Config{}, runtime.NodeInfo{}, map[string]string{"pods": "110"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testAgent(tt.cfg).capacity(tt.info)
			if len(got) != len(tt.want) {
				t.Fatalf("capacity %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("capacity[%s] = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func condition(st *corev1.NodeStatus, typ string) *corev1.NodeCondition {
	for _, c := range st.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func TestNodeStatus(t *testing.T) {
	a := testAgent(Config{NodeName: "n1", Version: "v9"})
	info := runtime.NodeInfo{CPUs: 2, MemoryBytes: 4 << 30, OS: "linux", Arch: "amd64", KernelVersion: "6.1", OSImage: "Debian", RuntimeVersion: "docker://20.10.24", MachineID: "m1"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	ready := a.nodeStatus(nodeState{info: info}, nil, t0)
	c := condition(ready, "Ready")
	if c.GetStatus() != "True" || c.GetReason() != "KubeletReady" || c.GetMessage() != "kubelet is posting ready status" {
		t.Errorf("Ready condition %v", c)
	}
	if !c.GetLastTransitionTime().AsTime().Equal(t0) || !c.GetLastHeartbeatTime().AsTime().Equal(t0) {
		t.Errorf("Ready times %v", c)
	}
	for _, typ := range []string{"MemoryPressure", "DiskPressure", "PIDPressure"} {
		if c := condition(ready, typ); c.GetStatus() != "False" {
			t.Errorf("%s = %v", typ, c)
		}
	}
	if p := ready.GetDaemonEndpoints().GetKubeletEndpoint().GetPort(); p != 10250 {
		t.Errorf("kubelet endpoint port %d", p)
	}
	addrs := ready.GetAddresses()
	if len(addrs) != 2 || addrs[0].GetType() != "InternalIP" || addrs[0].GetAddress() != "10.0.0.7" || addrs[1].GetType() != "Hostname" || addrs[1].GetAddress() != "host-a" {
		t.Errorf("addresses %v", addrs)
	}
	ni := ready.GetNodeInfo()
	if ni.GetKubeletVersion() != "v9" || ni.GetContainerRuntimeVersion() != "docker://20.10.24" || ni.GetMachineId() != "m1" || ni.GetOperatingSystem() != "linux" {
		t.Errorf("nodeInfo %v", ni)
	}
	if ready.GetAllocatable()["cpu"] != "2" || ready.GetAllocatable()["memory"] != "4Gi" {
		t.Errorf("allocatable %v", ready.GetAllocatable())
	}

	// Still ready later: the transition time stays, the heartbeat moves.
	t1 := t0.Add(40 * time.Second)
	again := a.nodeStatus(nodeState{info: info}, ready, t1)
	c = condition(again, "Ready")
	if !c.GetLastTransitionTime().AsTime().Equal(t0) || !c.GetLastHeartbeatTime().AsTime().Equal(t1) {
		t.Errorf("Ready times after a heartbeat %v", c)
	}
	if !sameStatus(ready, again) {
		t.Error("a heartbeat alone counts as a change")
	}

	// The runtime goes away: not ready with the reason, capacity and nodeInfo kept.
	t2 := t1.Add(10 * time.Second)
	down := a.nodeStatus(nodeState{err: errors.New("Cannot connect to the Docker daemon")}, again, t2)
	c = condition(down, "Ready")
	if c.GetStatus() != "False" || c.GetReason() != "KubeletNotReady" || c.GetMessage() != "container runtime is down: Cannot connect to the Docker daemon" {
		t.Errorf("Ready condition when down %v", c)
	}
	if !c.GetLastTransitionTime().AsTime().Equal(t2) {
		t.Errorf("transition time %v, want %v", c.GetLastTransitionTime().AsTime(), t2)
	}
	if down.GetCapacity()["cpu"] != "2" || down.GetCapacity()["memory"] != "4Gi" {
		t.Errorf("capacity when down %v", down.GetCapacity())
	}
	if !proto.Equal(down.GetNodeInfo(), again.GetNodeInfo()) {
		t.Errorf("nodeInfo when down %v", down.GetNodeInfo())
	}
	if sameStatus(again, down) {
		t.Error("ready → not ready is not a change")
	}
}

func TestNewNodeLabels(t *testing.T) {
	a := testAgent(Config{NodeName: "n1", Labels: map[string]string{"zone": "a", LabelOS: "plan9"}})
	n := a.newNode(nodeState{info: runtime.NodeInfo{OS: "linux", Arch: "arm64"}})
	want := map[string]string{LabelHostname: "n1", LabelOS: "plan9", LabelArch: "arm64", "zone": "a"}
	got := n.GetMetadata().GetLabels()
	if len(got) != len(want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestMergeStatus(t *testing.T) {
	scheduled := &corev1.PodCondition{Type: "PodScheduled", Status: "True"}
	tests := []struct {
		name      string
		old, next *corev1.PodStatus
		want      *corev1.PodStatus
	}{
		{"keeps PodScheduled and qosClass",
			&corev1.PodStatus{Phase: "Pending", QosClass: "BestEffort", Conditions: []*corev1.PodCondition{scheduled}},
			&corev1.PodStatus{Phase: "Running", PodIp: "10.1.0.2", Conditions: []*corev1.PodCondition{{Type: "Ready", Status: "True"}}},
			&corev1.PodStatus{Phase: "Running", PodIp: "10.1.0.2", QosClass: "BestEffort", Conditions: []*corev1.PodCondition{scheduled, {Type: "Ready", Status: "True"}}}},
		{"the workers' PodScheduled wins",
			&corev1.PodStatus{Conditions: []*corev1.PodCondition{scheduled}},
			&corev1.PodStatus{Phase: "Running", Conditions: []*corev1.PodCondition{{Type: "PodScheduled", Status: "True", Reason: "x"}}},
			&corev1.PodStatus{Phase: "Running", Conditions: []*corev1.PodCondition{{Type: "PodScheduled", Status: "True", Reason: "x"}}}},
		{"never out of Succeeded",
			&corev1.PodStatus{Phase: "Succeeded"}, &corev1.PodStatus{Phase: "Running"}, nil},
		{"Failed to Failed is fine",
			&corev1.PodStatus{Phase: "Failed"}, &corev1.PodStatus{Phase: "Failed", Message: "m"}, &corev1.PodStatus{Phase: "Failed", Message: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeStatus(tt.old, tt.next)
			if !proto.Equal(got, tt.want) {
				t.Errorf("mergeStatus = %v, want %v", got, tt.want)
			}
		})
	}
}
