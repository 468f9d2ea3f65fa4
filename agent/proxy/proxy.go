package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Config configures a Proxier.
type Config struct {
	// Services and Endpoints are informers of every Service and Endpoints object; the caller
	// runs them. Required.
	Services, Endpoints *informer.Informer
	// ServiceRange is the --service-cluster-ip-range: Services' ClusterIPs inside it are
	// proxied, and the addresses on lo inside it are the proxy's. Required.
	ServiceRange netip.Prefix
	// ExtraAddrs are kept on lo too while the proxy runs (the cluster DNS server's address).
	ExtraAddrs []netip.Addr
	// Addresses manages the addresses of lo; Loopback() when nil.
	Addresses Addresses
	// MapIP maps the addresses of the cluster the proxy uses, the ClusterIPs it listens on
	// and the endpoint IPs it connects to, to the addresses it really uses; the identity
	// when nil. Tests map them to 127.x.y.z, which needs no address on lo and no Pods.
	MapIP func(netip.Addr) netip.Addr
	// NodePortIP is the address nodePorts listen on; 0.0.0.0 when zero.
	NodePortIP netip.Addr
	// UDPIdleTimeout and MaxUDPSessions: DefaultUDPIdleTimeout and DefaultMaxUDPSessions
	// when zero.
	UDPIdleTimeout time.Duration
	MaxUDPSessions int
	Logger         *slog.Logger
	// Metrics registers the proxy's metrics; optional.
	Metrics prometheus.Registerer
}

// socket is a running TCP listener or UDP socket of one Key.
type socket interface {
	update(t Target)
	close()
}

// env is what the sockets share.
type env struct {
	conns          *connSet
	metrics        *metrics
	log            *slog.Logger
	udpIdleTimeout time.Duration
	maxUDPSessions int
}

// Proxier is the service proxy. Create it with New, call Prepare, then Run.
type Proxier struct {
	cfg       Config
	env       *env
	addrs     Addresses
	ctrl      *controller.Controller
	services  informer.Lister[*corev1.Service]
	endpoints informer.Lister[*corev1.Endpoints]

	// Owned by the reconcile (one worker).
	sockets map[Key]socket
	targets map[Key]Target
}

// syncKey is the proxy's only work-queue key: every change leads to one reconcile of all.
const syncKey = "all"

