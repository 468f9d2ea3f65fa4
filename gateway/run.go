package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/ops"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Config configures Run.
type Config struct {
	// Server is the apiserver's gRPC address.
	Server string
	// HTTPAddr is where the gateway serves, with /healthz, /readyz and /metrics.
	HTTPAddr string
	// Version is Berth's version, for /version.
	Version string
	// Profiling serves Go's profiles under /debug/pprof/ on HTTPAddr (Kubernetes' --profiling).
	Profiling bool
	Logger    *slog.Logger
	// Started, if set, is called once the gateway serves, with its bound address.
	Started func(httpAddr string)
}

// Run serves the gateway, and the operational endpoints, until ctx ends. /readyz passes
// while the apiserver answers.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Server == "" {
		return errors.New("the apiserver's address (--server) is required")
	}
	c, err := client.Dial(ctx, cfg.Server)
	if err != nil {
		return err
	}
	defer c.Close()
	g, err := New(c, Options{Logger: log, Version: cfg.Version})
	if err != nil {
		return err
	}
	o := ops.New(log)
	if cfg.Profiling {
		o.EnableProfiling()
	}
	o.Mux.Handle("/", g)
	o.AddCheck("apiserver", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, _, err := c.Resource(scheme.Namespaces).List(ctx, &metav1.ListOptions{Limit: 1})
		return err
	})
	l, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("gateway serving", "http", l.Addr().String(), "apiserver", cfg.Server)
	if cfg.Started != nil {
		cfg.Started(l.Addr().String())
	}
	return o.Serve(ctx, l, nil)
}
