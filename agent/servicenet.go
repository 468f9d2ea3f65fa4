package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/berth-dev/berth/agent/dns"
	"github.com/berth-dev/berth/agent/proxy"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
)

// ServiceNetwork configures the service proxy and the cluster DNS server the agent runs on
// the host (agent/proxy, agent/dns). Only an agent on a real runtime runs them: hollow Nodes
// have no network.
type ServiceNetwork struct {
	// ServiceRange is the apiserver's --service-cluster-ip-range; the addresses on lo inside
	// it are the proxy's. Required.
	ServiceRange netip.Prefix
	// DNS is the cluster DNS server's address (the range's tenth), served on port 53.
	// Required.
	DNS netip.Addr
	// Domain is the cluster domain (dns.DefaultDomain when empty).
	Domain string
	// Optional lets the agent run on without the proxy and the DNS server when they cannot
	// start (no CAP_NET_ADMIN to put addresses on lo): it logs a warning, and Pods with
	// dnsPolicy ClusterFirst get the Node's DNS instead of the cluster DNS address. When false,
	// that failure stops the agent.
	Optional bool
}

// dnsRetry is how long the agent waits before it tries again to serve the cluster DNS when
// its address is taken.
const dnsRetry = 5 * time.Second

// startServiceNetwork puts the DNS address on lo, then runs the proxy and the DNS server
// until ctx ends (the proxy removes its addresses then). Its error, a lack of CAP_NET_ADMIN
// most likely, stops the agent.
func (a *agent) startServiceNetwork(ctx context.Context, goRun func(func(context.Context))) error {
	sn := a.cfg.ServiceNetwork
	log := a.log.With("component", "service-proxy")
	f := informer.NewFactory(a.cfg.Client, informer.Options{Logger: log})
	services, endpoints := f.For(scheme.Services), f.For(scheme.Endpoints)
	p, err := proxy.New(proxy.Config{
		Services: services, Endpoints: endpoints, ServiceRange: sn.ServiceRange,
		ExtraAddrs: []netip.Addr{sn.DNS}, Logger: log, Metrics: a.cfg.Metrics,
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if err := p.Prepare(); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	d, err := dns.New(dns.Config{
		Services: services, Endpoints: endpoints, Domain: sn.Domain,
		Logger: a.log.With("component", "dns"), Metrics: a.cfg.Metrics,
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	f.Start(ctx)
	goRun(func(ctx context.Context) {
		if err := p.Run(ctx); err != nil {
			log.Error("service proxy stopped", "err", err)
		}
	})
	addr := net.JoinHostPort(sn.DNS.String(), "53")
	goRun(func(ctx context.Context) {
		for {
			err := d.ListenAndServe(ctx, addr)
			if ctx.Err() != nil {
				return
			}
			a.log.Error("cluster DNS server", "addr", addr, "err", err, "retryIn", dnsRetry)
			if !sleep(ctx, dnsRetry) {
				return
			}
		}
	})
	goRun(func(context.Context) { f.Wait() })
	a.log.Info("service proxy and cluster DNS starting", "serviceRange", sn.ServiceRange.String(), "dns", addr)
	return nil
}
