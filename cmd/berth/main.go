// Command berth runs Berth's server roles: `berth server` is the whole control plane in one
// process with embedded etcd; `berth apiserver` runs the apiserver alone. main only parses
// flags and calls into the services.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/gateway"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
	"github.com/berth-dev/berth/services/controller"
	"github.com/berth-dev/berth/services/controller/nodelifecycle"
	"github.com/berth-dev/berth/services/controlplane"
	"github.com/berth-dev/berth/services/scheduler"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var logLevel, logFormat string
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Berth runs a Kubernetes-shaped control plane and node agent",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	logger := func() (*slog.Logger, error) { return newLogger(logLevel, logFormat) }
	root.AddCommand(serverCmd(logger, "server", "Run the whole control plane in one process (embedded etcd by default)"))
	root.AddCommand(serverCmd(logger, "apiserver", "Run the apiserver (embedded etcd in --data-dir, or --etcd-endpoints)"))
	root.AddCommand(controllerCmd(logger))
	root.AddCommand(schedulerCmd(logger))
	root.AddCommand(endpointsCmd(logger))
	root.AddCommand(gatewayCmd(logger))
	root.AddCommand(agentCmd(logger))
	return root
}

// controllerCmd is `berth controller`: the controller manager, leading through a Lease.
func controllerCmd(logger func() (*slog.Logger, error)) *cobra.Command {
	var cfg controller.Config
	leaderElect := true
	cmd := roleCmd(logger, "controller", "Run the controllers against an apiserver", 8081,
		func(ctx context.Context, c *client.Client, reg prometheus.Registerer, log *slog.Logger) error {
			cfg.Client, cfg.Logger, cfg.Metrics, cfg.NoLeaderElection = c, log, reg, !leaderElect
			return runController(ctx, cfg)
		})
	leaderElectionFlags(cmd, &leaderElect, &cfg.LeaderElection)
	nodeLifecycleFlags(cmd.Flags(), &cfg.NodeMonitorGracePeriod, &cfg.PodEvictionTimeout)
	return cmd
}

// runController and runControlPlane run what the commands configured (tests replace them).
var (
	runController   = controller.Run
	runControlPlane = controlplane.Run
)

// nodeLifecycleFlags are the Node lifecycle controller's flags, Kubernetes' names and defaults.
func nodeLifecycleFlags(f *pflag.FlagSet, grace, eviction *time.Duration) {
	f.DurationVar(grace, "node-monitor-grace-period", nodelifecycle.DefaultNodeMonitorGracePeriod, "how long a Node may send no heartbeat (Lease renewal or status) before it is marked Unknown and tainted unreachable")
	f.DurationVar(eviction, "pod-eviction-timeout", nodelifecycle.DefaultPodEvictionTimeout, "how long Pods stay on a not-ready or unreachable Node before they are evicted, unless they tolerate its taint for a time of their own")
}

// schedulerCmd is `berth scheduler`: the scheduler, leading through a Lease among the
// schedulers of the same name.
func schedulerCmd(logger func() (*slog.Logger, error)) *cobra.Command {
	var cfg scheduler.Config
	leaderElect := true
	cmd := roleCmd(logger, "scheduler", "Run the scheduler (places Pods on Nodes) against an apiserver", 10259,
		func(ctx context.Context, c *client.Client, reg prometheus.Registerer, log *slog.Logger) error {
			cfg.Client, cfg.Logger, cfg.Metrics, cfg.NoLeaderElection = c, log, reg, !leaderElect
			return scheduler.Run(ctx, cfg)
		})
	// A malformed configuration is refused before anything starts.
	cmd.PreRunE = func(*cobra.Command, []string) error {
		_, err := scheduler.LoadConfig(cfg.ConfigFile)
		return err
	}
	f := cmd.Flags()
	f.StringVar(&cfg.SchedulerName, "scheduler-name", scheduler.DefaultSchedulerName, "place the Pods whose spec.schedulerName is this")
	f.StringVar(&cfg.ConfigFile, "config", "", "scheduler configuration file (YAML: which plugins run, their order and weights); the built-in default when empty")
	leaderElectionFlags(cmd, &leaderElect, &cfg.LeaderElection)
	return cmd
}

// leaderElectionFlags are Kubernetes' --leader-elect flags.
func leaderElectionFlags(cmd *cobra.Command, elect *bool, le *leaderelection.Config) {
	f := cmd.Flags()
	f.BoolVar(elect, "leader-elect", *elect, "run only while leading, elected through a Lease in kube-system, so that several replicas can run")
	f.DurationVar(&le.LeaseDuration, "leader-elect-lease-duration", leaderelection.DefaultLeaseDuration, "how long followers wait after the leader's last renewal before they take over (whole seconds)")
	f.DurationVar(&le.RenewDeadline, "leader-elect-renew-deadline", leaderelection.DefaultRenewDeadline, "how long the leader retries renewing before it steps down; shorter than the lease duration")
	f.DurationVar(&le.RetryPeriod, "leader-elect-retry-period", leaderelection.DefaultRetryPeriod, "how often the leader renews and candidates retry")
}

