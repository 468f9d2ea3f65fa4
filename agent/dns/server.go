package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/promreg"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Defaults of Config.
const (
	DefaultDomain     = "cluster.local"
	DefaultResolvConf = "/etc/resolv.conf"
	// TTL is the TTL of every answer in the cluster domain, in seconds.
	TTL = 5
	// forwardTimeout bounds one exchange with an upstream nameserver.
	forwardTimeout = 2 * time.Second
)

// Config configures a Server.
type Config struct {
	// Services and Endpoints are informers of every Service and Endpoints object; the caller
	// runs them. Required.
	Services, Endpoints *informer.Informer
	// Domain is the cluster domain (DefaultDomain when empty).
	Domain string
	// Upstreams are the nameservers (host:port) names outside the domain are forwarded to;
	// when nil they are read from ResolvConf (DefaultResolvConf when empty).
	Upstreams  []string
	ResolvConf string
	Logger     *slog.Logger
	// Metrics registers the server's metrics; optional.
	Metrics prometheus.Registerer
}

// Server answers DNS queries. It is a dns.Handler; Serve and ListenAndServe serve it.
type Server struct {
	domain    string
	upstreams []string
	log       *slog.Logger
	services  informer.Lister[*corev1.Service]
	endpoints informer.Lister[*corev1.Endpoints]
	requests  *prometheus.CounterVec
}

var _ dns.Handler = (*Server)(nil)

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Services == nil || cfg.Endpoints == nil {
		return nil, errors.New("dns: the Services and Endpoints informers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	domain := strings.ToLower(strings.Trim(cfg.Domain, "."))
	if domain == "" {
		domain = DefaultDomain
	}
	if _, ok := dns.IsDomainName(domain); !ok {
		return nil, fmt.Errorf("dns: %q is not a domain name", cfg.Domain)
	}
	s := &Server{
		domain: domain, upstreams: cfg.Upstreams, log: cfg.Logger,
		services:  informer.NewLister[*corev1.Service](cfg.Services),
		endpoints: informer.NewLister[*corev1.Endpoints](cfg.Endpoints),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_dns_requests_total",
			Help: "DNS queries the cluster DNS server answered, by zone (cluster or forward) and rcode.",
		}, []string{"zone", "rcode"}),
	}
	if s.upstreams == nil {
		path := cfg.ResolvConf
		if path == "" {
			path = DefaultResolvConf
		}
		if cc, err := dns.ClientConfigFromFile(path); err != nil {
			s.log.Warn("no upstream nameservers: names outside the cluster domain get SERVFAIL", "resolvConf", path, "err", err)
		} else {
			for _, ns := range cc.Servers {
				s.upstreams = append(s.upstreams, net.JoinHostPort(ns, cc.Port))
			}
		}
	}
	if cfg.Metrics != nil {
		s.requests = promreg.Register(cfg.Metrics, s.requests)
	}
	return s, nil
}

// ListenAndServe serves on UDP and TCP addr until ctx ends. The cluster DNS server's own
// address is never used as an upstream.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("dns: listen on udp %s: %w", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("dns: listen on tcp %s: %w", addr, err)
	}
	s.upstreams = slices.DeleteFunc(s.upstreams, func(u string) bool { return u == addr })
	return s.Serve(ctx, pc, l)
}

// Serve serves on pc (UDP) and l (TCP) until ctx ends, then closes them.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	servers := []*dns.Server{
		{PacketConn: pc, Handler: s, Net: "udp"},
		{Listener: l, Handler: s, Net: "tcp", ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second},
	}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("dns: serve: %w", err)
	}
	for _, srv := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = srv.ShutdownContext(sctx)
		cancel()
	}
	pc.Close()
	l.Close()
	return err
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 || r.Opcode != dns.OpcodeQuery {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNotImplemented)
		s.write(w, m, "cluster")
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	pq, inDomain, ok := parseName(name, s.domain)
	if !inDomain {
		s.write(w, s.forward(w, r), "forward")
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative, m.RecursionAvailable = true, true
	exists := false
	if ok {
		exists = s.answer(m, pq, q)
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{s.soa()}
	}
	s.write(w, m, "cluster")
}

func (s *Server) write(w dns.ResponseWriter, m *dns.Msg, zone string) {
	s.requests.WithLabelValues(zone, dns.RcodeToString[m.Rcode]).Inc()
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("write a DNS reply", "err", err)
	}
}

// soa is the cluster domain's SOA, for negative answers.
func (s *Server) soa() dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: s.domain + ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: TTL},
		Ns:      "ns.dns." + s.domain + ".",
		Mbox:    "hostmaster." + s.domain + ".",
		Serial:  uint32(time.Now().Unix()),
		Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: TTL,
	}
}

