package controller

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	ctrl "github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/controller/namespace"
)

// Config configures the controller manager.
type Config struct {
	// Client talks to the apiserver.
	Client *client.Client
	Logger *slog.Logger
	// Metrics registers the controllers' metrics; optional.
	Metrics prometheus.Registerer
}

// Run runs every controller until ctx ends.
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
	f := informer.NewFactory(cfg.Client, informer.Options{Logger: log})
	ns := namespace.New(cfg.Client, f, namespace.Options{Logger: log.With("controller", namespace.Name), Metrics: m, Recorder: rec})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{}, 2)
	go func() { rec.Run(ctx); done <- struct{}{} }()
	f.Start(ctx)
	go func() {
		if err := ns.Run(ctx); err != nil {
			log.Error("namespace controller stopped", "err", err)
		}
		done <- struct{}{}
	}()
	log.Info("controllers started", "controllers", []string{namespace.Name})
	<-ctx.Done()
	<-done
	<-done
	f.Wait()
	return nil
}