// gatewayCmd is `berth gateway`: the REST gateway in front of an apiserver.
func gatewayCmd(logger func() (*slog.Logger, error)) *cobra.Command {
	cfg := gateway.Config{Version: version}
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the REST gateway (Kubernetes' HTTP API) in front of an apiserver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger()
			if err != nil {
				return err
			}
			cfg.Logger = log.With("process", "gateway")
			return gateway.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", envOr("BERTH_SERVER", "127.0.0.1:6443"), "the apiserver's gRPC address (or $BERTH_SERVER)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the REST API, /healthz, /readyz and /metrics")
	profilingFlag(f, &cfg.Profiling)
	return cmd
}

func serverCmd(logger func() (*slog.Logger, error), use, short string) *cobra.Command {
	var cfg controlplane.Config
	var endpoints, serviceIPRange, nodePortRange string
	var agentOpts agentOptions
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger()
			if err != nil {
				return err
			}
			if endpoints != "" {
				cfg.EtcdEndpoints = strings.Split(endpoints, ",")
			}
			if cfg.ServiceClusterIPRange, err = ipalloc.ParseRange(serviceIPRange); err != nil {
				return fmt.Errorf("--service-cluster-ip-range: %w", err)
			}
			if cfg.ServiceNodePortRange, err = portalloc.ParseRange(nodePortRange); err != nil {
				return fmt.Errorf("--service-node-port-range: %w", err)
			}
			cfg.Logger = log.With("process", use)
			cfg.Controllers = use == "server"
			if agentOpts.enabled {
				agentOpts.serviceRange = serviceIPRange // the proxy owns the apiserver's range
				if err := agentOpts.check(); err != nil {
					return err
				}
				if agentOpts.rootDir == "" {
					agentOpts.rootDir = filepath.Join(cfg.DataDir, "agent")
				}
				cfg.Agent = agentOpts.run
			}
			return runControlPlane(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "./berth-data", "directory of the embedded etcd's data")
	f.StringVar(&endpoints, "etcd-endpoints", "", "comma-separated client URLs of an external etcd cluster (instead of the embedded one)")
	f.StringVar(&cfg.EtcdClientAddr, "etcd-client-addr", "127.0.0.1:0", "host:port the embedded etcd serves clients on")
	f.StringVar(&cfg.GRPCAddr, "grpc-addr", "127.0.0.1:6443", "address of the apiserver's gRPC API")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the REST API (Kubernetes' paths), /healthz, /readyz and /metrics")
	f.StringVar(&serviceIPRange, "service-cluster-ip-range", ipalloc.DefaultRange, "IPv4 CIDR Services' cluster IPs are allocated from (/12 to /28); its first address (.1) and tenth (.10, the cluster DNS server's) are reserved")
	f.StringVar(&nodePortRange, "service-node-port-range", portalloc.DefaultRange, "port range Services' node ports are allocated from (e.g. '30000-32767')")
	profilingFlag(f, &cfg.Profiling)
	if use == "server" {
		agentOpts.addFlags(f, true)
		nodeLifecycleFlags(f, &cfg.NodeMonitorGracePeriod, &cfg.PodEvictionTimeout)
	}
	return cmd
}

// roleCmd is a role that talks to the apiserver over gRPC.
func roleCmd(logger func() (*slog.Logger, error), use, short string, httpPort int, fn controlplane.RoleFunc) *cobra.Command {
	cfg := controlplane.RoleConfig{Name: use}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger()
			if err != nil {
				return err
			}
			cfg.Logger = log.With("process", use)
			return controlplane.RunRole(cmd.Context(), cfg, fn)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", envOr("BERTH_SERVER", "127.0.0.1:6443"), "the apiserver's gRPC address (or $BERTH_SERVER)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort), "address of /healthz, /readyz and /metrics")
	profilingFlag(f, &cfg.Profiling)
	return cmd
}

// profilingFlag is Kubernetes' --profiling, on by default as there: Go's profiles under
// /debug/pprof/ on the role's HTTP address, which is as open as the rest of that address.
func profilingFlag(f *pflag.FlagSet, enabled *bool) {
	f.BoolVar(enabled, "profiling", true, "enable profiling via web interface host:port/debug/pprof/ on --http-addr")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", format)
}
