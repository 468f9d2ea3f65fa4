package proxy_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/agent/proxy"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
)

// TestRealLoopback runs the proxy on the host's lo, as root: the Service's ClusterIP (from a
// range of the test's own, 10.254.77.0/24) is added to lo and answers; when the proxy stops
// the address is gone.
func TestRealLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("adding addresses to lo needs root")
	}
	rng := ipalloc.MustParseRange("10.254.77.0/24")
	lo := proxy.Loopback()
	onLo := func() []netip.Addr {
		have, err := lo.List()
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(have, func(a netip.Addr) bool { return !rng.Prefix().Contains(a) })
	}
	if got := onLo(); len(got) > 0 {
		t.Skipf("lo already holds addresses of %s: %v", rng, got)
	}
	t.Cleanup(func() {
		for _, a := range onLo() {
			_ = lo.Remove(a)
		}
	})

	inst := apiservertest.StartWith(t, apiservertest.Options{ServiceClusterIPRange: rng})
	c, err := client.Dial(context.Background(), inst.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	f := informer.NewFactory(c, informer.Options{Logger: log})
	p, err := proxy.New(proxy.Config{
		Services: f.For(scheme.Services), Endpoints: f.For(scheme.Endpoints),
		ServiceRange: rng.Prefix(), ExtraAddrs: []netip.Addr{rng.DNS()},
		MapIP: func(ip netip.Addr) netip.Addr { // endpoints only: the ClusterIPs are real
			if rng.Prefix().Contains(ip) {
				return ip
			}
			return loopbackIP(ip)
		},
		NodePortIP: netip.MustParseAddr("127.0.0.1"), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prepare(); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	f.Start(runCtx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	port := tcpBackends(t, "10.244.0.3")
	obj, err := c.Resource(scheme.Services).Create(ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:     &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Port: 80}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ip := obj.(*corev1.Service).GetSpec().GetClusterIp()
	if _, err := c.Resource(scheme.Endpoints).Create(ctx, &corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Subsets: []*corev1.EndpointSubset{{
			Addresses: []*corev1.EndpointAddress{{Ip: "10.244.0.3"}},
			Ports:     []*corev1.EndpointPort{{Port: int32(port)}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	addr := ip + ":80"
	eventually(t, addr+" on lo to answer", func() (bool, string) {
		b, err := get(addr, "")
		return err == nil && b == "10.244.0.3", fmt.Sprint(b, err, onLo())
	})
	if got := onLo(); !slices.Contains(got, rng.DNS()) {
		t.Fatalf("lo holds %v, not the DNS address %v", got, rng.DNS())
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.Wait()
	if got := onLo(); len(got) > 0 {
		t.Fatalf("after the proxy stopped lo still holds %v", got)
	}
}
