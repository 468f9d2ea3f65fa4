package etcdserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
)

// Embedded is a running single-member etcd inside this process.
type Embedded struct {
	etcd *embed.Etcd
	// Client talks to the embedded member in-process, without a network hop.
	Client *clientv3.Client
	// ClientURL is where etcdctl and other processes can reach it.
	ClientURL string
}

// Config configures the embedded etcd.
type Config struct {
	// DataDir holds etcd's data ("member/" inside it).
	DataDir string
	// ClientAddr is the host:port etcd serves clients on (port 0 picks one).
	ClientAddr string
	// PeerAddr is the host:port of the (unused, single-member) peer listener (port 0 picks one).
	PeerAddr string
	Logger   *slog.Logger
}

// Start starts etcd and waits until it serves.
func Start(ctx context.Context, cfg Config) (*Embedded, error) {
	if cfg.ClientAddr == "" {
		cfg.ClientAddr = "127.0.0.1:0"
	}
	if cfg.PeerAddr == "" {
		cfg.PeerAddr = "127.0.0.1:0"
	}
	ec := embed.NewConfig()
	ec.Name = "berth"
	ec.Dir = filepath.Join(cfg.DataDir, "etcd")
	cu := url.URL{Scheme: "http", Host: cfg.ClientAddr}
	pu := url.URL{Scheme: "http", Host: cfg.PeerAddr}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	// Kubernetes' own limits: 1.5 MiB requests, 8 GiB backend.
	ec.MaxRequestBytes = 3 * 1024 * 1024 / 2
	ec.QuotaBackendBytes = 8 << 30
	// The raft log stays in memory from one snapshot to the next, plus the entries kept for
	// slow followers to catch up: up to 15,000 entries (about 15 MB of Pods) with etcd's
	// defaults. A single member has no followers; snapshot twice as often and keep few.
	ec.SnapshotCount = 5000
	ec.SnapshotCatchUpEntries = 500
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", ec.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", ec.Dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &Embedded{
		etcd:      e,
		Client:    v3client.New(e.Server),
		ClientURL: "http://" + e.Clients[0].Addr().String(),
	}, nil
}

// Close stops etcd after flushing what it has acknowledged.
func (e *Embedded) Close() {
	_ = e.Client.Close()
	e.etcd.Close()
}

// Dial connects to an etcd cluster at endpoints.
func Dial(ctx context.Context, endpoints []string) (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          10 * time.Second,
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		Context:              ctx,
		Logger:               zap.NewNop(),
		MaxCallSendMsgSize:   4 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("dial etcd %v: %w", endpoints, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Status(sctx, endpoints[0]); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("reach etcd %v: %w", endpoints, err)
	}
	return c, nil
}
