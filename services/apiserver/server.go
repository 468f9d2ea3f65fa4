package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/apistatus"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/inproc"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
	"github.com/berth-dev/berth/services/apiserver/registry"
	"github.com/berth-dev/berth/services/apiserver/storage"
	"github.com/berth-dev/berth/services/apiserver/strategy"
)

// Config configures the apiserver.
type Config struct {
	// Etcd is the client of the etcd that stores the objects. The caller owns it.
	Etcd *clientv3.Client
	// Listener serves gRPC; the caller creates it (port 0 is fine).
	Listener net.Listener
	// CacheCapacity is the number of events each watch cache keeps (default 8192).
	CacheCapacity int
	// CompactInterval is how often etcd's history is compacted (default 5m; the history of the
	// last interval is kept, as Kubernetes does).
	CompactInterval time.Duration
	Logger          *slog.Logger
	// Metrics registers the apiserver's metrics; optional.
	Metrics prometheus.Registerer
	// ServiceClusterIPRange is where Services' cluster IPs come from (default
	// ipalloc.DefaultRange, 10.96.0.0/16).
	ServiceClusterIPRange ipalloc.Range
	// ServiceNodePortRange is where Services' node ports come from (default
	// portalloc.DefaultRange, 30000-32767).
	ServiceNodePortRange portalloc.Range
	// ServiceRepairInterval is how often the Service IP and node port allocations are checked
	// against the Services (default 3m, as Kubernetes' repair controllers); a pass also runs at
	// start, before the apiserver is ready.
	ServiceRepairInterval time.Duration
}

// Server is a running apiserver.
type Server struct {
	cfg     Config
	storage *storage.Storage
	grpc    *grpc.Server
	local   *inproc.Server
	health  *health.Server
	runners []func(context.Context)
	ready   []<-chan struct{}

	namespaces  *registry.Store[*corev1.Namespace]
	nsAdmission *strategy.Namespaces
	services    *registry.Store[*corev1.Service]
	serviceIPs  *ipalloc.Allocator
	nodePorts   *portalloc.Allocator
	readyOnce   sync.Once
	readyCh     chan struct{}
}

