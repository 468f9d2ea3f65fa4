package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-dev/berth/agent"
	"github.com/berth-dev/berth/agent/dns"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
)

// agentOptions are the flags of `berth agent` and of `berth server --agent`.
type agentOptions struct {
	enabled    bool // --agent, for berth server
	nodeName   string
	runtime    string
	rootDir    string
	agentAddr  string
	nodeIP     string
	nodeLabels string
	hollow     int
	nodeCPU    string
	nodeMemory string
	nodePods   int

	// The service proxy and cluster DNS (agent/proxy, agent/dns).
	serviceRange  string // --service-cluster-ip-range; berth server passes its own
	clusterDNS    string
	clusterDomain string
	proxy         bool
	// flags tells whether --proxy was given (an explicit --proxy=true must work or fail).
	flags *pflag.FlagSet
}

// addFlags adds the agent's flags; inServer adds --agent and leaves out the hollow ones.
func (o *agentOptions) addFlags(f *pflag.FlagSet, inServer bool) {
	o.flags = f
	host, _ := os.Hostname()
	host = strings.ToLower(host)
	if inServer {
		f.BoolVar(&o.enabled, "agent", false, "also run a node agent in this process, so that Pods bound to its Node run here")
	}
	f.StringVar(&o.nodeName, "node-name", host, "the Node the agent registers (with --hollow-nodes, the prefix of their names, default \""+agent.DefaultHollowPrefix+"\")")
	f.StringVar(&o.runtime, "runtime", "docker", "the container runtime: docker (the Docker Engine) or fake (simulated containers)")
	f.StringVar(&o.agentAddr, "agent-addr", fmt.Sprintf("127.0.0.1:%d", agent.DefaultPort), "address of the agent's logs/exec service, which the apiserver relays berthctl logs and exec to; its port is advertised in the Node's status")
	f.StringVar(&o.nodeIP, "node-ip", "", "the Node's InternalIP, where the apiserver reaches the agent (default: the --agent-addr host when it is an IP, else the host's first non-loopback address)")
	f.StringVar(&o.nodeLabels, "node-labels", "", "extra labels of the Node: key=value,...")
	f.StringVar(&o.nodeCPU, "node-cpu", "4", "cpu capacity of a fake Node")
	f.StringVar(&o.nodeMemory, "node-memory", "16Gi", "memory capacity of a fake Node")
	f.IntVar(&o.nodePods, "node-pods", agent.DefaultMaxPods, "pods capacity of the Node")
	f.StringVar(&o.clusterDNS, "cluster-dns", "", "the cluster DNS server's address: the agent serves DNS there and gives it to Pods with dnsPolicy ClusterFirst as their nameserver (default: the tenth address of --service-cluster-ip-range, 10.96.0.10)")
	f.StringVar(&o.clusterDomain, "cluster-domain", dns.DefaultDomain, "the DNS domain of Services (<service>.<namespace>.svc.<domain>)")
	f.BoolVar(&o.proxy, "proxy", true, "run the service proxy (ClusterIPs and nodePorts) and the cluster DNS server on the host, with --runtime docker; needs root (CAP_NET_ADMIN) to put Service IPs on lo: without it the agent runs without them (with a warning), unless --proxy is given explicitly")
	if inServer {
		f.StringVar(&o.rootDir, "root-dir", "", "the agent's directory for the Pods' volumes (default <data-dir>/agent)")
		return
	}
	f.StringVar(&o.rootDir, "root-dir", "./berth-agent", "the agent's directory for the Pods' volumes")
	f.StringVar(&o.serviceRange, "service-cluster-ip-range", ipalloc.DefaultRange, "the apiserver's --service-cluster-ip-range (they must be equal): the service proxy owns the addresses on lo inside it")
	f.IntVar(&o.hollow, "hollow-nodes", 0, "run this many hollow Nodes (named <node-name>-0 … -N-1) with the fake runtime, for scale tests")
}

// check validates the flags before anything starts.
func (o *agentOptions) check() error {
	switch o.runtime {
	case "docker", "fake":
	default:
		return fmt.Errorf("--runtime: %q is not docker or fake", o.runtime)
	}
	if o.hollow < 0 {
		return fmt.Errorf("--hollow-nodes: %d is negative", o.hollow)
	}
	if o.hollow > 0 && o.runtime != "fake" {
		return fmt.Errorf("--hollow-nodes needs --runtime fake")
	}
	if o.nodeName == "" {
		return fmt.Errorf("--node-name is required (the host name is unknown)")
	}
	for _, q := range []struct{ flag, v string }{{"--node-cpu", o.nodeCPU}, {"--node-memory", o.nodeMemory}} {
		if q.v == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q.v); err != nil {
			return fmt.Errorf("%s: %q is not a quantity: %w", q.flag, q.v, err)
		}
	}
	if _, err := o.labels(); err != nil {
		return err
	}
	if _, err := o.serviceNetwork(); err != nil {
		return err
	}
	return nil
}

