package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/leaderelection"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// LeaseName is the Lease, in namespace kube-system, that the endpoints services elect their
// leader through.
const LeaseName = "berth-endpoints"

// Config configures the endpoints service.
type Config struct {
	// Client talks to the apiserver.
	Client *client.Client
	Logger *slog.Logger
	// Metrics registers the controller's metrics; optional.
	Metrics prometheus.Registerer
	// Workers is how many Services are reconciled at once (DefaultWorkers when 0).
	Workers int
	// NoLeaderElection runs at once, without electing a leader: only safe when no other
	// endpoints service runs against the same apiserver.
	NoLeaderElection bool
	// LeaderElection tunes the election (identity, lease duration, renew deadline, retry
	// period); Run sets its client, Lease name, logger, metrics, recorder and callback.
	LeaderElection leaderelection.Config
}

// Run runs the endpoints controller until ctx ends, only while this process leads (the Lease
// kube-system/berth-endpoints) unless cfg.NoLeaderElection. Each term of leadership starts
// the controller afresh, with new informers.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Client == nil {
		return fmt.Errorf("endpoints: a client is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := controller.NewMetrics()
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(unchecked{m}); err != nil {
			return fmt.Errorf("register endpoints metrics: %w", err)
		}
	}
	host, _ := os.Hostname()
	rec := events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), EventComponent, host, log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rec.Run(ctx) }()
	defer wg.Wait()
	opts := Options{Workers: cfg.Workers, Logger: log, Metrics: m, Recorder: rec}
	run := func(ctx context.Context) {
		if err := runTerm(ctx, cfg.Client, opts); err != nil {
			log.Error("endpoints controller stopped", "err", err)
		}
	}
	if cfg.NoLeaderElection {
		run(ctx)
		return nil
	}
	le := cfg.LeaderElection
	le.Client, le.Name, le.Logger, le.Metrics, le.Recorder = cfg.Client, LeaseName, log, cfg.Metrics, rec
	le.OnStartedLeading = run
	return leaderelection.Run(ctx, le)
}

// runTerm runs the controller on informers of its own until ctx ends.
func runTerm(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		return New(c, env.Factory, opts)
	})
}

// unchecked registers controller metrics without descriptors, so that they can share a
// registry with the controller manager's (`berth server` runs both): the two export the
// same metric names with different "controller" labels, which a registry only accepts from
// unchecked collectors.
type unchecked struct{ *controller.Metrics }

// Describe implements prometheus.Collector, describing nothing.
func (unchecked) Describe(chan<- *prometheus.Desc) {}
