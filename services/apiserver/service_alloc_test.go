package apiserver_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
)

func svc(name, typ string, ports ...*corev1.ServicePort) *corev1.Service {
	if len(ports) == 0 {
		ports = []*corev1.ServicePort{{Port: 80}}
	}
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.ServiceSpec{Type: typ, Selector: map[string]string{"app": name}, Ports: ports},
	}
}

func withIP(s *corev1.Service, ip string) *corev1.Service {
	s.Spec.ClusterIp = ip
	return s
}

// wantInvalid requires a 422 whose message contains want.
func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !kerrors.IsInvalid(err) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q\nwant it to contain %q", err.Error(), want)
	}
}

func TestServiceClusterIPs(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	services := corev1.NewServiceServiceClient(c.Conn())
	rng := ipalloc.MustParseRange(ipalloc.DefaultRange)

	web, err := services.Create(ctx, svc("web", ""))
	if err != nil {
		t.Fatal(err)
	}
	spec := web.GetSpec()
	ip, err := netip.ParseAddr(spec.GetClusterIp())
	if err != nil || !rng.Contains(ip) || ip == rng.Gateway() || ip == rng.DNS() {
		t.Fatalf("clusterIP %q: not an allocatable address of %s", spec.GetClusterIp(), rng)
	}
	if len(spec.GetClusterIps()) != 1 || spec.GetClusterIps()[0] != spec.GetClusterIp() {
		t.Errorf("clusterIPs %v, want [%s]", spec.GetClusterIps(), spec.GetClusterIp())
	}
	if fam := spec.GetIpFamilies(); len(fam) != 1 || fam[0] != "IPv4" || spec.GetIpFamilyPolicy() != "SingleStack" {
		t.Errorf("ipFamilies %v, ipFamilyPolicy %q; want [IPv4], SingleStack", fam, spec.GetIpFamilyPolicy())
	}
	if spec.GetType() != "ClusterIP" || spec.GetPorts()[0].GetProtocol() != "TCP" || spec.GetPorts()[0].GetTargetPort().GetNumberValue() != 80 {
		t.Errorf("defaults not applied: %v", spec)
	}

	requested, err := services.Create(ctx, withIP(svc("requested", ""), "10.96.3.4"))
	if err != nil {
		t.Fatal(err)
	}
	if got := requested.GetSpec().GetClusterIps(); len(got) != 1 || got[0] != "10.96.3.4" {
		t.Fatalf("requested IP not honored: %v", got)
	}

	_, err = services.Create(ctx, withIP(svc("dup", ""), "10.96.3.4"))
	wantInvalid(t, err, `spec.clusterIPs: Invalid value: []string{"10.96.3.4"}: failed to allocate IP 10.96.3.4: provided IP is already allocated`)
	_, err = services.Create(ctx, withIP(svc("out", ""), "10.0.0.5"))
	wantInvalid(t, err, `failed to allocate IP 10.0.0.5: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16`)
	for _, reserved := range []string{"10.96.0.1", "10.96.0.10"} {
		_, err = services.Create(ctx, withIP(svc("reserved", ""), reserved))
		wantInvalid(t, err, "failed to allocate IP "+reserved+": provided IP is already allocated")
	}

	headless, err := services.Create(ctx, withIP(svc("headless", ""), "None"))
	if err != nil {
		t.Fatal(err)
	}
	if got := headless.GetSpec(); got.GetClusterIp() != "None" || len(got.GetClusterIps()) != 1 || got.GetClusterIps()[0] != "None" {
		t.Errorf("headless Service got %q %v", got.GetClusterIp(), got.GetClusterIps())
	}
	ext := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "ext"},
		Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com"}}
	if ext, err = services.Create(ctx, ext); err != nil {
		t.Fatal(err)
	}
	if ext.GetSpec().GetClusterIp() != "" || len(ext.GetSpec().GetIpFamilies()) != 0 {
		t.Errorf("ExternalName Service got %q %v", ext.GetSpec().GetClusterIp(), ext.GetSpec().GetIpFamilies())
	}

	// An update keeps the IP; a delete frees it for the next Service that asks.
	upd := proto.Clone(requested).(*corev1.Service)
	upd.Spec.ClusterIp, upd.Spec.ClusterIps = "", nil
	upd.Spec.Ports[0].Port = 8080
	if upd, err = services.Update(ctx, upd); err != nil || upd.GetSpec().GetClusterIp() != "10.96.3.4" {
		t.Fatalf("update: %v, clusterIP %q", err, upd.GetSpec().GetClusterIp())
	}
	if _, err := services.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "requested"}); err != nil {
		t.Fatal(err)
	}
	if _, err := services.Create(ctx, withIP(svc("again", ""), "10.96.3.4")); err != nil {
		t.Fatalf("IP of a deleted Service not reusable: %v", err)
	}

	// Turning ExternalName frees the IP; turning back allocates one.
	toExt := proto.Clone(web).(*corev1.Service)
	toExt.Spec.Type, toExt.Spec.ExternalName = "ExternalName", "web.example.com"
	if toExt, err = services.Update(ctx, toExt); err != nil || toExt.GetSpec().GetClusterIp() != "" {
		t.Fatalf("to ExternalName: %v, clusterIP %q", err, toExt.GetSpec().GetClusterIp())
	}
	if _, err := services.Create(ctx, withIP(svc("takes-web-ip", ""), web.GetSpec().GetClusterIp())); err != nil {
		t.Fatalf("IP of a Service turned ExternalName not freed: %v", err)
	}
}

