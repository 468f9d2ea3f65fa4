package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func validNamespace() *corev1.Namespace {
	return defaulted(&corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}})
}

func TestNamespace(t *testing.T) {
	runCases(t, validNamespace, []tcase[*corev1.Namespace]{
		{"name is a label, not a subdomain", func(ns *corev1.Namespace) { ns.Metadata.Name = "team.a" }, []fe{{"metadata.name", invalid}}},
		{"name too long", func(ns *corev1.Namespace) { ns.Metadata.Name = bigString(64) }, []fe{{"metadata.name", invalid}}},
		{"namespaced", func(ns *corev1.Namespace) { ns.Metadata.Namespace = "default" }, []fe{{"metadata.namespace", forbidden}}},
		{"finalizer", func(ns *corev1.Namespace) { ns.Spec.Finalizers = []string{"cleanup"} }, []fe{{"spec.finalizers", invalid}}},
		{"qualified finalizer", func(ns *corev1.Namespace) { ns.Spec.Finalizers = []string{"example.com/cleanup"} }, nil},
	})
}

func validNode() *corev1.Node {
	return defaulted(&corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: "node-1.example.com"},
		Spec: &corev1.NodeSpec{
			PodCidr: "10.244.1.0/24", PodCidrs: []string{"10.244.1.0/24"},
			Taints: []*corev1.Taint{{Key: "dedicated", Value: "db", Effect: "NoSchedule"}},
		},
		Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"}},
	})
}

func TestNode(t *testing.T) {
	runCases(t, validNode, []tcase[*corev1.Node]{
		{"name", func(n *corev1.Node) { n.Metadata.Name = "Node_1" }, []fe{{"metadata.name", invalid}}},
		{"taint effect", func(n *corev1.Node) { n.Spec.Taints[0].Effect = "Repel" }, []fe{{"spec.taints[0].effect", notSupported}}},
		{"taint without effect", func(n *corev1.Node) { n.Spec.Taints[0].Effect = "" }, []fe{{"spec.taints[0].effect", required}}},
		{"taint key", func(n *corev1.Node) { n.Spec.Taints[0].Key = "a b" }, []fe{{"spec.taints[0].key", invalid}}},
		{"taint value", func(n *corev1.Node) { n.Spec.Taints[0].Value = "a b" }, []fe{{"spec.taints[0].value", invalid}}},
		{"duplicate taint", func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, &corev1.Taint{Key: "dedicated", Value: "web", Effect: "NoSchedule"})
		}, []fe{{"spec.taints[1]", duplicate}}},
		{"same key, other effect", func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, &corev1.Taint{Key: "dedicated", Value: "db", Effect: "NoExecute"})
		}, nil},
		{"capacity", func(n *corev1.Node) { n.Status.Capacity["cpu"] = "four" }, []fe{{"status.capacity[cpu]", invalid}}},
		{"negative allocatable", func(n *corev1.Node) { n.Status.Allocatable["memory"] = "-1Gi" }, []fe{{"status.allocatable[memory]", invalid}}},
		{"podCIDR", func(n *corev1.Node) { n.Spec.PodCidr, n.Spec.PodCidrs = "10.244.1.0", []string{"10.244.1.0"} }, []fe{{"spec.podCIDR", invalid}, {"spec.podCIDRs[0]", invalid}}},
	})
	runUpdateCases(t, validNode, []updateCase[*corev1.Node]{
		{"taints", func(n *corev1.Node) { n.Spec.Taints = nil }, nil},
		{"unschedulable", func(n *corev1.Node) { n.Spec.Unschedulable = true }, nil},
		{"podCIDR", func(n *corev1.Node) { n.Spec.PodCidr, n.Spec.PodCidrs = "10.244.2.0/24", []string{"10.244.2.0/24"} }, []fe{{"spec.podCIDRs", forbidden}}},
	})
}

func validEndpoints() *corev1.Endpoints {
	return defaulted(&corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []*corev1.EndpointSubset{{
			Addresses:         []*corev1.EndpointAddress{{Ip: "10.244.1.5", NodeName: proto.String("node-1")}},
			NotReadyAddresses: []*corev1.EndpointAddress{{Ip: "10.244.1.6"}},
			Ports:             []*corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}},
		}},
	})
}

