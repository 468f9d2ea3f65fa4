package proxy_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// TestTCPRoundRobin: connections to the ClusterIP reach every ready endpoint in turn, and
// endpoint changes apply without a restart.
func TestTCPRoundRobin(t *testing.T) {
	e := setup(t, nil)
	port := tcpBackends(t, "10.244.0.3", "10.244.0.4", "10.244.0.5")
	s := e.service(t, "web", "", &corev1.ServicePort{Name: "http", Port: 80})
	e.setEndpoints(t, "web", "http", "TCP", port, []string{"10.244.0.3", "10.244.0.4", "10.244.0.5"})
	addr := svcAddr(s, 80)
	eventually(t, "the proxy to serve "+addr, func() (bool, string) {
		_, err := get(addr, "")
		return err == nil, fmt.Sprint(err)
	})
	seen := map[string]int{}
	for range 30 {
		b, err := get(addr, "")
		if err != nil {
			t.Fatalf("request through %s: %v", addr, err)
		}
		seen[b]++
	}
	if len(seen) != 3 || seen["10.244.0.3"] != 10 || seen["10.244.0.4"] != 10 || seen["10.244.0.5"] != 10 {
		t.Fatalf("30 requests reached %v, want 10 each of three backends", seen)
	}

	// One endpoint left: every connection goes to it, and an open connection to it survives.
	_, open, err := hello(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	e.setEndpoints(t, "web", "http", "TCP", port, []string{"10.244.0.4"})
	eventually(t, "only 127.0.0.4 to answer", func() (bool, string) {
		for range 3 {
			if b, err := get(addr, ""); err != nil || b != "10.244.0.4" {
				return false, fmt.Sprint(b, err)
			}
		}
		return true, ""
	})
	if !echoes(open) {
		t.Fatal("a connection opened before the endpoints changed was cut")
	}
}

// echoes reports whether a connection to a test backend still echoes.
func echoes(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return false
	}
	buf := make([]byte, 4)
	_, err := io.ReadFull(c, buf)
	return err == nil && string(buf) == "ping"
}

// TestNoEndpointsRefuses: a Service port without a ready endpoint refuses connections at
// once, and so does one whose last endpoint went away, while connections in progress go on.
func TestNoEndpointsRefuses(t *testing.T) {
	e := setup(t, nil)
	empty := e.service(t, "empty", "", &corev1.ServicePort{Port: 80})
	e.setEndpoints(t, "empty", "", "TCP", 8080, nil)
	eventually(t, "the ClusterIP on lo", func() (bool, string) {
		return e.addrs.has(empty.GetSpec().GetClusterIp()), ""
	})
	start := time.Now()
	_, err := get(svcAddr(empty, 80), "")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect to a Service without endpoints: %v, want connection refused", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refused after %v, want at once", d)
	}

	port := tcpBackends(t, "10.244.0.3")
	web := e.service(t, "web", "", &corev1.ServicePort{Port: 80})
	e.setEndpoints(t, "web", "", "TCP", port, []string{"10.244.0.3"})
	addr := svcAddr(web, 80)
	var open net.Conn
	eventually(t, "the proxy to serve "+addr, func() (bool, string) {
		var err error
		_, open, err = hello(addr, "")
		return err == nil, fmt.Sprint(err)
	})
	defer open.Close()
	e.setEndpoints(t, "web", "", "TCP", port, nil)
	eventually(t, addr+" to refuse", func() (bool, string) {
		_, err := get(addr, "")
		return errors.Is(err, syscall.ECONNREFUSED), fmt.Sprint(err)
	})
	if !echoes(open) {
		t.Fatal("the listener's close cut a connection in progress")
	}
}

// TestClientIPAffinity: with sessionAffinity ClientIP each client IP sticks to one endpoint;
// different clients are spread.
func TestClientIPAffinity(t *testing.T) {
	e := setup(t, nil)
	port := tcpBackends(t, "10.244.0.3", "10.244.0.4", "10.244.0.5")
	obj, err := e.c.Resource(scheme.Services).Create(e.ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "sticky"},
		Spec:     &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Port: 80}}, SessionAffinity: "ClientIP"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.setEndpoints(t, "sticky", "", "TCP", port, []string{"10.244.0.3", "10.244.0.4", "10.244.0.5"})
	addr := svcAddr(obj.(*corev1.Service), 80)
	eventually(t, "the proxy to serve "+addr, func() (bool, string) {
		_, err := get(addr, "")
		return err == nil, fmt.Sprint(err)
	})
	all := map[string]bool{}
	for _, client := range []string{"127.0.1.1", "127.0.1.2", "127.0.1.3"} {
		seen := map[string]int{}
		for range 10 {
			b, err := get(addr, client)
			if err != nil {
				t.Fatalf("request from %s: %v", client, err)
			}
			seen[b]++
			all[b] = true
		}
		if len(seen) != 1 {
			t.Fatalf("client %s reached %v, want one backend", client, seen)
		}
	}
	if len(all) < 2 {
		t.Fatalf("three clients all stuck to %v, want them spread", all)
	}
}

