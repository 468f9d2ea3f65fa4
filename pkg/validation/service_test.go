package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/validation"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func validService() *corev1.Service {
	return defaulted(&corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &corev1.ServiceSpec{
			Selector:  map[string]string{"app": "web"},
			ClusterIp: "10.96.0.10",
			Ports: []*corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: str("http")},
				{Name: "metrics", Port: 9090, TargetPort: num(9090)},
			},
		},
	})
}

func TestService(t *testing.T) {
	runCases(t, validService, []tcase[*corev1.Service]{
		{"name not a DNS-1035 label", func(s *corev1.Service) { s.Metadata.Name = "1web" }, []fe{{"metadata.name", invalid}}},
		{"name with a dot", func(s *corev1.Service) { s.Metadata.Name = "web.v1" }, []fe{{"metadata.name", invalid}}},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []fe{{"spec.ports", required}}},
		{"headless without ports", func(s *corev1.Service) {
			s.Spec.Ports, s.Spec.ClusterIp, s.Spec.ClusterIps = nil, "None", []string{"None"}
		}, nil},
		{"unnamed port among several", func(s *corev1.Service) { s.Spec.Ports[1].Name = "" }, []fe{{"spec.ports[1].name", required}}},
		{"single unnamed port", func(s *corev1.Service) { s.Spec.Ports = s.Spec.Ports[:1]; s.Spec.Ports[0].Name = "" }, nil},
		{"duplicate port names", func(s *corev1.Service) { s.Spec.Ports[1].Name = "http" }, []fe{{"spec.ports[1].name", duplicate}}},
		{"port name not a label", func(s *corev1.Service) { s.Spec.Ports[1].Name = "Metrics" }, []fe{{"spec.ports[1].name", invalid}}},
		{"port 0", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []fe{{"spec.ports[0].port", invalid}}},
		{"port too big", func(s *corev1.Service) { s.Spec.Ports[0].Port = 65536 }, []fe{{"spec.ports[0].port", invalid}}},
		{"same port and protocol twice", func(s *corev1.Service) { s.Spec.Ports[1].Port = 80 }, []fe{{"spec.ports[1]", duplicate}}},
		{"protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" }, []fe{{"spec.ports[0].protocol", notSupported}}},
		{"no protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "" }, []fe{{"spec.ports[0].protocol", required}}},
		{"targetPort name", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = str("Http-port") }, []fe{{"spec.ports[0].targetPort", invalid}}},
		{"targetPort number", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = num(70000) }, []fe{{"spec.ports[0].targetPort", invalid}}},
		{"targetPort bool", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = boolean(false) }, []fe{{"spec.ports[0].targetPort", invalid}}},
		{"appProtocol", func(s *corev1.Service) { s.Spec.Ports[0].AppProtocol = proto.String("a/b/c") }, []fe{{"spec.ports[0].appProtocol", invalid}}},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }, []fe{{"spec.ports[0].nodePort", forbidden}}},
		{"nodePort out of range", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalTrafficPolicy = "NodePort", "Cluster"
			s.Spec.Ports[0].NodePort = 70000
		}, []fe{{"spec.ports[0].nodePort", invalid}}},
		{"same nodePort twice", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalTrafficPolicy = "NodePort", "Cluster"
			s.Spec.Ports[0].NodePort, s.Spec.Ports[1].NodePort = 30080, 30080
		}, []fe{{"spec.ports[1].nodePort", duplicate}}},
		{"type", func(s *corev1.Service) { s.Spec.Type = "Magic" }, []fe{{"spec.type", notSupported}}},
		{"no type", func(s *corev1.Service) { s.Spec.Type = "" }, []fe{{"spec.type", required}}},
		{"session affinity", func(s *corev1.Service) { s.Spec.SessionAffinity = "Sticky" }, []fe{{"spec.sessionAffinity", notSupported}}},
		{"ClientIP timeout", func(s *corev1.Service) {
			s.Spec.SessionAffinity = "ClientIP"
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: proto.Int32(0)}}
		}, []fe{{"spec.sessionAffinityConfig.clientIP.timeoutSeconds", invalid}}},
		{"ClientIP without config", func(s *corev1.Service) { s.Spec.SessionAffinity = "ClientIP" }, []fe{{"spec.sessionAffinityConfig", required}}},
		{"affinity config with None", func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}, []fe{{"spec.sessionAffinityConfig", forbidden}}},
		{"clusterIP not an IP", func(s *corev1.Service) { s.Spec.ClusterIp, s.Spec.ClusterIps = "10.96.0", []string{"10.96.0"} }, []fe{{"spec.clusterIPs[0]", invalid}}},
		{"clusterIPs not matching clusterIP", func(s *corev1.Service) { s.Spec.ClusterIps = []string{"10.96.0.11"} }, []fe{{"spec.clusterIPs", invalid}}},
		{"two IPv4 clusterIPs", func(s *corev1.Service) { s.Spec.ClusterIps = []string{"10.96.0.10", "10.96.0.11"} }, []fe{{"spec.clusterIPs", invalid}}},
		{"headless NodePort", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalTrafficPolicy = "NodePort", "Cluster"
			s.Spec.ClusterIp, s.Spec.ClusterIps = "None", []string{"None"}
		}, []fe{{"spec.clusterIPs[0]", invalid}}},
		{"ExternalName without name", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIp, s.Spec.ClusterIps, s.Spec.InternalTrafficPolicy = "ExternalName", "", nil, nil
		}, []fe{{"spec.externalName", required}}},
		{"ExternalName with clusterIP", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.InternalTrafficPolicy = "ExternalName", "db.example.com.", nil
		}, []fe{{"spec.clusterIP", forbidden}, {"spec.clusterIPs", forbidden}}},
		{"externalIPs loopback", func(s *corev1.Service) {
			s.Spec.ExternalIps, s.Spec.ExternalTrafficPolicy = []string{"127.0.0.1"}, "Cluster"
		}, []fe{{"spec.externalIPs[0]", invalid}}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Local" }, []fe{{"spec.externalTrafficPolicy", invalid}}},
		{"internalTrafficPolicy", func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = proto.String("Nearby") }, []fe{{"spec.internalTrafficPolicy", notSupported}}},
		{"selector", func(s *corev1.Service) { s.Spec.Selector["app"] = "web app" }, []fe{{"spec.selector", invalid}}},
		{"ipFamilies", func(s *corev1.Service) { s.Spec.IpFamilies = []string{"IPv5"} }, []fe{{"spec.ipFamilies[0]", notSupported}}},
	})
}

func TestServiceUpdate(t *testing.T) {
	runUpdateCases(t, validService, []updateCase[*corev1.Service]{
		{"ports", func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }, nil},
		{"clusterIP", func(s *corev1.Service) { s.Spec.ClusterIp, s.Spec.ClusterIps = "10.96.0.11", []string{"10.96.0.11"} }, []fe{{"spec.clusterIPs[0]", invalid}}},
		{"clusterIP unset", func(s *corev1.Service) { s.Spec.ClusterIp, s.Spec.ClusterIps = "", nil }, []fe{{"spec.clusterIPs[0]", invalid}}},
		{"to ExternalName", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.ClusterIp, s.Spec.ClusterIps, s.Spec.InternalTrafficPolicy = "ExternalName", "db.example.com", "", nil, nil
		}, nil},
		{"name", func(s *corev1.Service) { s.Metadata.Name = "web2" }, []fe{{"metadata.name", invalid}}},
	})
	t.Run("clusterIP allocated", func(t *testing.T) {
		old := validService()
		old.Spec.ClusterIp, old.Spec.ClusterIps = "", nil
		n := validService()
		checkErrs(t, validation.ServiceUpdate(n, old), nil)
	})
}