func TestEndpoints(t *testing.T) {
	const ss = "subsets[0]"
	runCases(t, validEndpoints, []tcase[*corev1.Endpoints]{
		{"ip", func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].Ip = "10.244.1" }, []fe{{ss + ".addresses[0].ip", invalid}}},
		{"loopback", func(e *corev1.Endpoints) { e.Subsets[0].NotReadyAddresses[0].Ip = "127.0.0.1" }, []fe{{ss + ".notReadyAddresses[0].ip", invalid}}},
		{"no addresses", func(e *corev1.Endpoints) {
			e.Subsets[0].Addresses, e.Subsets[0].NotReadyAddresses = nil, nil
		}, []fe{{ss, required}}},
		{"unnamed port among several", func(e *corev1.Endpoints) { e.Subsets[0].Ports[1].Name = "" }, []fe{{ss + ".ports[1].name", required}}},
		{"port protocol", func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Protocol = "" }, []fe{{ss + ".ports[0].protocol", required}}},
		{"port", func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Port = 0 }, []fe{{ss + ".ports[0].port", invalid}}},
		{"node name", func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].NodeName = proto.String("Node 1") }, []fe{{ss + ".addresses[0].nodeName", invalid}}},
	})
}

func validEvent() *corev1.Event {
	return defaulted(&corev1.Event{
		Metadata:       &metav1.ObjectMeta{Name: "web.17a8c2", Namespace: "default"},
		InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
		Reason:         "Scheduled", Message: "Successfully assigned default/web to node-1", Type: "Normal", Count: 1,
		Source: &corev1.EventSource{Component: "default-scheduler"},
	})
}

func TestEvent(t *testing.T) {
	runCases(t, validEvent, []tcase[*corev1.Event]{
		{"involved object in another namespace", func(e *corev1.Event) { e.InvolvedObject.Namespace = "kube-system" }, []fe{{"involvedObject.namespace", invalid}}},
		{"cluster-scoped involved object", func(e *corev1.Event) { e.InvolvedObject = &corev1.ObjectReference{Kind: "Node", Name: "node-1"} }, nil},
		{"new event without reporter", func(e *corev1.Event) { e.EventTime = timestamppb.Now() }, []fe{
			{"reportingComponent", required}, {"reportingInstance", required}, {"action", required},
		}},
		{"new event", func(e *corev1.Event) {
			e.EventTime, e.ReportingComponent, e.ReportingInstance, e.Action = timestamppb.Now(), "berth.dev/scheduler", "node-1", "Binding"
		}, nil},
		{"new event with a long reason", func(e *corev1.Event) {
			e.EventTime, e.ReportingComponent, e.ReportingInstance, e.Action = timestamppb.Now(), "berth.dev/scheduler", "node-1", "Binding"
			e.Reason = bigString(129)
		}, []fe{{"reason", invalid}}},
	})
	runUpdateCases(t, validEvent, []updateCase[*corev1.Event]{
		{"count", func(e *corev1.Event) { e.Count = 2; e.LastTimestamp = timestamppb.Now() }, nil},
		{"involved object", func(e *corev1.Event) { e.InvolvedObject.Name = "db" }, []fe{{"involvedObject", invalid}}},
	})
}

func validLease() *coordinationv1.Lease {
	return defaulted(&coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
		Spec: &coordinationv1.LeaseSpec{
			HolderIdentity: proto.String("node-1"), LeaseDurationSeconds: proto.Int32(40), LeaseTransitions: proto.Int32(0),
			RenewTime: timestamppb.Now(),
		},
	})
}

func TestLease(t *testing.T) {
	runCases(t, validLease, []tcase[*coordinationv1.Lease]{
		{"duration 0", func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = proto.Int32(0) }, []fe{{"spec.leaseDurationSeconds", invalid}}},
		{"negative transitions", func(l *coordinationv1.Lease) { l.Spec.LeaseTransitions = proto.Int32(-1) }, []fe{{"spec.leaseTransitions", invalid}}},
		{"no spec", func(l *coordinationv1.Lease) { l.Spec = nil }, nil},
		{"name", func(l *coordinationv1.Lease) { l.Metadata.Name = "Node_1" }, []fe{{"metadata.name", invalid}}},
	})
}
