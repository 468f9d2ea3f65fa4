package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-dev/berth/agent/logexec"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/pkg/apistatus"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Defaults of Config.
const (
	DefaultMaxPods              = 110
	DefaultLeaseDuration        = 40 * time.Second
	DefaultRenewInterval        = 10 * time.Second
	DefaultStatusInterval       = 10 * time.Second
	DefaultStatusReportInterval = 40 * time.Second
	DefaultRuntimeTimeout       = 5 * time.Second
	// DefaultPort is the port of the agent's logs/exec service, the kubelet's.
	DefaultPort = 10250
)

// Config configures one agent.
type Config struct {
	// Client talks to the apiserver. Required.
	Client *client.Client
	// NodeName is the Node the agent registers and runs. Required.
	NodeName string
	// Runtime runs the Pods' containers. Required.
	Runtime runtime.Runtime
	// RootDir holds the Pods' volumes (RootDir/pods/<uid>/volumes/...).
	RootDir string
	// Labels are added to the Node's labels.
	Labels map[string]string
	Logger *slog.Logger
	// Metrics registers the agent's metrics; optional. The agents of one process share them.
	Metrics prometheus.Registerer
	// Version is reported as the Node's nodeInfo.kubeletVersion.
	Version string

	// Address is the Node's InternalIP. When empty it is the Listener's address if that is a
	// specific one, else the host's first non-loopback IPv4 address, else 127.0.0.1.
	Address string
	// Hostname is the Node's Hostname address; os.Hostname() when empty.
	Hostname string
	// Listener, when set, serves the Log and Exec RPCs the apiserver relays (agent/logexec),
	// and its port is advertised in status.daemonEndpoints.kubeletEndpoint.Port.
	Listener net.Listener
	// Port is advertised instead when the logs/exec service is served elsewhere (hollow
	// Nodes share one); ignored with a Listener.
	Port int32

	// Capacity replaces what the runtime reports: "cpu", "memory" and "pods" quantities.
	Capacity map[string]string
	// MaxPods is the pods capacity when Capacity does not give it (DefaultMaxPods when 0).
	MaxPods int

	// Timing; zero values are the defaults above.
	LeaseDuration, RenewInterval         time.Duration
	StatusInterval, StatusReportInterval time.Duration
	RuntimeTimeout                       time.Duration
	// StatusWorkers is the number of concurrent Pod status writers (2 when 0).
	StatusWorkers int

	// ServiceNetwork, when set, runs the service proxy and the cluster DNS server on the
	// host; nil for hollow Nodes and the fake runtime.
	ServiceNetwork *ServiceNetwork
	// ClusterDNS are the nameservers of the Pods with dnsPolicy ClusterFirst (the Node's own
	// DNS when empty), ClusterDomain their search domain (cluster.local when empty).
	ClusterDNS    []string
	ClusterDomain string

	// gate, when set, bounds how many agents of a process start (register, list, adopt) at
	// once.
	gate chan struct{}
}

// agent is one running agent.
type agent struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics
	address  string
	hostname string
	port     int32

	nodes, leases, pods *client.ResourceClient
	recorder            *events.Recorder
	lookup              *lookup

	// Set up by run before the loops start.
	assigned  *informer.Informer
	podLister informer.Lister[*corev1.Pod]
	status    *statusManager
	workers   podWorkers

	// Owned by the Node status loop once registered; nodeMu guards node for other readers.
	nodeMu        sync.Mutex
	node          *corev1.Node
	lastInfo      runtime.NodeInfo
	statusWritten time.Time
	ready         bool
	// Owned by the Lease loop.
	lease *coordinationv1.Lease

	started chan struct{} // closed once the assignment stream is followed
}

