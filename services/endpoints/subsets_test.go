package endpoints

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// testPod is a Running Pod on node-1 with ip, ready or not, and container ports "name:port"
// ("name:port/UDP" for UDP).
func testPod(name, ip string, ready bool, ports ...string) *corev1.Pod {
	status := "False"
	if ready {
		status = "True"
	}
	c := &corev1.Container{Name: "app"}
	for _, p := range ports {
		var cp corev1.ContainerPort
		proto := "TCP"
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p, proto = p[:i], p[i+1:]
		}
		fmt.Sscanf(strings.Replace(p, ":", " ", 1), "%s %d", &cp.Name, &cp.ContainerPort)
		cp.Protocol = proto
		c.Ports = append(c.Ports, &cp)
	}
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name},
		Spec:     &corev1.PodSpec{NodeName: "node-1", Containers: []*corev1.Container{c}},
		Status:   &corev1.PodStatus{Phase: "Running", Conditions: []*corev1.PodCondition{{Type: "Ready", Status: status}}},
	}
	if ip != "" {
		p.Status.PodIp = ip
		p.Status.PodIps = []*corev1.PodIP{{Ip: ip}}
	}
	return p
}

func testService(ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:     &corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, ClusterIp: "10.96.0.10", Ports: ports},
	}
}

func svcPort(name string, port int32, target *structpb.Value, protocol string) *corev1.ServicePort {
	return &corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: protocol}
}

// show renders subsets as "[ready|notReady|ports]" with addresses as ip(hostname)@node.
func show(d desired) string {
	var out []string
	for _, ss := range toProto(d.subsets) {
		as := func(list []*corev1.EndpointAddress) string {
			var s []string
			for _, a := range list {
				x := a.GetIp()
				if a.GetHostname() != "" {
					x += "(" + a.GetHostname() + ")"
				}
				if a.NodeName == nil {
					x += "@-"
				}
				s = append(s, x)
			}
			return strings.Join(s, ",")
		}
		var ps []string
		for _, p := range ss.GetPorts() {
			ps = append(ps, fmt.Sprintf("%s:%d/%s", p.GetName(), p.GetPort(), p.GetProtocol()))
		}
		out = append(out, fmt.Sprintf("[%s|%s|%s]", as(ss.GetAddresses()), as(ss.GetNotReadyAddresses()), strings.Join(ps, ",")))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestDesiredSubsets(t *testing.T) {
	http80 := svcPort("http", 80, structpb.NewNumberValue(8080), "TCP")
	named := svcPort("http", 80, structpb.NewStringValue("http"), "TCP")
	tests := []struct {
		name   string
		svc    func(s *corev1.Service)
		pods   []*corev1.Pod
		want   string
		counts [2]int // ready, not ready
	}{
		{"ready and not ready", nil,
			[]*corev1.Pod{testPod("a", "10.0.0.1", true), testPod("b", "10.0.0.2", false)},
			"[10.0.0.1|10.0.0.2|http:8080/TCP]", [2]int{1, 1}},
		{"no IP yet", nil, []*corev1.Pod{testPod("a", "", true)}, "", [2]int{}},
		{"finished Pods", nil, []*corev1.Pod{
			func() *corev1.Pod { p := testPod("a", "10.0.0.1", true); p.Status.Phase = "Succeeded"; return p }(),
			func() *corev1.Pod { p := testPod("b", "10.0.0.2", false); p.Status.Phase = "Failed"; return p }(),
		}, "", [2]int{}},
		{"terminating", nil, []*corev1.Pod{terminating(testPod("a", "10.0.0.1", true))}, "", [2]int{}},
		{"publishNotReadyAddresses keeps not ready and terminating Pods ready",
			func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true },
			[]*corev1.Pod{testPod("a", "10.0.0.1", false), terminating(testPod("b", "10.0.0.2", true))},
			"[10.0.0.1,10.0.0.2||http:8080/TCP]", [2]int{2, 0}},
		{"named targetPort per Pod", func(s *corev1.Service) { s.Spec.Ports = []*corev1.ServicePort{named} },
			[]*corev1.Pod{
				testPod("a", "10.0.0.1", true, "http:8080"), testPod("b", "10.0.0.2", true, "http:9090"),
				testPod("c", "10.0.0.3", true, "web:8080"), testPod("d", "10.0.0.4", true, "http:8080/UDP"),
				testPod("e", "10.0.0.5", false, "http:8080"),
			},
			"[10.0.0.1|10.0.0.5|http:8080/TCP] [10.0.0.2||http:9090/TCP]", [2]int{2, 1}},
		{"named targetPort on a sidecar", func(s *corev1.Service) { s.Spec.Ports = []*corev1.ServicePort{named} },
			[]*corev1.Pod{withInit(testPod("a", "10.0.0.1", true), "Always"), withInit(testPod("b", "10.0.0.2", true), "")},
			"[10.0.0.1||http:7070/TCP]", [2]int{1, 0}},
		{"two ports", func(s *corev1.Service) {
			s.Spec.Ports = []*corev1.ServicePort{named, svcPort("dns", 53, structpb.NewNumberValue(5353), "UDP")}
		},
			[]*corev1.Pod{testPod("a", "10.0.0.1", true, "http:8080"), testPod("b", "10.0.0.2", true)},
			"[10.0.0.1,10.0.0.2||dns:5353/UDP] [10.0.0.1||http:8080/TCP]", [2]int{3, 0}},
		{"headless without ports", func(s *corev1.Service) { s.Spec.Ports, s.Spec.ClusterIp = nil, ClusterIPNone },
			[]*corev1.Pod{testPod("a", "10.0.0.1", true), testPod("b", "10.0.0.2", false)},
			"[10.0.0.1|10.0.0.2|]", [2]int{1, 1}},
		{"not headless without ports", func(s *corev1.Service) { s.Spec.Ports = nil },
			[]*corev1.Pod{testPod("a", "10.0.0.1", true)}, "", [2]int{}},
		{"hostname when the subdomain names the Service", nil,
			[]*corev1.Pod{withHost(testPod("a", "10.0.0.1", true), "a", "web"), withHost(testPod("b", "10.0.0.2", true), "b", "other")},
			"[10.0.0.1(a),10.0.0.2||http:8080/TCP]", [2]int{2, 0}},
		{"IPv6 Service picks the Pod's IPv6 address", func(s *corev1.Service) { s.Spec.IpFamilies = []string{"IPv6"} },
			[]*corev1.Pod{dualStack(testPod("a", "10.0.0.1", true), "fd00::1"), testPod("b", "10.0.0.2", true)},
			"[fd00::1||http:8080/TCP]", [2]int{1, 0}},
		{"unscheduled Pod has no nodeName", nil,
			[]*corev1.Pod{func() *corev1.Pod { p := testPod("a", "10.0.0.1", true); p.Spec.NodeName = ""; return p }()},
			"[10.0.0.1@-||http:8080/TCP]", [2]int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := testService(http80)
			if tt.svc != nil {
				tt.svc(svc)
			}
			d := desiredSubsets(svc, tt.pods)
			if got := show(d); got != tt.want {
				t.Errorf("subsets\n got %s\nwant %s", got, tt.want)
			}
			if got := [2]int{d.ready, d.notReady}; got != tt.counts {
				t.Errorf("ready, not ready = %v, want %v", got, tt.counts)
			}
		})
	}
}