func TestServiceNodePorts(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	services := corev1.NewServiceServiceClient(c.Conn())
	rng := portalloc.MustParseRange(portalloc.DefaultRange)

	np, err := services.Create(ctx, svc("np", "NodePort",
		&corev1.ServicePort{Name: "dns", Port: 53}, &corev1.ServicePort{Name: "dns-udp", Port: 53, Protocol: "UDP"},
		&corev1.ServicePort{Name: "http", Port: 80, NodePort: 30080}))
	if err != nil {
		t.Fatal(err)
	}
	ports := np.GetSpec().GetPorts()
	if p := ports[0].GetNodePort(); !rng.Contains(int(p)) || ports[1].GetNodePort() != p {
		t.Errorf("nodePorts %d, %d: want one port of %s shared by TCP and UDP 53", p, ports[1].GetNodePort(), rng)
	}
	if ports[2].GetNodePort() != 30080 {
		t.Errorf("requested nodePort not honored: %d", ports[2].GetNodePort())
	}

	_, err = services.Create(ctx, svc("dup", "NodePort", &corev1.ServicePort{Port: 80, NodePort: 30080}))
	wantInvalid(t, err, "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated")
	_, err = services.Create(ctx, svc("out", "NodePort", &corev1.ServicePort{Port: 80, NodePort: 8080}))
	wantInvalid(t, err, "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767")
	// A failed create released what it allocated before failing: its clusterIP is free.
	if _, err := services.Create(ctx, withIP(svc("lb", "LoadBalancer", &corev1.ServicePort{Port: 443, NodePort: 30443}), "10.96.7.7")); err != nil {
		t.Fatal(err)
	}
	_, err = services.Create(ctx, withIP(svc("lb2", "NodePort", &corev1.ServicePort{Port: 443, NodePort: 30443}), "10.96.7.8"))
	wantInvalid(t, err, "provided port is already allocated")
	if _, err := services.Create(ctx, withIP(svc("lb3", "", &corev1.ServicePort{Port: 443}), "10.96.7.8")); err != nil {
		t.Fatalf("clusterIP of a failed create not released: %v", err)
	}

	// An update keeps the node ports (re-applied manifest without them) ...
	upd := proto.Clone(np).(*corev1.Service)
	for _, p := range upd.Spec.Ports {
		p.NodePort = 0
	}
	if upd, err = services.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	for i, p := range upd.GetSpec().GetPorts() {
		if p.GetNodePort() != ports[i].GetNodePort() {
			t.Errorf("update changed nodePort %d: %d → %d", i, ports[i].GetNodePort(), p.GetNodePort())
		}
	}
	// ... turning ClusterIP releases them (kubectl patch: nodePorts left as they were) ...
	upd.Spec.Type = "ClusterIP"
	if upd, err = services.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	for _, p := range upd.GetSpec().GetPorts() {
		if p.GetNodePort() != 0 {
			t.Errorf("ClusterIP Service kept nodePort %d", p.GetNodePort())
		}
	}
	if _, err := services.Create(ctx, svc("takes-30080", "NodePort", &corev1.ServicePort{Port: 80, NodePort: 30080})); err != nil {
		t.Fatalf("nodePort of a Service turned ClusterIP not released: %v", err)
	}
	// ... and a delete releases them.
	if _, err := services.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "lb"}); err != nil {
		t.Fatal(err)
	}
	if _, err := services.Create(ctx, svc("takes-30443", "NodePort", &corev1.ServicePort{Port: 80, NodePort: 30443})); err != nil {
		t.Fatalf("nodePort of a deleted Service not released: %v", err)
	}
}

