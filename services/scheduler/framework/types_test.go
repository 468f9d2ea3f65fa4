package framework_test

import (
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

func container(req map[string]string) *corev1.Container {
	return &corev1.Container{Name: "c", Resources: &corev1.ResourceRequirements{Requests: req}}
}

func TestPodRequests(t *testing.T) {
	for _, tc := range []struct {
		name                string
		spec                *corev1.PodSpec
		cpu, mem, gpu       int64
		nonZeroCPU, nonZero int64
	}{
		{"none", &corev1.PodSpec{Containers: []*corev1.Container{container(nil)}}, 0, 0, 0, 100, 200 << 20},
		{"summed", &corev1.PodSpec{Containers: []*corev1.Container{
			container(map[string]string{"cpu": "250m", "memory": "64Mi"}),
			container(map[string]string{"cpu": "0.5", "memory": "1Gi", "example.com/gpu": "1"}),
		}}, 750, 64<<20 + 1<<30, 1, 750, 64<<20 + 1<<30},
		{"an init container above the sum", &corev1.PodSpec{
			InitContainers: []*corev1.Container{container(map[string]string{"cpu": "2", "example.com/gpu": "2"})},
			Containers:     []*corev1.Container{container(map[string]string{"cpu": "1", "memory": "1Gi"})},
		}, 2000, 1 << 30, 2, 2000, 1 << 30},
		{"defaults for scoring per container", &corev1.PodSpec{Containers: []*corev1.Container{
			container(map[string]string{"cpu": "1"}), container(map[string]string{"memory": "1Gi"}),
		}}, 1000, 1 << 30, 0, 1100, 1<<30 + 200<<20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, nz := framework.PodRequests(tc.spec)
			if req.MilliCPU != tc.cpu || req.Memory != tc.mem || req.Scalar["example.com/gpu"] != tc.gpu {
				t.Errorf("requests %+v, want cpu %d memory %d gpu %d", req, tc.cpu, tc.mem, tc.gpu)
			}
			if nz.MilliCPU != tc.nonZeroCPU || nz.Memory != tc.nonZero {
				t.Errorf("non-zero requests %+v, want cpu %d memory %d", nz, tc.nonZeroCPU, tc.nonZero)
			}
		})
	}
	if _, bad := framework.ParseResourceList(map[string]string{"cpu": "lots", "memory": "1Gi"}); len(bad) != 1 || bad[0] != "cpu" {
		t.Errorf("bad quantities reported %v, want [cpu]", bad)
	}
}

func TestNodeInfo(t *testing.T) {
	ctrl := true
	p := framework.NewPodInfo(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "u1", OwnerReferences: []*metav1.OwnerReference{
			{Uid: "not-controller"}, {Uid: "rs-1", Controller: &ctrl},
		}},
		Spec: &corev1.PodSpec{NodeName: "n", Containers: []*corev1.Container{{
			Name: "c", Ports: []*corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 53}},
			Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "1", "example.com/gpu": "1"}},
		}}},
	})
	if p.OwnerUID != "rs-1" || p.Key != "ns/p" || p.NodeName != "n" {
		t.Errorf("pod info %+v", p)
	}
	if len(p.HostPorts) != 1 || p.HostPorts[0] != (framework.HostPort{IP: "0.0.0.0", Protocol: "TCP", Port: 8080}) {
		t.Errorf("host ports %v", p.HostPorts)
	}
	ni := framework.NewNodeInfo(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n", Labels: map[string]string{framework.LabelZone: "z1"}}}, p)
	clone := ni.Clone()
	clone.AddPod(framework.NewPodInfo(&corev1.Pod{Metadata: &metav1.ObjectMeta{Uid: "u2"}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{container(map[string]string{"example.com/gpu": "3"})}}}))
	if len(ni.Pods) != 1 || ni.Requested.Scalar["example.com/gpu"] != 1 {
		t.Errorf("changing a clone changed the original: %d pods, gpu %d", len(ni.Pods), ni.Requested.Scalar["example.com/gpu"])
	}
	if clone.Requested.Scalar["example.com/gpu"] != 4 {
		t.Errorf("clone gpu %d, want 4", clone.Requested.Scalar["example.com/gpu"])
	}
	if !ni.RemovePod("u1") || ni.RemovePod("u1") {
		t.Error("RemovePod: want true then false")
	}
	if !ni.Requested.IsZero() || len(ni.UsedPorts) != 0 {
		t.Errorf("after removing the only Pod: requested %+v, ports %v", ni.Requested, ni.UsedPorts)
	}
	if ni.Zone == "" || ni.Ready || ni.NotReadyTaint() != framework.TaintNodeNotReady {
		t.Errorf("zone %q ready %v taint %q", ni.Zone, ni.Ready, ni.NotReadyTaint())
	}
}
