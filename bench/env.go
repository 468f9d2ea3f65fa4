package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/pkg/client"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver"
	"github.com/berth-dev/berth/services/apiserver/etcdserver"
)

// poolSize is the number of connections the clients of a load run share, to the apiserver and
// to etcd alike: worker w uses connection w % poolSize, so 64 clients multiplex 8 connections.
const poolSize = 8

// env is the system under test: an embedded etcd and an apiserver on top of it, in this
// process, with the connections the benchmarks use.
type env struct {
	dir  string
	etcd *etcdserver.Embedded
	api  *apiserver.Server
	// etcdNet are etcd clients dialed over TCP to the embedded etcd's client URL.
	etcdNet [poolSize]*clientv3.Client
	// apiConns are gRPC connections to the apiserver.
	apiConns [poolSize]*client.Client
	// pods are the typed Pod clients of apiConns.
	pods [poolSize]corev1.PodServiceClient

	stopAPI func() error
}

// startServers starts etcd and the apiserver. It must run outside the benchmarks' profiler
// labels, so that the goroutines of the servers are told apart from those of the clients.
func startServers(ctx context.Context) (*env, error) {
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	e := &env{dir: dir}
	if e.etcd, err = etcdserver.Start(ctx, etcdserver.Config{DataDir: dir}); err != nil {
		e.close()
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	if e.api, err = apiserver.New(apiserver.Config{Etcd: e.etcd.Client, Listener: l, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		l.Close()
		e.close()
		return nil, fmt.Errorf("new apiserver: %w", err)
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- e.api.Run(actx) }()
	e.stopAPI = func() error { cancel(); return <-done }
	select {
	case <-e.api.Ready():
	case err := <-done:
		e.stopAPI = nil
		e.close()
		return nil, fmt.Errorf("apiserver stopped before it was ready: %w", err)
	case <-time.After(60 * time.Second):
		e.close()
		return nil, errors.New("apiserver not ready after 60s")
	}
	return e, nil
}

// connect dials the clients' connections. It runs under the clients' profiler labels, which
// the connections' goroutines inherit.
func (e *env) connect(ctx context.Context) error {
	for i := range poolSize {
		var err error
		if e.etcdNet[i], err = etcdserver.Dial(ctx, []string{e.etcd.ClientURL}); err != nil {
			return err
		}
		if e.apiConns[i], err = client.Dial(ctx, e.api.Addr(), client.WithBlock()); err != nil {
			return err
		}
		e.pods[i] = corev1.NewPodServiceClient(e.apiConns[i].Conn())
	}
	return nil
}

// podClient returns the Pod client of worker w.
func (e *env) podClient(w int) corev1.PodServiceClient { return e.pods[w%poolSize] }

// etcdClient returns the network etcd client of worker w.
func (e *env) etcdClient(w int) *clientv3.Client { return e.etcdNet[w%poolSize] }

// createNamespace creates a Namespace for a benchmark's objects.
func (e *env) createNamespace(ctx context.Context, name string) error {
	_, err := corev1.NewNamespaceServiceClient(e.apiConns[0].Conn()).Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}})
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// close stops everything and removes the data directory.
func (e *env) close() {
	for i := range poolSize {
		if e.apiConns[i] != nil {
			_ = e.apiConns[i].Close()
		}
		if e.etcdNet[i] != nil {
			_ = e.etcdNet[i].Close()
		}
	}
	if e.stopAPI != nil {
		_ = e.stopAPI()
	}
	if e.etcd != nil {
		e.etcd.Close()
	}
	_ = os.RemoveAll(e.dir)
}
