package dns_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/berth-dev/berth/agent/dns"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// upstream is a nameserver on 127.0.0.1 that knows example.com only.
func upstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		if strings.EqualFold(r.Question[0].Name, "example.com.") {
			m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: r.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.ParseIP("192.0.2.7")})
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// setup starts an apiserver with the objects, and a DNS server on 127.0.0.1 (UDP and TCP on
// one port) forwarding to upstreams; it returns the server's address once the informers
// hold the objects.
func setup(t *testing.T, upstreams []string, objs ...scheme.Object) string {
	t.Helper()
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	for _, o := range objs {
		if _, err := c.Resource(scheme.ForObject(o)).Create(ctx, o); err != nil {
			t.Fatalf("create %s: %v", informer.KeyOf(o), err)
		}
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := informer.NewFactory(c, informer.Options{Logger: log})
	s, err := dns.New(dns.Config{Services: f.For(scheme.Services), Endpoints: f.For(scheme.Endpoints), Upstreams: upstreams, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx)
	if !f.WaitForSync(ctx) {
		t.Fatal("informers did not sync")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pc, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		f.Wait()
		c.Close()
	})
	return pc.LocalAddr().String()
}

func service(name, clusterIP string, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.ServiceSpec{ClusterIp: clusterIP, Ports: ports},
	}
}

func TestClusterNames(t *testing.T) {
	web := service("web", "10.96.0.20", &corev1.ServicePort{Name: "http", Port: 80}, &corev1.ServicePort{Name: "dns", Port: 53, Protocol: "UDP"})
	db := service("db", "None", &corev1.ServicePort{Name: "pg", Port: 5432})
	dbEps := &corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "db"},
		Subsets: []*corev1.EndpointSubset{{
			Addresses: []*corev1.EndpointAddress{
				{Ip: "10.244.0.5", Hostname: "db-0"}, {Ip: "10.244.0.6"},
			},
			NotReadyAddresses: []*corev1.EndpointAddress{{Ip: "10.244.0.7", Hostname: "db-2"}},
			Ports:             []*corev1.EndpointPort{{Name: "pg", Port: 5433}},
		}},
	}
	ext := &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "ext"},
		Spec:     &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"},
	}
	addr := setup(t, []string{upstream(t)}, web, db, dbEps, ext)

	tests := []struct {
		name    string
		qtype   uint16
		net     string
		rcode   int
		answers []string // the records' text after the header, sorted
		extra   []string
	}{
		{name: "web.default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"A 10.96.0.20"}},
		{name: "WEB.Default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"A 10.96.0.20"}},
		{name: "web.default.svc.cluster.local.", qtype: mdns.TypeA, net: "tcp", answers: []string{"A 10.96.0.20"}},
		{name: "web.default.svc.cluster.local.", qtype: mdns.TypeAAAA},
		{name: "db.default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"A 10.244.0.5", "A 10.244.0.6"}},
		{name: "db-0.db.default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"A 10.244.0.5"}},
		{name: "10-244-0-6.db.default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"A 10.244.0.6"}},
		{name: "db-2.db.default.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{
			name: "_http._tcp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			answers: []string{"SRV 0 100 80 web.default.svc.cluster.local."},
			extra:   []string{"A 10.96.0.20"},
		},
		{
			name: "_dns._udp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			answers: []string{"SRV 0 100 53 web.default.svc.cluster.local."},
			extra:   []string{"A 10.96.0.20"},
		},
		{name: "_http._udp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV, rcode: mdns.RcodeNameError},
		{
			name: "_pg._tcp.db.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			answers: []string{"SRV 0 50 5433 10-244-0-6.db.default.svc.cluster.local.", "SRV 0 50 5433 db-0.db.default.svc.cluster.local."},
			extra:   []string{"A 10.244.0.5", "A 10.244.0.6"},
		},
		{name: "ext.default.svc.cluster.local.", qtype: mdns.TypeA, answers: []string{"CNAME example.com."}},
		{name: "nope.default.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "web.other.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "default.svc.cluster.local.", qtype: mdns.TypeA},
		{name: "web.default.pod.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "example.com.", qtype: mdns.TypeA, answers: []string{"A 192.0.2.7"}},
		{name: "example.com.", qtype: mdns.TypeA, net: "tcp", answers: []string{"A 192.0.2.7"}},
		{name: "nowhere.example.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.name, mdns.TypeToString[tt.qtype], tt.net), func(t *testing.T) {
			c := mdns.Client{Net: tt.net, Timeout: 3 * time.Second}
			m := new(mdns.Msg)
			m.SetQuestion(tt.name, tt.qtype)
			r, _, err := c.Exchange(m, addr)
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.rcode {
				t.Fatalf("rcode %s, want %s:\n%v", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tt.rcode], r)
			}
			if got := texts(r.Answer); !slices.Equal(got, tt.answers) {
				t.Fatalf("answers %q, want %q:\n%v", got, tt.answers, r)
			}
			if got := texts(r.Extra); !slices.Equal(got, tt.extra) {
				t.Fatalf("extra %q, want %q:\n%v", got, tt.extra, r)
			}
			inCluster := strings.HasSuffix(strings.ToLower(tt.name), "cluster.local.")
			for _, rr := range r.Answer {
				if inCluster && rr.Header().Ttl != dns.TTL {
					t.Fatalf("TTL %d, want %d", rr.Header().Ttl, dns.TTL)
				}
			}
			if inCluster && len(r.Answer) == 0 {
				if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != mdns.TypeSOA {
					t.Fatalf("a negative answer without the SOA:\n%v", r)
				}
			}
		})
	}
}

// texts are the records without their headers ("A 10.96.0.20"), sorted.
func texts(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header().String()
		out = append(out, mdns.TypeToString[rr.Header().Rrtype]+" "+strings.TrimSpace(strings.TrimPrefix(rr.String(), h)))
	}
	slices.Sort(out)
	return out
}

// TestNoUpstream: names outside the cluster domain get SERVFAIL when no nameserver answers.
func TestNoUpstream(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0") // a nameserver that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	for _, ups := range [][]string{{}, {dead.LocalAddr().String()}} {
		addr := setup(t, ups)
		c := mdns.Client{Timeout: 5 * time.Second}
		m := new(mdns.Msg)
		m.SetQuestion("example.com.", mdns.TypeA)
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != mdns.RcodeServerFailure {
			t.Fatalf("upstreams %v: rcode %s, want SERVFAIL", ups, mdns.RcodeToString[r.Rcode])
		}
	}
}