// New builds the apiserver: stores, strategies and gRPC services.
func New(cfg Config) (*Server, error) {
	if cfg.Etcd == nil || cfg.Listener == nil {
		return nil, errors.New("apiserver: Etcd and Listener are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CompactInterval == 0 {
		cfg.CompactInterval = 5 * time.Minute
	}
	if cfg.ServiceClusterIPRange.IsZero() {
		cfg.ServiceClusterIPRange = ipalloc.MustParseRange(ipalloc.DefaultRange)
	}
	if cfg.ServiceNodePortRange.IsZero() {
		cfg.ServiceNodePortRange = portalloc.MustParseRange(portalloc.DefaultRange)
	}
	if cfg.ServiceRepairInterval == 0 {
		cfg.ServiceRepairInterval = 3 * time.Minute
	}
	s := &Server{cfg: cfg, storage: storage.New(cfg.Etcd), health: health.NewServer(), readyCh: make(chan struct{})}
	s.nsAdmission = &strategy.Namespaces{Lookup: s.lookupNamespace}
	m := newMetrics(cfg.Metrics)
	s.grpc = grpc.NewServer(
		grpc.ChainUnaryInterceptor(m.unary, apistatus.UnaryServerInterceptor),
		grpc.ChainStreamInterceptor(m.stream, apistatus.StreamServerInterceptor),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.MaxRecvMsgSize(4<<20),
		grpc.ForceServerCodecV2(newCodec()),
	)
	// The same services, with the same interceptors, for in-process clients (DialInProcess).
	s.local = inproc.NewServer(inproc.Options{
		Unary:  []grpc.UnaryServerInterceptor{m.unary, apistatus.UnaryServerInterceptor},
		Stream: []grpc.StreamServerInterceptor{m.stream, apistatus.StreamServerInterceptor},
	})
	reg := inproc.Tee(s.grpc, s.local)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)

	s.namespaces = newStore[*corev1.Namespace](s, scheme.Namespaces)
	corev1.RegisterNamespaceServiceServer(reg, newResourceServer[*corev1.Namespace, *corev1.NamespaceList, corev1.NamespaceWatchEvent](s.namespaces))
	nodes := newStore[*corev1.Node](s, scheme.Nodes)
	corev1.RegisterNodeServiceServer(reg, newResourceServer[*corev1.Node, *corev1.NodeList, corev1.NodeWatchEvent](nodes))
	pods := newStore[*corev1.Pod](s, scheme.Pods)
	proxy := newAgentProxy(pods, nodes)
	s.runners = append(s.runners, proxy.run)
	corev1.RegisterPodServiceServer(reg, podServer{newResourceServer[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent](pods), proxy})
	s.serviceIPs = ipalloc.New(s.storage, cfg.ServiceClusterIPRange)
	s.nodePorts = portalloc.New(s.storage, cfg.ServiceNodePortRange)
	s.services = newStoreWith[*corev1.Service](s, scheme.Services,
		strategy.Service(s.nsAdmission, s.serviceIPs, s.nodePorts, cfg.Logger.With("resource", "services")))
	s.runners = append(s.runners, s.repairServicesPeriodically)
	corev1.RegisterServiceServiceServer(reg, newResourceServer[*corev1.Service, *corev1.ServiceList, corev1.ServiceWatchEvent](s.services))
	corev1.RegisterEndpointsServiceServer(reg, newResourceServer[*corev1.Endpoints, *corev1.EndpointsList, corev1.EndpointsWatchEvent](newStore[*corev1.Endpoints](s, scheme.Endpoints)))
	corev1.RegisterConfigMapServiceServer(reg, newResourceServer[*corev1.ConfigMap, *corev1.ConfigMapList, corev1.ConfigMapWatchEvent](newStore[*corev1.ConfigMap](s, scheme.ConfigMaps)))
	corev1.RegisterSecretServiceServer(reg, newResourceServer[*corev1.Secret, *corev1.SecretList, corev1.SecretWatchEvent](newStore[*corev1.Secret](s, scheme.Secrets)))
	corev1.RegisterEventServiceServer(reg, newResourceServer[*corev1.Event, *corev1.EventList, corev1.EventWatchEvent](newStore[*corev1.Event](s, scheme.Events)))
	coordinationv1.RegisterLeaseServiceServer(reg, newResourceServer[*coordinationv1.Lease, *coordinationv1.LeaseList, coordinationv1.LeaseWatchEvent](newStore[*coordinationv1.Lease](s, scheme.Leases)))
	rcs := newStore[*corev1.ReplicationController](s, scheme.ReplicationControllers)
	corev1.RegisterReplicationControllerServiceServer(reg, struct {
		resourceServer[*corev1.ReplicationController, *corev1.ReplicationControllerList, corev1.ReplicationControllerWatchEvent]
		scaleServer[*corev1.ReplicationController]
	}{newResourceServer[*corev1.ReplicationController, *corev1.ReplicationControllerList, corev1.ReplicationControllerWatchEvent](rcs), scaleServer[*corev1.ReplicationController]{rcs}})
	rss := newStore[*appsv1.ReplicaSet](s, scheme.ReplicaSets)
	appsv1.RegisterReplicaSetServiceServer(reg, struct {
		resourceServer[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent]
		scaleServer[*appsv1.ReplicaSet]
	}{newResourceServer[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent](rss), scaleServer[*appsv1.ReplicaSet]{rss}})
	deps := newStore[*appsv1.Deployment](s, scheme.Deployments)
	appsv1.RegisterDeploymentServiceServer(reg, struct {
		resourceServer[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent]
		scaleServer[*appsv1.Deployment]
	}{newResourceServer[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent](deps), scaleServer[*appsv1.Deployment]{deps}})
	return s, nil
}