// Run runs an agent until ctx ends. It returns an error only for a configuration it cannot
// run with; the apiserver or the runtime being away is retried, not fatal.
func Run(ctx context.Context, cfg Config) error {
	a, err := newAgent(cfg)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

func newAgent(cfg Config) (*agent, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("agent: Client is required")
	case cfg.NodeName == "":
		return nil, errors.New("agent: NodeName is required")
	case cfg.Runtime == nil:
		return nil, errors.New("agent: Runtime is required")
	}
	if errs := validation.IsDNS1123Subdomain(cfg.NodeName); len(errs) > 0 {
		return nil, fmt.Errorf("agent: node name %q: %s", cfg.NodeName, strings.Join(errs, "; "))
	}
	setDefaults(&cfg)
	a := &agent{
		cfg: cfg, log: cfg.Logger.With("node", cfg.NodeName), metrics: newMetrics(cfg.Metrics),
		nodes: cfg.Client.Resource(scheme.Nodes), leases: cfg.Client.Resource(scheme.Leases),
		pods: cfg.Client.Resource(scheme.Pods), lookup: newLookup(cfg.Client),
		started: make(chan struct{}),
	}
	a.recorder = events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), "kubelet", cfg.NodeName, a.log)
	a.port = cfg.Port
	if cfg.Listener != nil {
		if ta, ok := cfg.Listener.Addr().(*net.TCPAddr); ok {
			a.port = int32(ta.Port)
		}
	}
	a.address = cfg.Address
	if a.address == "" {
		a.address = detectAddress(cfg.Listener)
	}
	a.hostname = cfg.Hostname
	if a.hostname == "" {
		a.hostname, _ = os.Hostname()
	}
	return a, nil
}

func setDefaults(cfg *Config) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPods <= 0 {
		cfg.MaxPods = DefaultMaxPods
	}
	if cfg.Version == "" {
		cfg.Version = "berth-dev"
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&cfg.LeaseDuration, DefaultLeaseDuration},
		{&cfg.RenewInterval, DefaultRenewInterval},
		{&cfg.StatusInterval, DefaultStatusInterval},
		{&cfg.StatusReportInterval, DefaultStatusReportInterval},
		{&cfg.RuntimeTimeout, DefaultRuntimeTimeout},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if cfg.StatusWorkers <= 0 {
		cfg.StatusWorkers = 2
	}
}

// run registers the Node, then runs the loops until ctx ends.
func (a *agent) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	goRun := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	defer wg.Wait()
	goRun(a.recorder.Run)
	if sn := a.cfg.ServiceNetwork; sn != nil {
		if err := a.startServiceNetwork(ctx, goRun); err != nil {
			if !sn.Optional {
				return err
			}
			a.log.Warn("running without the service proxy and the cluster DNS server: Services' ClusterIPs and names do not work from this Node's Pods (run as root, or pass --proxy=false to silence this)", "err", err)
			a.cfg.ClusterDNS = slices.DeleteFunc(slices.Clone(a.cfg.ClusterDNS), func(s string) bool { return s == sn.DNS.String() })
		}
	}

	if a.cfg.gate != nil {
		select {
		case a.cfg.gate <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
	}
	err := a.start(ctx, goRun)
	if a.cfg.gate != nil {
		<-a.cfg.gate
	}
	if err != nil || ctx.Err() != nil {
		return err
	}
	goRun(a.workers.Run)
	close(a.started)
	<-ctx.Done()
	return nil
}

