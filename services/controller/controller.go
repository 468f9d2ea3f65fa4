package controller

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	ctrl "github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/controller/deployment"
	"github.com/berth-dev/berth/services/controller/garbagecollector"
	"github.com/berth-dev/berth/services/controller/namespace"
	"github.com/berth-dev/berth/services/controller/nodelifecycle"
	"github.com/berth-dev/berth/services/controller/replicaset"
)

// LeaseName is the Lease, in namespace kube-system, that the controller managers elect their
// leader through.
const LeaseName = "berth-controller-manager"

// Config configures the controller manager.
type Config struct {
	// Client talks to the apiserver.
	Client *client.Client
	Logger *slog.Logger
	// Metrics registers the controllers' metrics; optional.
	Metrics prometheus.Registerer
	// NoLeaderElection runs the controllers at once, without electing a leader: only safe when
	// no other controller manager runs against the same apiserver.
	NoLeaderElection bool
	// LeaderElection tunes the election (identity, lease duration, renew deadline, retry
	// period); Run sets its client, Lease name, logger, metrics, recorder and callbacks.
	LeaderElection leaderelection.Config
	// NodeMonitorGracePeriod is how long a Node's Lease may go unrenewed before the Node is
	// marked NotReady (Ready=Unknown); the Node lifecycle controller's default when 0.
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout is how long a Node stays NotReady before its Pods are evicted; the
	// Node lifecycle controller's default when 0.
	PodEvictionTimeout time.Duration
}

// Deps are what every controller of the manager is built from: one shared informer factory,
// one client, one metrics set, and an Event recorder per controller.
type Deps struct {
	Client  *client.Client
	Factory *informer.Factory
	Logger  *slog.Logger
	Metrics *ctrl.Metrics
	// Recorder returns a running Event recorder whose Events name component as their source
	// (Kubernetes' "deployment-controller", "replicaset-controller", ...).
	Recorder func(component string) *events.Recorder
	// Config is the manager's configuration (flags of single controllers live there).
	Config Config
}

// Runner is a controller built on Deps: the framework's controller.Runner.
type Runner = ctrl.Runner

// registration is one controller of the manager.
type registration struct {
	name  string
	build func(d Deps) Runner
}

// controllers lists every controller the manager runs, in start order.
var controllers = []registration{
	{namespace.Name, func(d Deps) Runner {
		return namespace.New(d.Client, d.Factory, namespace.Options{Logger: d.Logger, Metrics: d.Metrics, Recorder: d.Recorder(namespace.Name)})
	}},
	{nodelifecycle.Name, func(d Deps) Runner {
		return nodelifecycle.New(d.Client, d.Factory, nodelifecycle.Options{
			NodeMonitorGracePeriod: d.Config.NodeMonitorGracePeriod, PodEvictionTimeout: d.Config.PodEvictionTimeout,
			Logger: d.Logger, Metrics: d.Metrics,
			Recorder: d.Recorder(nodelifecycle.Name), EvictionRecorder: d.Recorder(nodelifecycle.EvictionComponent),
		})
	}},
	{replicaset.ReplicaSetName, func(d Deps) Runner {
		return replicaset.New(d.Client, d.Factory, replicaset.Options{
			Resource: scheme.ReplicaSets, Logger: d.Logger, Metrics: d.Metrics, Recorder: d.Recorder(replicaset.ReplicaSetComponent),
		})
	}},
	{replicaset.ReplicationControllerName, func(d Deps) Runner {
		return replicaset.New(d.Client, d.Factory, replicaset.Options{
			Resource: scheme.ReplicationControllers, Logger: d.Logger, Metrics: d.Metrics, Recorder: d.Recorder(replicaset.ReplicationControllerComponent),
		})
	}},
	{deployment.Name, func(d Deps) Runner {
		return deployment.New(d.Client, d.Factory, deployment.Options{Logger: d.Logger, Metrics: d.Metrics, Recorder: d.Recorder(deployment.Name)})
	}},
	{garbagecollector.Name, func(d Deps) Runner {
		// Like Kubernetes' garbage collector it records no Events.
		return garbagecollector.New(d.Client, d.Factory, garbagecollector.Options{Logger: d.Logger, Metrics: d.Metrics})
	}},
}

// Run runs every controller until ctx ends, only while this process leads (the Lease
// kube-system/berth-controller-manager) unless cfg.NoLeaderElection. Each term of leadership
// starts the controllers afresh, with new informers.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = log
	m := ctrl.NewMetrics()
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(m); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	rec := events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), "controller-manager", host, log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rec.Run(ctx) }()
	defer wg.Wait()
	run := func(ctx context.Context) { runControllers(ctx, cfg, m, host) }
	if cfg.NoLeaderElection {
		run(ctx)
		return nil
	}
	le := cfg.LeaderElection
	le.Client, le.Name, le.Logger, le.Metrics, le.Recorder = cfg.Client, LeaseName, log, cfg.Metrics, rec
	le.OnStartedLeading = run
	return leaderelection.Run(ctx, le)
}

// runControllers runs every controller, on informers of their own, until ctx ends.
func runControllers(ctx context.Context, cfg Config, m *ctrl.Metrics, host string) {
	log := cfg.Logger
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	f := informer.NewFactory(cfg.Client, informer.Options{Logger: log})
	d := Deps{
		Client: cfg.Client, Factory: f, Logger: log, Metrics: m, Config: cfg,
		Recorder: func(component string) *events.Recorder {
			r := events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), component, host, log)
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(ctx) }()
			return r
		},
	}
	names := make([]string, 0, len(controllers))
	runners := make([]Runner, 0, len(controllers))
	for _, reg := range controllers {
		names = append(names, reg.name)
		runners = append(runners, reg.build(d))
	}
	f.Start(ctx)
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				log.Error("controller stopped", "controller", names[i], "err", err)
			}
		}()
	}
	log.Info("controllers started", "controllers", names)
	<-ctx.Done()
	f.Wait()
	log.Info("controllers stopped")
}
