package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/gateway"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/ops"
	"github.com/berth-dev/berth/services/apiserver"
	"github.com/berth-dev/berth/services/apiserver/etcdserver"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
	"github.com/berth-dev/berth/services/controller"
	"github.com/berth-dev/berth/services/endpoints"
	"github.com/berth-dev/berth/services/scheduler"
)

// Config configures the control plane process.
type Config struct {
	// DataDir holds the embedded etcd's data; unused with EtcdEndpoints.
	DataDir string
	// EtcdEndpoints selects an external etcd cluster instead of the embedded one.
	EtcdEndpoints []string
	// EtcdClientAddr is where the embedded etcd serves clients (host:port; port 0 picks one).
	EtcdClientAddr string
	// GRPCAddr is the apiserver's gRPC address.
	GRPCAddr string
	// HTTPAddr serves the REST gateway, /healthz, /readyz and /metrics.
	HTTPAddr string
	// Profiling serves Go's profiles under /debug/pprof/ on HTTPAddr (Kubernetes' --profiling).
	Profiling bool
	Logger    *slog.Logger
	// Controllers runs the controller manager in this process too (`berth server`).
	Controllers bool
	// Started, if set, is called once everything serves, with the bound addresses.
	Started func(grpcAddr, httpAddr string)
	// Agent, if set, runs a node agent in this process once the apiserver is ready
	// (`berth server --agent`), on its own connection to it.
	Agent RoleFunc
	// NodeMonitorGracePeriod and PodEvictionTimeout configure the Node lifecycle controller
	// of the in-process controller manager (see controller.Config); its defaults when 0.
	NodeMonitorGracePeriod, PodEvictionTimeout time.Duration
	// ServiceClusterIPRange and ServiceNodePortRange are where Services' cluster IPs and node
	// ports come from (the apiserver's defaults when zero).
	ServiceClusterIPRange ipalloc.Range
	ServiceNodePortRange  portalloc.Range
}

// Run runs the control plane until ctx ends, then shuts down cleanly: servers stop accepting,
// in-flight calls finish, and etcd flushes before Run returns.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	etcd, closeEtcd, err := connectEtcd(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeEtcd()

	gl, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen grpc on %s: %w", cfg.GRPCAddr, err)
	}
	hl, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		gl.Close()
		return fmt.Errorf("listen http on %s: %w", cfg.HTTPAddr, err)
	}
	o := ops.New(log)
	if cfg.Profiling {
		o.EnableProfiling()
	}
	api, err := apiserver.New(apiserver.Config{Etcd: etcd, Listener: gl, Logger: log.With("role", "apiserver"), Metrics: o.Registry,
		ServiceClusterIPRange: cfg.ServiceClusterIPRange, ServiceNodePortRange: cfg.ServiceNodePortRange})
	if err != nil {
		gl.Close()
		hl.Close()
		return err
	}
	o.AddCheck("apiserver", func(context.Context) error {
		select {
		case <-api.Ready():
			return nil
		default:
			return errors.New("watch caches not filled yet")
		}
	})
	// The REST gateway, on the same HTTP server, in front of this apiserver's gRPC API, which
	// it calls in process: no TCP hop, no protobuf encoding between them.
	gc, err := api.DialInProcess(ctx)
	if err != nil {
		gl.Close()
		hl.Close()
		return err
	}
	defer gc.Close()
	gw, err := gateway.New(gc, gateway.Options{Logger: log.With("role", "gateway")})
	if err != nil {
		gl.Close()
		hl.Close()
		return err
	}
	o.Mux.Handle("/", gw)
	o.AddCheck("etcd", func(ctx context.Context) error {
		_, err := etcd.Get(ctx, "/registry/\x00health", clientv3.WithCountOnly())
		return err
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 6) // one per run below
	run := func(f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- f() }()
	}
	run(func() error { return api.Run(ctx) })
	run(func() error { return o.Serve(ctx, hl, nil) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-api.Ready():
		case <-ctx.Done():
			return
		}
		log.Info("control plane ready", "grpc", gl.Addr().String(), "http", hl.Addr().String())
		if cfg.Started != nil {
			cfg.Started(gl.Addr().String(), hl.Addr().String())
		}
		if cfg.Controllers {
			run(func() error { return runInProcess(ctx, cfg, gl.Addr().String(), o, log) })
			run(func() error { return runScheduler(ctx, gl.Addr().String(), o, log) })
			run(func() error { return runEndpoints(ctx, gl.Addr().String(), o, log) })
		}
		if cfg.Agent != nil {
			run(func() error { return runAgent(ctx, gl.Addr().String(), o, log, cfg.Agent) })
		}
	}()
	var first error
	select {
	case first = <-errc:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	close(errc)
	for err := range errc {
		if first == nil {
			first = err
		}
	}
	log.Info("control plane stopped")
	return first
}