// New returns a Proxier for cfg.
func New(cfg Config) (*Proxier, error) {
	switch {
	case cfg.Services == nil || cfg.Endpoints == nil:
		return nil, errors.New("proxy: the Services and Endpoints informers are required")
	case !cfg.ServiceRange.IsValid():
		return nil, errors.New("proxy: a service range is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Addresses == nil {
		cfg.Addresses = Loopback()
	}
	if cfg.MapIP == nil {
		cfg.MapIP = func(ip netip.Addr) netip.Addr { return ip }
	}
	if !cfg.NodePortIP.IsValid() {
		cfg.NodePortIP = netip.IPv4Unspecified()
	}
	if cfg.UDPIdleTimeout <= 0 {
		cfg.UDPIdleTimeout = DefaultUDPIdleTimeout
	}
	if cfg.MaxUDPSessions <= 0 {
		cfg.MaxUDPSessions = DefaultMaxUDPSessions
	}
	cfg.ServiceRange = cfg.ServiceRange.Masked()
	p := &Proxier{
		cfg: cfg, addrs: cfg.Addresses,
		env: &env{
			conns: newConnSet(), metrics: newMetrics(cfg.Metrics), log: cfg.Logger,
			udpIdleTimeout: cfg.UDPIdleTimeout, maxUDPSessions: cfg.MaxUDPSessions,
		},
		services:  informer.NewLister[*corev1.Service](cfg.Services),
		endpoints: informer.NewLister[*corev1.Endpoints](cfg.Endpoints),
		sockets:   map[Key]socket{},
		targets:   map[Key]Target{},
	}
	p.ctrl = controller.New("service-proxy", p.reconcile, controller.Options{Logger: cfg.Logger})
	all := func(scheme.Object) []string { return []string{syncKey} }
	p.ctrl.Watch(cfg.Services, all)
	p.ctrl.Watch(cfg.Endpoints, all)
	return p, nil
}

// Prepare adds the extra addresses (the cluster DNS server's) to lo, so that servers can bind
// them before the proxy runs. Its error says when the process lacks CAP_NET_ADMIN.
func (p *Proxier) Prepare() error {
	for _, a := range p.cfg.ExtraAddrs {
		if err := p.addrs.Add(a); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	return nil
}

// Run proxies until ctx ends, then closes every socket and connection and removes the
// proxy's addresses from lo (every address inside the service range).
func (p *Proxier) Run(ctx context.Context) error {
	err := p.ctrl.Run(ctx)
	for k, s := range p.sockets {
		s.close()
		delete(p.sockets, k)
		delete(p.targets, k)
	}
	p.env.conns.closeAll()
	if rerr := p.removeAll(); rerr != nil {
		p.cfg.Logger.Error("remove the service addresses from lo", "err", rerr)
	}
	return err
}

// removeAll removes every address inside the service range from lo.
func (p *Proxier) removeAll() error {
	have, err := p.addrs.List()
	if err != nil {
		return err
	}
	_, remove := diffAddrs(have, nil, p.cfg.ServiceRange)
	var errs []error
	for _, a := range remove {
		errs = append(errs, p.addrs.Remove(a))
	}
	return errors.Join(errs...)
}

// reconcile makes the addresses and sockets match the Services and Endpoints in the caches.
func (p *Proxier) reconcile(ctx context.Context, _ string) (controller.Result, error) {
	log := controller.LoggerFrom(ctx)
	st := Desired(p.services.List(), p.endpoints.Get, p.cfg.ServiceRange, p.cfg.NodePortIP)
	for _, a := range p.cfg.ExtraAddrs {
		st.Addrs[a] = true
	}
	for k, t := range st.Ports {
		eps := make([]netip.AddrPort, len(t.Endpoints))
		for i, ep := range t.Endpoints {
			eps[i] = netip.AddrPortFrom(p.cfg.MapIP(ep.Addr()), ep.Port())
		}
		t.Endpoints = eps
		st.Ports[k] = t
	}
	var errs []error
	have, err := p.addrs.List()
	if err != nil {
		return controller.Result{}, fmt.Errorf("proxy: %w", err)
	}
	addAddrs, removeAddrs := diffAddrs(have, st.Addrs, p.cfg.ServiceRange)
	failed := map[netip.Addr]bool{}
	for _, a := range addAddrs {
		if err := p.addrs.Add(a); err != nil {
			errs = append(errs, err)
			failed[a] = true
		}
	}
	ch := diffPorts(p.targets, st.Ports)
	for _, k := range ch.remove {
		log.Info("stop proxying", "listen", k.String(), "service", p.targets[k].Service)
		p.sockets[k].close()
		delete(p.sockets, k)
		delete(p.targets, k)
	}
	for _, k := range ch.update {
		t := st.Ports[k]
		log.Debug("endpoints changed", "listen", k.String(), "service", t.Service, "endpoints", len(t.Endpoints))
		p.sockets[k].update(t)
		p.targets[k] = t
	}
	for _, k := range ch.add {
		if failed[k.IP] {
			continue
		}
		t := st.Ports[k]
		s, err := p.listen(k, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("proxy %s for %s: %w", k, t.Service, err))
			continue
		}
		log.Info("proxying", "listen", k.String(), "service", t.Service, "endpoints", len(t.Endpoints))
		p.sockets[k], p.targets[k] = s, t
	}
	for _, a := range removeAddrs {
		if err := p.addrs.Remove(a); err != nil {
			errs = append(errs, err)
		}
	}
	p.env.metrics.endpoints.Reset()
	for svc, n := range st.Endpoints {
		p.env.metrics.endpoints.WithLabelValues(svc).Set(float64(n))
	}
	return controller.Result{}, errors.Join(errs...)
}

func (p *Proxier) listen(k Key, t Target) (socket, error) {
	ip := k.IP
	if ip != p.cfg.NodePortIP {
		ip = p.cfg.MapIP(ip)
	}
	if k.Protocol == "UDP" {
		return listenUDP(k, ip, t, p.env)
	}
	return listenTCP(k, ip, t, p.env)
}
