package proxy

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/pkg/informer"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// DefaultAffinityTimeout is how long a client sticks to an endpoint with sessionAffinity
// ClientIP when sessionAffinityConfig gives no timeout: Kubernetes' default, 3 hours.
const DefaultAffinityTimeout = 10800 * time.Second

// Key is one socket of the proxy: an address, port and protocol ("TCP" or "UDP").
type Key struct {
	IP       netip.Addr
	Port     uint16
	Protocol string
}

// String is "TCP/10.96.0.12:80".
func (k Key) String() string {
	return k.Protocol + "/" + netip.AddrPortFrom(k.IP, k.Port).String()
}

// Target is where the connections to one Key go.
type Target struct {
	// Service names the Service port: "namespace/name:port" (the port's name, or its number
	// when unnamed).
	Service string
	// Endpoints are the ready addresses of the port, sorted.
	Endpoints []netip.AddrPort
	// Affinity is the ClientIP affinity timeout; 0 without session affinity.
	Affinity time.Duration
}

// equal reports whether two targets route identically.
func (t Target) equal(o Target) bool {
	return t.Service == o.Service && t.Affinity == o.Affinity && slices.Equal(t.Endpoints, o.Endpoints)
}

// State is what the proxy should serve: the addresses it keeps on lo and the sockets it
// listens on.
type State struct {
	// Addrs are the ClusterIPs of the Services (with or without endpoints): a connection to
	// a port without a listener on a local address is refused at once.
	Addrs map[netip.Addr]bool
	// Ports are the Service ports with at least one ready endpoint.
	Ports map[Key]Target
	// Endpoints counts the ready endpoints of every Service port, with or without a
	// listener, by Target.Service (for the metrics).
	Endpoints map[string]int
}

// Desired computes the proxy's State from the Services and their Endpoints: every Service
// with a ClusterIP inside serviceRange gets its ClusterIP on lo, each of its ports with ready
// endpoints a socket on ClusterIP:port, and on nodePortIP:nodePort when the port has a
// nodePort (NodePort and LoadBalancer Services). Headless and ExternalName Services have no
// sockets.
func Desired(services []*corev1.Service, endpoints func(namespace, name string) (*corev1.Endpoints, bool), serviceRange netip.Prefix, nodePortIP netip.Addr) State {
	st := State{Addrs: map[netip.Addr]bool{}, Ports: map[Key]Target{}, Endpoints: map[string]int{}}
	for _, svc := range services {
		spec := svc.GetSpec()
		if spec.GetType() == "ExternalName" {
			continue
		}
		ip, err := netip.ParseAddr(spec.GetClusterIp())
		if err != nil || !serviceRange.Contains(ip) {
			continue // headless ("None"), none yet, or not ours
		}
		st.Addrs[ip] = true
		md := svc.GetMetadata()
		ep, _ := endpoints(md.GetNamespace(), md.GetName())
		var affinity time.Duration
		if spec.GetSessionAffinity() == "ClientIP" {
			affinity = DefaultAffinityTimeout
			if s := spec.GetSessionAffinityConfig().GetClientIp(); s != nil && s.TimeoutSeconds != nil {
				affinity = time.Duration(s.GetTimeoutSeconds()) * time.Second
			}
		}
		for _, p := range spec.GetPorts() {
			proto := protocol(p.GetProtocol())
			if proto != "TCP" && proto != "UDP" {
				continue // SCTP: not proxied
			}
			t := Target{Service: portName(md.GetNamespace(), md.GetName(), p), Affinity: affinity}
			t.Endpoints = readyEndpoints(ep, p.GetName(), proto)
			st.Endpoints[t.Service] = len(t.Endpoints)
			if len(t.Endpoints) == 0 || p.GetPort() <= 0 || p.GetPort() > 65535 {
				continue
			}
			st.Ports[Key{IP: ip, Port: uint16(p.GetPort()), Protocol: proto}] = t
			if np := p.GetNodePort(); np > 0 && np <= 65535 && nodePortIP.IsValid() {
				st.Ports[Key{IP: nodePortIP, Port: uint16(np), Protocol: proto}] = t
			}
		}
	}
	return st
}

// EndpointsFrom adapts a lister of Endpoints to Desired.
func EndpointsFrom(l informer.Lister[*corev1.Endpoints]) func(namespace, name string) (*corev1.Endpoints, bool) {
	return l.Get
}

// readyEndpoints are the ready addresses of the subsets' port named name (Kubernetes'
// proxies match a Service port to its endpoint port by name), sorted and without duplicates.
func readyEndpoints(ep *corev1.Endpoints, name, proto string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ss := range ep.GetSubsets() {
		for _, port := range ss.GetPorts() {
			if port.GetName() != name || protocol(port.GetProtocol()) != proto || port.GetPort() <= 0 || port.GetPort() > 65535 {
				continue
			}
			for _, a := range ss.GetAddresses() {
				ip, err := netip.ParseAddr(a.GetIp())
				if err != nil {
					continue
				}
				out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(port.GetPort())))
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

func protocol(p string) string {
	if p == "" {
		return "TCP"
	}
	return strings.ToUpper(p)
}

func portName(ns, name string, p *corev1.ServicePort) string {
	n := p.GetName()
	if n == "" {
		n = strconv.Itoa(int(p.GetPort()))
	}
	return ns + "/" + name + ":" + n
}