// runInProcess runs the roles that talk to the apiserver over gRPC, here in the same process.
func runInProcess(ctx context.Context, cfg Config, grpcAddr string, o *ops.Server, log *slog.Logger) error {
	c, err := client.Dial(ctx, grpcAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	cc := controller.Config{Client: c, Logger: log.With("role", "controller"), Metrics: o.Registry}
	cc.NodeMonitorGracePeriod, cc.PodEvictionTimeout = cfg.NodeMonitorGracePeriod, cfg.PodEvictionTimeout
	cc.LeaderElection.Identity = inProcessIdentity(grpcAddr)
	return controller.Run(ctx, cc)
}

// runScheduler runs the scheduler in this process, on its own connection to the apiserver,
// leading through the Lease kube-system/kube-scheduler with an identity that is stable across
// restarts on the same address (so a restarted server takes the Lease back at once).
func runScheduler(ctx context.Context, grpcAddr string, o *ops.Server, log *slog.Logger) error {
	c, err := client.Dial(ctx, grpcAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	sc := scheduler.Config{Client: c, Logger: log.With("role", "scheduler"), Metrics: o.Registry}
	host, _ := os.Hostname()
	sc.LeaderElection.Identity = host + "_berth-server-scheduler_" + grpcAddr
	return scheduler.Run(ctx, sc)
}

// runEndpoints runs the endpoints service in this process, on its own connection to the
// apiserver, leading through the Lease kube-system/berth-endpoints with an identity that is
// stable across restarts on the same address.
func runEndpoints(ctx context.Context, grpcAddr string, o *ops.Server, log *slog.Logger) error {
	c, err := client.Dial(ctx, grpcAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	ec := endpoints.Config{Client: c, Logger: log.With("role", "endpoints"), Metrics: o.Registry}
	host, _ := os.Hostname()
	ec.LeaderElection.Identity = host + "_berth-server-endpoints_" + grpcAddr
	return endpoints.Run(ctx, ec)
}

// runAgent runs the node agent in this process, on its own connection to the apiserver.
func runAgent(ctx context.Context, grpcAddr string, o *ops.Server, log *slog.Logger, fn RoleFunc) error {
	c, err := client.Dial(ctx, grpcAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c, o.Registry, log.With("role", "agent"))
}

// inProcessIdentity is the leader-election identity of the roles `berth server` runs itself:
// stable across restarts on the same address, so a restarted server takes its Leases back at
// once instead of waiting for them to expire.
func inProcessIdentity(grpcAddr string) string {
	host, _ := os.Hostname()
	return host + "_berth-server_" + grpcAddr
}

func connectEtcd(ctx context.Context, cfg Config, log *slog.Logger) (*clientv3.Client, func(), error) {
	if len(cfg.EtcdEndpoints) > 0 {
		c, err := etcdserver.Dial(ctx, cfg.EtcdEndpoints)
		if err != nil {
			return nil, nil, err
		}
		log.Info("using external etcd", "endpoints", cfg.EtcdEndpoints)
		return c, func() { _ = c.Close() }, nil
	}
	if cfg.DataDir == "" {
		return nil, nil, errors.New("--data-dir is required for the embedded etcd")
	}
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: cfg.DataDir, ClientAddr: cfg.EtcdClientAddr, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	log.Info("embedded etcd started", "dir", cfg.DataDir, "clientURL", e.ClientURL)
	return e.Client, e.Close, nil
}
