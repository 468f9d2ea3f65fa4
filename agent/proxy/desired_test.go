package proxy

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var testRange = netip.MustParsePrefix("10.96.0.0/16")

func svc(name, clusterIP string, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.ServiceSpec{ClusterIp: clusterIP, Ports: ports, Type: "ClusterIP"},
	}
}

func eps(name string, subsets ...*corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name}, Subsets: subsets}
}

func subset(ports []*corev1.EndpointPort, ready []string, notReady ...string) *corev1.EndpointSubset {
	ss := &corev1.EndpointSubset{Ports: ports}
	for _, ip := range ready {
		ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: ip})
	}
	for _, ip := range notReady {
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, &corev1.EndpointAddress{Ip: ip})
	}
	return ss
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func key(ipport, proto string) Key {
	a := ap(ipport)
	return Key{IP: a.Addr(), Port: a.Port(), Protocol: proto}
}

func TestDesired(t *testing.T) {
	int32p := func(i int32) *int32 { return &i }
	web := svc("web", "10.96.0.20", &corev1.ServicePort{Name: "http", Port: 80}, &corev1.ServicePort{Name: "dns", Port: 53, Protocol: "UDP"})
	webEps := eps("web", subset(
		[]*corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "dns", Port: 5353, Protocol: "UDP"}},
		[]string{"172.18.0.3", "172.18.0.2"}, "172.18.0.9"))
	np := svc("np", "10.96.0.21", &corev1.ServicePort{Port: 80, NodePort: 30080})
	np.Spec.Type = "NodePort"
	np.Spec.SessionAffinity = "ClientIP"
	npEps := eps("np", subset([]*corev1.EndpointPort{{Port: 8080}}, []string{"172.18.0.4"}))
	sticky := svc("sticky", "10.96.0.22", &corev1.ServicePort{Port: 80})
	sticky.Spec.SessionAffinity = "ClientIP"
	sticky.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: int32p(30)}}
	stickyEps := eps("sticky", subset([]*corev1.EndpointPort{{Port: 8080}}, []string{"172.18.0.5"}))
	empty := svc("empty", "10.96.0.23", &corev1.ServicePort{Port: 80})
	emptyEps := eps("empty", subset([]*corev1.EndpointPort{{Port: 8080}}, nil, "172.18.0.6"))
	headless := svc("headless", "None", &corev1.ServicePort{Port: 80})
	outside := svc("outside", "10.200.0.1", &corev1.ServicePort{Port: 80})
	extName := svc("ext", "", &corev1.ServicePort{Port: 80})
	extName.Spec.Type = "ExternalName"
	multi := svc("multi", "10.96.0.24", &corev1.ServicePort{Port: 80})
	multiEps := eps("multi",
		subset([]*corev1.EndpointPort{{Port: 8080}}, []string{"172.18.0.7"}),
		subset([]*corev1.EndpointPort{{Port: 9090}}, []string{"172.18.0.8"}))

	all := map[string]*corev1.Endpoints{"web": webEps, "np": npEps, "sticky": stickyEps, "empty": emptyEps, "multi": multiEps}
	lookup := func(_, name string) (*corev1.Endpoints, bool) { e, ok := all[name]; return e, ok }

	tests := []struct {
		name      string
		services  []*corev1.Service
		wantAddrs []string
		wantPorts map[Key]Target
		wantEps   map[string]int
	}{
		{
			name:      "named ports, ready addresses only, sorted",
			services:  []*corev1.Service{web},
			wantAddrs: []string{"10.96.0.20"},
			wantPorts: map[Key]Target{
				key("10.96.0.20:80", "TCP"): {Service: "default/web:http", Endpoints: []netip.AddrPort{ap("172.18.0.2:8080"), ap("172.18.0.3:8080")}},
				key("10.96.0.20:53", "UDP"): {Service: "default/web:dns", Endpoints: []netip.AddrPort{ap("172.18.0.2:5353"), ap("172.18.0.3:5353")}},
			},
			wantEps: map[string]int{"default/web:http": 2, "default/web:dns": 2},
		},
		{
			name:      "nodePort and default affinity timeout",
			services:  []*corev1.Service{np},
			wantAddrs: []string{"10.96.0.21"},
			wantPorts: map[Key]Target{
				key("10.96.0.21:80", "TCP"): {Service: "default/np:80", Endpoints: []netip.AddrPort{ap("172.18.0.4:8080")}, Affinity: DefaultAffinityTimeout},
				key("0.0.0.0:30080", "TCP"): {Service: "default/np:80", Endpoints: []netip.AddrPort{ap("172.18.0.4:8080")}, Affinity: DefaultAffinityTimeout},
			},
			wantEps: map[string]int{"default/np:80": 1},
		},
		{
			name:      "affinity timeout from sessionAffinityConfig",
			services:  []*corev1.Service{sticky},
			wantAddrs: []string{"10.96.0.22"},
			wantPorts: map[Key]Target{
				key("10.96.0.22:80", "TCP"): {Service: "default/sticky:80", Endpoints: []netip.AddrPort{ap("172.18.0.5:8080")}, Affinity: 30 * time.Second},
			},
			wantEps: map[string]int{"default/sticky:80": 1},
		},
		{
			name:      "no ready endpoint: the address but no socket",
			services:  []*corev1.Service{empty, svc("noeps", "10.96.0.25", &corev1.ServicePort{Port: 80})},
			wantAddrs: []string{"10.96.0.23", "10.96.0.25"},
			wantPorts: map[Key]Target{},
			wantEps:   map[string]int{"default/empty:80": 0, "default/noeps:80": 0},
		},
		{
			name:      "headless, ExternalName and out-of-range Services are not proxied",
			services:  []*corev1.Service{headless, outside, extName},
			wantPorts: map[Key]Target{},
			wantEps:   map[string]int{},
		},
		{
			name:      "endpoints of several subsets",
			services:  []*corev1.Service{multi},
			wantAddrs: []string{"10.96.0.24"},
			wantPorts: map[Key]Target{
				key("10.96.0.24:80", "TCP"): {Service: "default/multi:80", Endpoints: []netip.AddrPort{ap("172.18.0.7:8080"), ap("172.18.0.8:9090")}},
			},
			wantEps: map[string]int{"default/multi:80": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Desired(tt.services, lookup, testRange, netip.IPv4Unspecified())
			want := map[netip.Addr]bool{}
			for _, a := range tt.wantAddrs {
				want[netip.MustParseAddr(a)] = true
			}
			if !reflect.DeepEqual(st.Addrs, want) {
				t.Errorf("Addrs = %v, want %v", st.Addrs, want)
			}
			if !reflect.DeepEqual(st.Ports, tt.wantPorts) {
				t.Errorf("Ports =\n%v\nwant\n%v", st.Ports, tt.wantPorts)
			}
			if !reflect.DeepEqual(st.Endpoints, tt.wantEps) {
				t.Errorf("Endpoints = %v, want %v", st.Endpoints, tt.wantEps)
			}
		})
	}
}
