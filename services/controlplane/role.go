package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/connectivity"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/ops"
)

// RoleConfig configures a role that runs apart from the apiserver and talks to it over gRPC
// (`berth controller`, later the scheduler, endpoints and gateway roles).
type RoleConfig struct {
	// Name names the role in logs ("controller").
	Name string
	// Server is the apiserver's gRPC address.
	Server string
	// HTTPAddr serves /healthz, /readyz and /metrics.
	HTTPAddr string
	// Profiling serves Go's profiles under /debug/pprof/ on HTTPAddr (Kubernetes' --profiling).
	Profiling bool
	Logger    *slog.Logger
}

// RoleFunc is the body of a role: it runs until ctx ends.
type RoleFunc func(ctx context.Context, c *client.Client, metrics prometheus.Registerer, log *slog.Logger) error

// RunRole connects to the apiserver (the connection reconnects with backoff by itself when the
// apiserver goes away), serves the operational endpoints — ready while the connection is — and
// runs fn until ctx ends.
func RunRole(ctx context.Context, cfg RoleConfig, fn RoleFunc) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c, err := client.Dial(ctx, cfg.Server)
	if err != nil {
		return err
	}
	defer c.Close()
	hl, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http on %s: %w", cfg.HTTPAddr, err)
	}
	o := ops.New(log)
	if cfg.Profiling {
		o.EnableProfiling()
	}
	o.AddCheck("apiserver", func(context.Context) error {
		c.Conn().Connect()
		if s := c.Conn().GetState(); s != connectivity.Ready {
			return fmt.Errorf("connection to %s is %s", cfg.Server, s)
		}
		return nil
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errc <- o.Serve(ctx, hl, nil) }()
	go func() { defer wg.Done(); errc <- fn(ctx, c, o.Registry, log) }()
	log.Info("role started", "role", cfg.Name, "server", cfg.Server, "http", hl.Addr().String())
	var first error
	select {
	case first = <-errc:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	close(errc)
	for err := range errc {
		if first == nil && !errors.Is(err, context.Canceled) {
			first = err
		}
	}
	log.Info("role stopped", "role", cfg.Name)
	return first
}
