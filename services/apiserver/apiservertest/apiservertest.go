// Package apiservertest starts a real apiserver, on a real embedded etcd, inside a test: the
// integration-test tier of Berth. Nothing is mocked; gRPC listens on 127.0.0.1 with port 0.
package apiservertest

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/services/apiserver"
	"github.com/berth-dev/berth/services/apiserver/etcdserver"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
)

// Instance is a running test apiserver.
type Instance struct {
	// Addr is the gRPC address.
	Addr string
	// Etcd talks to the embedded etcd directly (for checking what is stored).
	Etcd   *clientv3.Client
	Server *apiserver.Server

	stop func()
}

// Stop stops the apiserver and its etcd before the test ends (to restart on the same
// DataDir); the test's cleanup does it otherwise. It may be called more than once.
func (i *Instance) Stop() { i.stop() }

// Options tunes the apiserver for a test.
type Options struct {
	// CacheCapacity overrides the watch cache size (small values exercise expiry).
	CacheCapacity int
	// DataDir reuses a data directory (to test restarts); default a fresh temp dir.
	DataDir string
	// ServiceClusterIPRange and ServiceNodePortRange override the apiserver's defaults.
	ServiceClusterIPRange ipalloc.Range
	ServiceNodePortRange  portalloc.Range
}

// Start starts an apiserver on a fresh embedded etcd and stops both when the test ends.
func Start(t testing.TB) string { return StartWith(t, Options{}).Addr }

// StartWith starts an apiserver with options.
func StartWith(t testing.TB, o Options) *Instance {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: o.DataDir})
	if err != nil {
		cancel()
		t.Fatalf("start etcd: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		e.Close()
		t.Fatalf("listen: %v", err)
	}
	s, err := apiserver.New(apiserver.Config{
		Etcd: e.Client, Listener: l, CacheCapacity: o.CacheCapacity, Logger: slog.New(slog.DiscardHandler),
		ServiceClusterIPRange: o.ServiceClusterIPRange, ServiceNodePortRange: o.ServiceNodePortRange,
	})
	if err != nil {
		cancel()
		e.Close()
		t.Fatalf("new apiserver: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("apiserver: %v", err)
			}
			e.Close()
		})
	}
	t.Cleanup(stop)
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("apiserver stopped before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("apiserver not ready after 30s")
	}
	return &Instance{Addr: s.Addr(), Etcd: e.Client, Server: s, stop: stop}
}
