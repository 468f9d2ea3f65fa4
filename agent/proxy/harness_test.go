package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
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

// tWriter sends logs to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fakeAddrs stands in for lo: a set of addresses.
type fakeAddrs struct {
	mu    sync.Mutex
	addrs map[netip.Addr]bool
}

func newFakeAddrs(initial ...string) *fakeAddrs {
	f := &fakeAddrs{addrs: map[netip.Addr]bool{}}
	for _, a := range initial {
		f.addrs[netip.MustParseAddr(a)] = true
	}
	return f
}

func (f *fakeAddrs) List() ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.Addr
	for a := range f.addrs {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

func (f *fakeAddrs) Add(a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs[a] = true
	return nil
}

func (f *fakeAddrs) Remove(a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.addrs, a)
	return nil
}

func (f *fakeAddrs) has(a string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs[netip.MustParseAddr(a)]
}

// env is a test's apiserver and proxy.
type env struct {
	c     *client.Client
	ctx   context.Context
	addrs *fakeAddrs
}

// loopbackIP maps a ClusterIP 10.96.a.b to 127.96.a.b, an endpoint IP 10.244.a.b to
// 127.244.a.b: local addresses without root.
func loopbackIP(ip netip.Addr) netip.Addr {
	b := ip.As4()
	return netip.AddrFrom4([4]byte{127, b[1], b[2], b[3]})
}

// setup starts an apiserver and a proxy whose sockets listen on loopbackIP(ClusterIP) and
// whose nodePorts listen on 127.0.0.1; mutate adjusts the proxy's Config.
func setup(t *testing.T, mutate func(*proxy.Config)) *env {
	t.Helper()
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := informer.NewFactory(c, informer.Options{Logger: log})
	e := &env{c: c, ctx: ctx, addrs: newFakeAddrs("127.0.0.1", "10.96.99.99", "10.97.0.1")}
	cfg := proxy.Config{
		Services: f.For(scheme.Services), Endpoints: f.For(scheme.Endpoints),
		ServiceRange: ipalloc.MustParseRange(ipalloc.DefaultRange).Prefix(),
		ExtraAddrs:   []netip.Addr{netip.MustParseAddr("10.96.0.10")},
		Addresses:    e.addrs, MapIP: loopbackIP, NodePortIP: netip.MustParseAddr("127.0.0.1"),
		UDPIdleTimeout: 2 * time.Second, Logger: log,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prepare(); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy.Run: %v", err)
		}
		f.Wait()
		c.Close()
	})
	return e
}

// service creates a selector-less Service (the test writes its Endpoints) and returns it as
// stored, with its allocated ClusterIP (and nodePorts).
func (e *env) service(t *testing.T, name, typ string, ports ...*corev1.ServicePort) *corev1.Service {
	t.Helper()
	obj, err := e.c.Resource(scheme.Services).Create(e.ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.ServiceSpec{Type: typ, Ports: ports},
	})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	return obj.(*corev1.Service)
}

// setEndpoints writes the Endpoints of Service name: ready addresses with one port.
func (e *env) setEndpoints(t *testing.T, name, portName, protocol string, port int, ready []string) {
	t.Helper()
	ss := &corev1.EndpointSubset{Ports: []*corev1.EndpointPort{{Name: portName, Port: int32(port), Protocol: protocol}}}
	for _, ip := range ready {
		ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: ip})
	}
	ep := &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name}}
	if len(ready) > 0 {
		ep.Subsets = []*corev1.EndpointSubset{ss}
	}
	rc := e.c.Resource(scheme.Endpoints)
	cur, err := rc.Get(e.ctx, "default", name)
	if err != nil {
		if _, err := rc.Create(e.ctx, ep); err != nil {
			t.Fatalf("create endpoints %s: %v", name, err)
		}
		return
	}
	ep.Metadata = cur.GetMetadata()
	if _, err := rc.Update(e.ctx, ep); err != nil {
		t.Fatalf("update endpoints %s: %v", name, err)
	}
}

// tcpBackends listens on loopbackIP of each of ips at one common port; every connection gets
// the backend's IP (as given) and a newline, then its own bytes echoed.
func tcpBackends(t *testing.T, ips ...string) int {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		var ls []net.Listener
		port := 0
		ok := true
		for _, ip := range ips {
			l, err := net.Listen("tcp4", net.JoinHostPort(loopbackIP(netip.MustParseAddr(ip)).String(), fmt.Sprint(port)))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
			port = l.Addr().(*net.TCPAddr).Port
		}
		if !ok {
			for _, l := range ls {
				l.Close()
			}
			continue
		}
		for i, l := range ls {
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						fmt.Fprintf(c, "%s\n", ips[i])
						_, _ = io.Copy(c, c)
					}()
				}
			}()
		}
		return port
	}
	t.Fatal("no common free port for the backends")
	return 0
}

// udpBackends answers each datagram with "<ip>:<datagram>", on loopbackIP of each of ips at
// one port.
func udpBackends(t *testing.T, ips ...string) int {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		var cs []*net.UDPConn
		port := 0
		ok := true
		for _, ip := range ips {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopbackIP(netip.MustParseAddr(ip)).AsSlice(), Port: port})
			if err != nil {
				ok = false
				break
			}
			cs = append(cs, c)
			port = c.LocalAddr().(*net.UDPAddr).Port
		}
		if !ok {
			for _, c := range cs {
				c.Close()
			}
			continue
		}
		for i, c := range cs {
			t.Cleanup(func() { c.Close() })
			go func() {
				buf := make([]byte, 2048)
				for {
					n, from, err := c.ReadFromUDP(buf)
					if err != nil {
						return
					}
					_, _ = c.WriteToUDP([]byte(ips[i]+":"+string(buf[:n])), from)
				}
			}()
		}
		return port
	}
	t.Fatal("no common free port for the backends")
	return 0
}

// hello connects to addr from the local address from (any when empty) and returns the
// backend's first line, or an error.
func hello(addr, from string) (string, net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		return "", nil, err
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		c.Close()
		return "", nil, err
	}
	return strings.TrimSpace(line), c, nil
}

// get is hello that closes the connection.
func get(addr, from string) (string, error) {
	s, c, err := hello(addr, from)
	if c != nil {
		c.Close()
	}
	return s, err
}

// eventually polls cond until it holds, failing after a deadline.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last: %s", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// svcAddr is where the test reaches a Service port: loopbackIP(ClusterIP):port.
func svcAddr(s *corev1.Service, port int32) string {
	return netip.AddrPortFrom(loopbackIP(netip.MustParseAddr(s.GetSpec().GetClusterIp())), uint16(port)).String()
}
