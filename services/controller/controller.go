package controller

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	ctrl "github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/leaderelection"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/controller/namespace"
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
}

// Run runs every controller until ctx ends, only while this process leads (the Lease
// kube-system/berth-controller-manager) unless cfg.NoLeaderElection. Each term of leadership
// starts the controllers afresh, with new informers.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	run := func(ctx context.Context) { runControllers(ctx, cfg.Client, log, m, rec) }
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
func runControllers(ctx context.Context, c *client.Client, log *slog.Logger, m *ctrl.Metrics, rec *events.Recorder) {
	f := informer.NewFactory(c, informer.Options{Logger: log})
	ns := namespace.New(c, f, namespace.Options{Logger: log, Metrics: m, Recorder: rec})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	f.Start(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := ns.Run(ctx); err != nil {
			log.Error("namespace controller stopped", "err", err)
		}
	}()
	log.Info("controllers started", "controllers", []string{namespace.Name})
	<-ctx.Done()
	wg.Wait()
	f.Wait()
	log.Info("controllers stopped")
}