// serviceNetwork is the agent's service proxy and cluster DNS configuration; nil when they do
// not run (--proxy=false, the fake runtime, hollow Nodes).
func (o *agentOptions) serviceNetwork() (*agent.ServiceNetwork, error) {
	domain := o.clusterDomain
	if domain == "" {
		domain = dns.DefaultDomain
	}
	if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
		return nil, fmt.Errorf("--cluster-domain: %q: %s", domain, strings.Join(errs, "; "))
	}
	rangeStr := o.serviceRange
	if rangeStr == "" {
		rangeStr = ipalloc.DefaultRange
	}
	r, err := ipalloc.ParseRange(rangeStr)
	if err != nil {
		return nil, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	sn := &agent.ServiceNetwork{ServiceRange: r.Prefix(), DNS: r.DNS(), Domain: domain}
	if o.clusterDNS != "" {
		if sn.DNS, err = netip.ParseAddr(o.clusterDNS); err != nil || !sn.DNS.Is4() {
			return nil, fmt.Errorf("--cluster-dns: %q is not an IPv4 address", o.clusterDNS)
		}
		if o.proxy && o.runtime == "docker" && !r.Contains(sn.DNS) {
			return nil, fmt.Errorf("--cluster-dns: %s is outside --service-cluster-ip-range %s, where the agent serves it", sn.DNS, r)
		}
	}
	if !o.proxy || o.runtime != "docker" || o.hollow > 0 {
		return nil, nil
	}
	// By default the agent runs without them where it may not (no root); asked for by
	// --proxy, it fails instead.
	sn.Optional = o.flags == nil || !o.flags.Changed("proxy")
	return sn, nil
}

func (o *agentOptions) labels() (map[string]string, error) {
	if o.nodeLabels == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(o.nodeLabels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--node-labels: %q is not key=value", kv)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("--node-labels: key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("--node-labels: value %q of %s: %s", v, k, strings.Join(errs, "; "))
		}
		out[k] = v
	}
	return out, nil
}

// run is the agent role: it runs until ctx ends.
func (o *agentOptions) run(ctx context.Context, c *client.Client, reg prometheus.Registerer, log *slog.Logger) error {
	if err := o.check(); err != nil {
		return err
	}
	labels, _ := o.labels()
	// The runtime bind-mounts volumes from under the root directory: it must be absolute.
	rootDir, err := filepath.Abs(o.rootDir)
	if err != nil {
		return fmt.Errorf("--root-dir: %w", err)
	}
	l, err := net.Listen("tcp", o.agentAddr)
	if err != nil {
		return fmt.Errorf("listen on --agent-addr %s: %w", o.agentAddr, err)
	}
	defer l.Close()
	cfg := agent.Config{
		Client: c, NodeName: o.nodeName, RootDir: rootDir, Labels: labels, Logger: log, Metrics: reg,
		Version: version, Address: o.nodeIP, MaxPods: o.nodePods,
	}
	if o.runtime == "fake" {
		cfg.Capacity = map[string]string{"cpu": o.nodeCPU, "memory": o.nodeMemory, "pods": strconv.Itoa(o.nodePods)}
	}
	cfg.ServiceNetwork, _ = o.serviceNetwork()
	cfg.ClusterDomain = o.clusterDomain
	switch {
	case cfg.ServiceNetwork != nil:
		cfg.ClusterDNS = []string{cfg.ServiceNetwork.DNS.String()}
	case o.clusterDNS != "":
		cfg.ClusterDNS = []string{o.clusterDNS} // served by someone else
	}
	if o.hollow > 0 {
		return agent.RunHollow(ctx, agent.HollowConfig{
			Count: o.hollow, Prefix: o.nodeName, Template: cfg, Listener: l,
			NewRuntime: newHollowRuntime,
		})
	}
	rt, closeRT, err := o.newRuntime(ctx, rootDir, log)
	if err != nil {
		return err
	}
	defer closeRT()
	cfg.Runtime, cfg.Listener = rt, l
	log.Info("agent starting", "node", o.nodeName, "runtime", o.runtime, "agentAddr", l.Addr().String())
	return agent.Run(ctx, cfg)
}

// agentCmd is `berth agent`: a node agent (or many hollow ones) against an apiserver.
func agentCmd(logger func() (*slog.Logger, error)) *cobra.Command {
	var o agentOptions
	cmd := roleCmd(logger, "agent", "Run a node agent: register a Node and run the Pods bound to it on Docker (or fake ones)", 10248, o.run)
	o.addFlags(cmd.Flags(), false)
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if o.hollow > 0 && !cmd.Flags().Changed("node-name") {
			o.nodeName = agent.DefaultHollowPrefix
		}
		return o.check()
	}
	return cmd
}