// TestServiceIPsConcurrent: creates racing on two apiservers that share one etcd never get
// the same IP, and a full range fails as Kubernetes does.
func TestServiceIPsConcurrent(t *testing.T) {
	rng := ipalloc.MustParseRange("10.100.0.0/26") // 62 addresses, 60 allocatable
	inst := apiservertest.StartWith(t, apiservertest.Options{ServiceClusterIPRange: rng})
	second := startSecond(t, inst, rng)
	ctx := ctxT(t)
	clients := []corev1.ServiceServiceClient{
		corev1.NewServiceServiceClient(dial(t, inst.Addr).Conn()),
		corev1.NewServiceServiceClient(dial(t, second).Conn()),
	}
	const n = 50
	ips := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := clients[i%2].Create(ctx, svc(fmt.Sprintf("s%d", i), ""))
			ips[i], errs[i] = s.GetSpec().GetClusterIp(), err
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create s%d: %v", i, errs[i])
		}
		if j, dup := seen[ips[i]]; dup {
			t.Fatalf("s%d and s%d both got %s", j, i, ips[i])
		}
		seen[ips[i]] = i
	}
	for i := n; i < 60; i++ {
		if _, err := clients[i%2].Create(ctx, svc(fmt.Sprintf("s%d", i), "")); err != nil {
			t.Fatalf("create s%d of 60: %v", i, err)
		}
	}
	_, err := clients[0].Create(ctx, svc("one-too-many", ""))
	if !kerrors.IsInternalError(err) || !strings.Contains(err.Error(), "failed to allocate a serviceIP: range is full") {
		t.Fatalf("create in a full range: %v, want InternalError ... failed to allocate a serviceIP: range is full", err)
	}
}

// startSecond starts another apiserver on inst's etcd and returns its address.
func startSecond(t *testing.T, inst *apiservertest.Instance, rng ipalloc.Range) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := apiserver.New(apiserver.Config{Etcd: inst.Etcd, Listener: l, Logger: slog.New(slog.DiscardHandler), ServiceClusterIPRange: rng})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("second apiserver: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("second apiserver not ready after 30s")
	}
	return s.Addr()
}

// TestServiceIPFamilies: Berth is a single-stack IPv4 cluster in Kubernetes' terms.
func TestServiceIPFamilies(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	services := corev1.NewServiceServiceClient(c.Conn())

	bare := withIP(svc("bare", ""), "None")
	bare.Spec.Selector = nil
	bare, err := services.Create(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	if fam := bare.GetSpec().GetIpFamilies(); bare.GetSpec().GetIpFamilyPolicy() != "RequireDualStack" || len(fam) != 2 || fam[0] != "IPv4" || fam[1] != "IPv6" {
		t.Errorf("headless Service without selector: %q %v; want RequireDualStack [IPv4 IPv6]", bare.GetSpec().GetIpFamilyPolicy(), fam)
	}
	headless, err := services.Create(ctx, withIP(svc("headless", ""), "None"))
	if err != nil {
		t.Fatal(err)
	}
	if fam := headless.GetSpec().GetIpFamilies(); headless.GetSpec().GetIpFamilyPolicy() != "SingleStack" || len(fam) != 1 || fam[0] != "IPv4" {
		t.Errorf("headless Service: %q %v; want SingleStack [IPv4]", headless.GetSpec().GetIpFamilyPolicy(), fam)
	}

	_, err = services.Create(ctx, withIP(svc("v6", ""), "fd00::10"))
	wantInvalid(t, err, `spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: IPv6 is not configured on this cluster`)
	dual := svc("dual", "")
	dual.Spec.IpFamilyPolicy = proto.String("RequireDualStack")
	_, err = services.Create(ctx, dual)
	wantInvalid(t, err, `spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`)
	v6 := svc("v6fam", "")
	v6.Spec.IpFamilies = []string{"IPv6"}
	_, err = services.Create(ctx, v6)
	wantInvalid(t, err, `spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`)
	prefer := svc("prefer", "")
	prefer.Spec.IpFamilyPolicy = proto.String("PreferDualStack")
	if prefer, err = services.Create(ctx, prefer); err != nil || len(prefer.GetSpec().GetIpFamilies()) != 1 {
		t.Fatalf("PreferDualStack: %v, %v", prefer.GetSpec().GetIpFamilies(), err)
	}
}
