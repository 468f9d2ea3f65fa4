package defaults_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/defaults"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// TestServiceUpdateDropsTypeDependentFields: what a type change leaves unchanged and the new
// type has no use for is cleared (and released by the apiserver), as kube-apiserver does;
// what the user changed stays for validation to judge.
func TestServiceUpdateDropsTypeDependentFields(t *testing.T) {
	old := func() *corev1.Service {
		return &corev1.Service{Spec: &corev1.ServiceSpec{
			Type: "LoadBalancer", ClusterIp: "10.96.0.7", ClusterIps: []string{"10.96.0.7"},
			IpFamilies: []string{"IPv4"}, IpFamilyPolicy: proto.String("SingleStack"),
			ExternalTrafficPolicy: "Local", HealthCheckNodePort: 31000, AllocateLoadBalancerNodePorts: proto.Bool(true),
			Ports: []*corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080}},
		}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*corev1.ServiceSpec)
		check func(*testing.T, *corev1.ServiceSpec)
	}{
		{"to ClusterIP", func(s *corev1.ServiceSpec) { s.Type = "ClusterIP" }, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.Ports[0].NodePort != 0 || s.HealthCheckNodePort != 0 || s.AllocateLoadBalancerNodePorts != nil || s.ExternalTrafficPolicy != "" {
				t.Errorf("kept %d %d %v %q", s.Ports[0].NodePort, s.HealthCheckNodePort, s.AllocateLoadBalancerNodePorts, s.ExternalTrafficPolicy)
			}
			if s.ClusterIp != "10.96.0.7" || s.GetIpFamilyPolicy() != "SingleStack" {
				t.Errorf("lost the cluster IP: %q %q", s.ClusterIp, s.GetIpFamilyPolicy())
			}
		}},
		{"to ClusterIP asking a new nodePort", func(s *corev1.ServiceSpec) { s.Type = "ClusterIP"; s.Ports[0].NodePort = 30081 }, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.Ports[0].NodePort != 30081 {
				t.Errorf("nodePort %d, want the user's 30081 left for validation", s.Ports[0].NodePort)
			}
		}},
		{"to NodePort", func(s *corev1.ServiceSpec) { s.Type = "NodePort" }, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.Ports[0].NodePort != 30080 || s.HealthCheckNodePort != 0 || s.ExternalTrafficPolicy != "Local" {
				t.Errorf("got nodePort %d, healthCheckNodePort %d, policy %q", s.Ports[0].NodePort, s.HealthCheckNodePort, s.ExternalTrafficPolicy)
			}
		}},
		{"to ExternalName", func(s *corev1.ServiceSpec) { s.Type = "ExternalName"; s.ExternalName = "db.example.com" }, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.ClusterIp != "" || s.ClusterIps != nil || s.IpFamilies != nil || s.IpFamilyPolicy != nil || s.Ports[0].NodePort != 0 {
				t.Errorf("kept %q %v %v %v %d", s.ClusterIp, s.ClusterIps, s.IpFamilies, s.IpFamilyPolicy, s.Ports[0].NodePort)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := old()
			tc.edit(n.Spec)
			defaults.ObjectUpdate(n, old())
			tc.check(t, n.Spec)
		})
	}
}
