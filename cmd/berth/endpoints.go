package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/services/endpoints"
)

// endpointsHTTPPort is the default port of `berth endpoints`' /healthz, /readyz and /metrics.
const endpointsHTTPPort = 8082

// endpointsCmd is `berth endpoints`: the endpoints service (Services and their ready Pods →
// Endpoints), leading through the Lease kube-system/berth-endpoints.
func endpointsCmd(logger func() (*slog.Logger, error)) *cobra.Command {
	var cfg endpoints.Config
	leaderElect := true
	cmd := roleCmd(logger, "endpoints", "Run the endpoints service (keeps each Service's Endpoints in step with its Pods) against an apiserver", endpointsHTTPPort,
		func(ctx context.Context, c *client.Client, reg prometheus.Registerer, log *slog.Logger) error {
			cfg.Client, cfg.Logger, cfg.Metrics, cfg.NoLeaderElection = c, log, reg, !leaderElect
			return endpoints.Run(ctx, cfg)
		})
	cmd.Flags().IntVar(&cfg.Workers, "concurrent-endpoint-syncs", endpoints.DefaultWorkers, "how many Services are reconciled at once")
	leaderElectionFlags(cmd, &leaderElect, &cfg.LeaderElection)
	return cmd
}