func terminating(p *corev1.Pod) *corev1.Pod {
	p.Metadata.DeletionTimestamp = timestamppb.Now()
	return p
}

func withInit(p *corev1.Pod, restartPolicy string) *corev1.Pod {
	c := &corev1.Container{Name: "proxy", Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: 7070, Protocol: "TCP"}}}
	if restartPolicy != "" {
		c.RestartPolicy = &restartPolicy
	}
	p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	return p
}

func withHost(p *corev1.Pod, hostname, subdomain string) *corev1.Pod {
	p.Spec.Hostname, p.Spec.Subdomain = hostname, subdomain
	return p
}

func dualStack(p *corev1.Pod, v6 string) *corev1.Pod {
	p.Status.PodIps = append(p.Status.PodIps, &corev1.PodIP{Ip: v6})
	return p
}

func TestTriggerTimes(t *testing.T) {
	tr := newTriggerTimes()
	created := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	svc := testService()
	svc.Metadata.CreationTimestamp = timestamppb.New(created)
	readyAt := func(p *corev1.Pod, at time.Time) *corev1.Pod {
		p.Status.Conditions[0].LastTransitionTime = timestamppb.New(at)
		return p
	}
	a := readyAt(testPod("a", "10.0.0.1", true), created.Add(-time.Minute)) // ready before the Service
	b := readyAt(testPod("b", "10.0.0.2", true), created.Add(2*time.Minute))
	steps := []struct {
		name string
		pods []*corev1.Pod
		want time.Time
	}{
		{"first look: the Service's creation", []*corev1.Pod{a, b}, created},
		{"nothing changed", []*corev1.Pod{a, b}, time.Time{}},
		{"a Pod left", []*corev1.Pod{a}, time.Time{}},
		{"a Pod turned ready later", []*corev1.Pod{readyAt(testPod("a", "10.0.0.1", true), created.Add(5*time.Minute))}, created.Add(5 * time.Minute)},
		{"two Pods changed: the earliest", []*corev1.Pod{
			readyAt(testPod("a", "10.0.0.1", true), created.Add(7*time.Minute)),
			readyAt(testPod("b", "10.0.0.2", true), created.Add(6*time.Minute)),
		}, created.Add(6 * time.Minute)},
	}
	for _, s := range steps {
		if got := tr.compute("default/web", svc, s.pods); !got.Equal(s.want) {
			t.Errorf("%s: trigger time %v, want %v", s.name, got, s.want)
		}
	}
}

func TestStaleTracker(t *testing.T) {
	s := newStaleTracker()
	now := time.Now()
	s.now = func() time.Time { return now }
	if s.stale("ns/a", "5") {
		t.Error("stale before any write")
	}
	s.wrote("ns/a", "5")
	if !s.stale("ns/a", "5") || s.stale("ns/a", "6") {
		t.Error("after writing over 5: 5 must be stale, 6 not")
	}
	if s.observed("ns/a", "5", false) {
		t.Error("seeing 5 again ends the wait")
	}
	if !s.observed("ns/a", "6", false) || s.stale("ns/a", "5") {
		t.Error("seeing 6 must end the wait")
	}
	s.wrote("ns/b", "") // created
	if !s.stale("ns/b", "") {
		t.Error("a created Endpoints missing from the cache must be stale")
	}
	now = now.Add(staleFor)
	if s.stale("ns/b", "") {
		t.Error("a wait must end after staleFor")
	}
}