// TestDialFailureTriesNext: an endpoint that refuses is skipped; every connection succeeds.
func TestDialFailureTriesNext(t *testing.T) {
	e := setup(t, nil)
	port := tcpBackends(t, "10.244.0.3")
	s := e.service(t, "web", "", &corev1.ServicePort{Port: 80})
	e.setEndpoints(t, "web", "", "TCP", port, []string{"10.244.0.3", "10.244.0.6"}) // nothing on .6
	addr := svcAddr(s, 80)
	eventually(t, "the proxy to serve "+addr, func() (bool, string) {
		_, err := get(addr, "")
		return err == nil, fmt.Sprint(err)
	})
	for i := range 10 {
		if b, err := get(addr, ""); err != nil || b != "10.244.0.3" {
			t.Fatalf("request %d: %q, %v; want 127.0.0.3", i, b, err)
		}
	}
}

// TestNodePort: a NodePort Service answers on the node port too.
func TestNodePort(t *testing.T) {
	e := setup(t, nil)
	port := tcpBackends(t, "10.244.0.3")
	s := e.service(t, "np", "NodePort", &corev1.ServicePort{Port: 80})
	np := s.GetSpec().GetPorts()[0].GetNodePort()
	if np == 0 {
		t.Fatalf("no nodePort allocated: %v", s.GetSpec())
	}
	e.setEndpoints(t, "np", "", "TCP", port, []string{"10.244.0.3"})
	addr := fmt.Sprintf("127.0.0.1:%d", np)
	eventually(t, "the node port "+addr, func() (bool, string) {
		b, err := get(addr, "")
		return err == nil && b == "10.244.0.3", fmt.Sprint(b, err)
	})
}

// TestUDP: datagrams reach the endpoints round-robin per client, replies come back from the
// Service's address, and a port without endpoints answers ICMP port unreachable.
func TestUDP(t *testing.T) {
	e := setup(t, nil)
	port := udpBackends(t, "10.244.0.3", "10.244.0.4")
	s := e.service(t, "echo", "", &corev1.ServicePort{Name: "echo", Port: 53, Protocol: "UDP"})
	e.setEndpoints(t, "echo", "echo", "UDP", port, []string{"10.244.0.3", "10.244.0.4"})
	addr := svcAddr(s, 53)
	eventually(t, "the proxy to serve udp "+addr, func() (bool, string) {
		r, err := udpAsk(addr, "hi")
		return err == nil, fmt.Sprint(r, err)
	})
	seen := map[string]bool{}
	for i := range 6 {
		r, err := udpAsk(addr, fmt.Sprint("m", i)) // a new socket: a new client port, a new session
		if err != nil {
			t.Fatal(err)
		}
		ip, msg, _ := strings.Cut(r, ":")
		if msg != fmt.Sprint("m", i) {
			t.Fatalf("reply %q to m%d", r, i)
		}
		seen[ip] = true
	}
	if len(seen) != 2 {
		t.Fatalf("6 clients reached %v, want both backends", seen)
	}
	e.setEndpoints(t, "echo", "echo", "UDP", port, nil)
	eventually(t, "udp "+addr+" to be unreachable", func() (bool, string) {
		_, err := udpAsk(addr, "hi")
		return errors.Is(err, syscall.ECONNREFUSED), fmt.Sprint(err)
	})
}

// udpAsk sends msg from a fresh socket connected to addr and returns the reply.
func udpAsk(addr, msg string) (string, error) {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// TestAddresses: the ClusterIPs and the extra (DNS) address are added, addresses of the
// range no Service needs are removed, others never touched, and everything of the range is
// removed when the proxy stops.
func TestAddresses(t *testing.T) {
	e := setup(t, nil)
	s := e.service(t, "web", "", &corev1.ServicePort{Port: 80})
	ip := s.GetSpec().GetClusterIp()
	eventually(t, "the addresses on lo", func() (bool, string) {
		got, _ := e.addrs.List()
		return e.addrs.has(ip) && e.addrs.has("10.96.0.10") && !e.addrs.has("10.96.99.99"), fmt.Sprint(got)
	})
	if !e.addrs.has("127.0.0.1") || !e.addrs.has("10.97.0.1") {
		t.Fatal("an address outside the service range was removed")
	}
	if _, err := e.c.Resource(scheme.Services).Delete(e.ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted Service's ClusterIP to go", func() (bool, string) {
		got, _ := e.addrs.List()
		return !e.addrs.has(ip), fmt.Sprint(got)
	})
}

// TestStopRemovesAddresses: after Run returns, no address of the range is left.
func TestStopRemovesAddresses(t *testing.T) {
	var addrs *fakeAddrs
	t.Run("run", func(t *testing.T) {
		e := setup(t, nil)
		addrs = e.addrs
		e.service(t, "web", "", &corev1.ServicePort{Port: 80})
		eventually(t, "a ClusterIP on lo", func() (bool, string) {
			got, _ := e.addrs.List()
			return len(got) == 4, fmt.Sprint(got) // 127.0.0.1, 10.97.0.1, DNS, web
		})
	})
	got, _ := addrs.List()
	want := []string{"10.97.0.1", "127.0.0.1"}
	var gotS []string
	for _, a := range got {
		gotS = append(gotS, a.String())
	}
	if !slices.Equal(gotS, want) {
		t.Fatalf("after stop: %v, want %v", gotS, want)
	}
}