// answer adds to m the records of q's type for pq; it reports whether the name exists.
func (s *Server) answer(m *dns.Msg, pq query, q dns.Question) bool {
	if pq.kind == kindNone {
		return true
	}
	svc, ok := s.services.Get(pq.namespace, pq.service)
	if !ok {
		return false
	}
	spec := svc.GetSpec()
	ep, _ := s.endpoints.Get(pq.namespace, pq.service)
	headless := spec.GetClusterIp() == "None"
	svcName := query{kind: kindService, namespace: pq.namespace, service: pq.service}.name(s.domain)
	switch pq.kind {
	case kindService:
		if spec.GetType() == "ExternalName" {
			target := dns.Fqdn(spec.GetExternalName())
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: s.hdr(q.Name, dns.TypeCNAME), Target: target})
			return true
		}
		if q.Qtype != dns.TypeA && q.Qtype != dns.TypeANY {
			return true
		}
		if !headless {
			if ip := parseIPv4(spec.GetClusterIp()); ip != nil {
				m.Answer = append(m.Answer, &dns.A{Hdr: s.hdr(q.Name, dns.TypeA), A: ip})
			}
			return true
		}
		for _, a := range readyAddresses(ep) {
			if ip := parseIPv4(a.GetIp()); ip != nil {
				m.Answer = append(m.Answer, &dns.A{Hdr: s.hdr(q.Name, dns.TypeA), A: ip})
			}
		}
		return true
	case kindEndpoint:
		var ips []net.IP
		for _, a := range readyAddresses(ep) {
			if endpointName(a) == pq.host {
				if ip := parseIPv4(a.GetIp()); ip != nil {
					ips = append(ips, ip)
				}
			}
		}
		if len(ips) == 0 {
			return false
		}
		if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
			for _, ip := range ips {
				m.Answer = append(m.Answer, &dns.A{Hdr: s.hdr(q.Name, dns.TypeA), A: ip})
			}
		}
		return true
	case kindPort:
		return s.answerSRV(m, pq, q, spec, ep, headless, svcName)
	}
	return false
}

// answerSRV answers _<port>._<proto>.<svc>.<ns>.svc: the Service port named <port>.
func (s *Server) answerSRV(m *dns.Msg, pq query, q dns.Question, spec *corev1.ServiceSpec, ep *corev1.Endpoints, headless bool, svcName string) bool {
	var port *corev1.ServicePort
	for _, p := range spec.GetPorts() {
		if p.GetName() == pq.port && strings.EqualFold(protocolOf(p.GetProtocol()), pq.protocol) {
			port = p
		}
	}
	if port == nil {
		return false
	}
	if q.Qtype != dns.TypeSRV && q.Qtype != dns.TypeANY {
		return true
	}
	if !headless {
		m.Answer = append(m.Answer, &dns.SRV{Hdr: s.hdr(q.Name, dns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(port.GetPort()), Target: svcName})
		if ip := parseIPv4(spec.GetClusterIp()); ip != nil {
			m.Extra = append(m.Extra, &dns.A{Hdr: s.hdr(svcName, dns.TypeA), A: ip})
		}
		return true
	}
	type rec struct {
		target string
		port   int32
		ip     net.IP
	}
	var recs []rec
	for _, ss := range ep.GetSubsets() {
		for _, p := range ss.GetPorts() {
			if p.GetName() != pq.port || !strings.EqualFold(protocolOf(p.GetProtocol()), pq.protocol) {
				continue
			}
			for _, a := range ss.GetAddresses() {
				ip := parseIPv4(a.GetIp())
				if ip == nil {
					continue
				}
				target := endpointName(a) + "." + svcName
				recs = append(recs, rec{target: target, port: p.GetPort(), ip: ip})
			}
		}
	}
	weight := uint16(100)
	if len(recs) > 0 {
		weight = uint16(max(1, 100/len(recs)))
	}
	for _, r := range recs {
		m.Answer = append(m.Answer, &dns.SRV{Hdr: s.hdr(q.Name, dns.TypeSRV), Priority: 0, Weight: weight, Port: uint16(r.port), Target: r.target})
		m.Extra = append(m.Extra, &dns.A{Hdr: s.hdr(r.target, dns.TypeA), A: r.ip})
	}
	return true
}

func (s *Server) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
}

// forward asks the upstream nameservers, in order, over the query's protocol; SERVFAIL when
// none answers.
func (s *Server) forward(w dns.ResponseWriter, r *dns.Msg) *dns.Msg {
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	for _, up := range s.upstreams {
		c := &dns.Client{Net: network, Timeout: forwardTimeout}
		resp, _, err := c.Exchange(r, up)
		if err == nil && resp.Truncated && network == "udp" {
			c.Net = "tcp"
			resp, _, err = c.Exchange(r, up)
		}
		if err != nil {
			s.log.Debug("forward a DNS query", "name", r.Question[0].Name, "upstream", up, "err", err)
			continue
		}
		resp.Id = r.Id
		if network == "udp" {
			resp.Truncate(udpSize(r))
		}
		return resp
	}
	m := new(dns.Msg)
	m.SetRcode(r, dns.RcodeServerFailure)
	m.RecursionAvailable = true
	return m
}

// udpSize is the largest UDP reply the client takes.
func udpSize(r *dns.Msg) int {
	if o := r.IsEdns0(); o != nil {
		return int(max(o.UDPSize(), dns.MinMsgSize))
	}
	return dns.MinMsgSize
}

// readyAddresses are the ready addresses of every subset.
func readyAddresses(ep *corev1.Endpoints) []*corev1.EndpointAddress {
	var out []*corev1.EndpointAddress
	for _, ss := range ep.GetSubsets() {
		out = append(out, ss.GetAddresses()...)
	}
	return out
}

// endpointName is an endpoint's name under its Service: its hostname, else its IP with
// dashes.
func endpointName(a *corev1.EndpointAddress) string {
	if h := a.GetHostname(); h != "" {
		return strings.ToLower(h)
	}
	return dashed(a.GetIp())
}

func parseIPv4(s string) net.IP {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return nil
	}
	return a.Unmap().AsSlice()
}

func protocolOf(p string) string {
	if p == "" {
		return "TCP"
	}
	return p
}