// start registers the Node, starts the loops and the logs/exec service, and follows the
// assignment stream once adoption is done. It returns nil when ctx ends first.
func (a *agent) start(ctx context.Context, goRun func(func(context.Context))) error {
	if err := a.registerUntilDone(ctx); err != nil {
		return nil // ctx ended
	}
	a.recorder.Eventf(a.nodeRef(), events.Normal, "Starting", "Starting berth agent.")
	goRun(a.keepLease)
	goRun(a.syncNodeStatus)

	a.assigned = a.newAssignments()
	a.podLister = informer.NewLister[*corev1.Pod](a.assigned)
	a.status = newStatusManager(a.pods, a.podLister, a.metrics, a.log)
	w, err := newPodWorkers(a)
	if err != nil {
		return err
	}
	a.workers = w
	goRun(func(ctx context.Context) { _ = a.assigned.Run(ctx) })
	goRun(func(ctx context.Context) { a.status.run(ctx, a.cfg.StatusWorkers) })
	if a.cfg.Listener != nil {
		goRun(a.serveLogExec)
	}
	// Adoption needs the runtime; retry until it answers.
	for backoff := 200 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		err := a.followAssignments(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		a.log.Warn("start following pod assignments", "err", err, "retryIn", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
	}
	return nil
}

// registerUntilDone registers the Node, retrying with backoff until it succeeds or ctx ends.
func (a *agent) registerUntilDone(ctx context.Context) error {
	for backoff := 200 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		st := a.probe(ctx)
		if st.err != nil {
			a.log.Warn("the runtime does not answer; registering the node as not ready", "err", st.err)
		}
		err := a.register(ctx, st)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Warn("register node", "err", err, "retryIn", backoff)
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
	}
}

// nodeRef is the Node as last stored, for events and the Lease's owner reference.
func (a *agent) nodeRef() *corev1.Node {
	a.nodeMu.Lock()
	defer a.nodeMu.Unlock()
	return a.node
}

func (a *agent) nodeUID() string { return a.nodeRef().GetMetadata().GetUid() }

func (a *agent) setNode(n *corev1.Node) {
	a.nodeMu.Lock()
	defer a.nodeMu.Unlock()
	a.node = n
}

// locate finds a Pod bound to this Node, for the logs/exec service.
func (a *agent) locate(namespace, name string) (*corev1.Pod, runtime.Runtime, bool) {
	select {
	case <-a.started:
	default:
		return nil, nil, false
	}
	p, ok := a.podLister.Get(namespace, name)
	return p, a.cfg.Runtime, ok
}

// serveLogExec serves the Log and Exec RPCs on the Listener until ctx ends.
func (a *agent) serveLogExec(ctx context.Context) {
	srv := NewLogExecServer(logexec.LocatorFunc(a.locate), a.log)
	serveGRPC(ctx, srv, a.cfg.Listener, a.log)
}

// NewLogExecServer returns the gRPC server of the agent's logs/exec service over l: the
// apiserver's relay reaches it with keepalive pings every 30 s, which it allows.
func NewLogExecServer(l logexec.Locator, log *slog.Logger) *grpc.Server {
	g := grpc.NewServer(
		grpc.ChainUnaryInterceptor(apistatus.UnaryServerInterceptor),
		grpc.ChainStreamInterceptor(apistatus.StreamServerInterceptor),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	logexec.New(l, log).Register(g)
	return g
}

// serveGRPC serves g on l until ctx ends, then stops it (streams such as logs -f do not end
// by themselves, so after a grace of a second they are cut).
func serveGRPC(ctx context.Context, g *grpc.Server, l net.Listener, log *slog.Logger) {
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(l) }()
	select {
	case err := <-errc:
		if err != nil {
			log.Error("logs/exec service stopped", "err", err)
		}
		return
	case <-ctx.Done():
	}
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		g.Stop()
	}
	<-errc
}

// detectAddress picks the Node's InternalIP: the listener's own address when it is a
// specific one, else the host's first non-loopback IPv4 address, else 127.0.0.1.
func detectAddress(l net.Listener) string {
	if l != nil {
		if ta, ok := l.Addr().(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
			return ta.IP.String()
		}
	}
	ifaces, err := net.Interfaces()
	if err == nil {
		for _, iface := range ifaces {
			if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
				continue
			}
			addrs, err := iface.Addrs()
			if err != nil {
				continue
			}
			for _, addr := range addrs {
				if ipn, ok := addr.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
					return ipn.IP.String()
				}
			}
		}
	}
	return "127.0.0.1"
}