// newStore builds the store of one resource and registers its watch cache to run.
func newStore[T scheme.Object](s *Server, res *scheme.Resource) *registry.Store[T] {
	return newStoreWith[T](s, res, strategy.For(res, s.nsAdmission))
}

// newStoreWith is newStore with a strategy of the caller's.
func newStoreWith[T scheme.Object](s *Server, res *scheme.Resource, strat registry.Strategy) *registry.Store[T] {
	st := registry.New[T](res, registry.Options{
		Storage:       s.storage,
		Strategy:      strat,
		CacheCapacity: s.cfg.CacheCapacity,
		// Events are the most numerous objects and the least read: Kubernetes keeps them out
		// of its watch cache; here the cache keeps them as stored, decoded for each read.
		CacheStoredOnly: res == scheme.Events,
		Logger:          s.cfg.Logger,
	})
	s.runners = append(s.runners, st.Run)
	s.ready = append(s.ready, st.Ready())
	return st
}

// lookupNamespace reads a Namespace from the cache, falling back to etcd for one created an
// instant ago.
func (s *Server) lookupNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns, err := s.namespaces.Get(ctx, "", name, "0")
	if kerrors.IsNotFound(err) {
		return s.namespaces.Get(ctx, "", name, "")
	}
	return ns, err
}

// DialInProcess returns a client of this apiserver for a caller in the same process: its
// unary and server-streaming calls (everything but Exec) go straight to the services, through
// the same interceptors, without a network hop or serialization (package pkg/inproc); the
// others go to Addr. Its callers must not reuse a request after a call, nor change what they
// receive: the objects of lists and watch events are the watch cache's own. The REST gateway
// of `berth server` uses it.
func (s *Server) DialInProcess(ctx context.Context) (*client.Client, error) {
	return client.Dial(ctx, s.Addr(), client.WithDialOptions(s.local.DialOptions()...))
}

// Addr is the gRPC address the server listens on.
func (s *Server) Addr() string { return s.cfg.Listener.Addr().String() }

// Ready is closed once every watch cache is filled, the Service allocations are repaired and
// the built-in Namespaces exist.
func (s *Server) Ready() <-chan struct{} { return s.readyCh }

// Run serves until ctx ends, then stops gracefully.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, run := range s.runners {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.becomeReady(ctx) }()
	go func() { defer wg.Done(); s.compact(ctx) }()

	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(s.cfg.Listener) }()
	s.cfg.Logger.Info("apiserver serving", "grpc", s.Addr())
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serve grpc: %w", err)
	case <-ctx.Done():
	}
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		s.grpc.Stop() // watches do not end by themselves
	}
	cancel()
	wg.Wait()
	return err
}

func (s *Server) becomeReady(ctx context.Context) {
	for _, r := range s.ready {
		select {
		case <-r:
		case <-ctx.Done():
			return
		}
	}
	for backoff := 100 * time.Millisecond; ; backoff = min(backoff*2, 5*time.Second) {
		err := s.repairServices(ctx)
		if err == nil {
			err = s.ensureNamespaces(ctx)
		}
		if err == nil {
			break
		}
		s.cfg.Logger.Warn("prepare to serve", "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.readyOnce.Do(func() { close(s.readyCh) })
}

// BuiltinNamespaces exist from the start, as in Kubernetes.
var BuiltinNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

func (s *Server) ensureNamespaces(ctx context.Context) error {
	for _, name := range BuiltinNamespaces {
		_, err := s.namespaces.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}})
		if err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
	}
	return nil
}

// compact compacts etcd every interval to the revision seen one interval earlier, so watches
// can resume from anything younger than one interval.
func (s *Server) compact(ctx context.Context) {
	t := time.NewTicker(s.cfg.CompactInterval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if last > 0 {
			if err := s.storage.Compact(ctx, last); err != nil {
				s.cfg.Logger.Warn("compact etcd", "rev", last, "err", err)
			}
		}
		rev, err := s.storage.Revision(ctx)
		if err != nil {
			s.cfg.Logger.Warn("read etcd revision", "err", err)
			continue
		}
		last = rev
	}
}
