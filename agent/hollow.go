package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"

	"github.com/berth-dev/berth/agent/logexec"
	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// DefaultHollowPrefix names hollow Nodes when no prefix is given: hollow-0, hollow-1, ...
const DefaultHollowPrefix = "hollow"

// hollowStartConcurrency bounds how many hollow agents register and list at once, so that a
// thousand of them starting together do not stampede the apiserver.
const hollowStartConcurrency = 32

// HollowConfig configures RunHollow.
type HollowConfig struct {
	// Count is the number of hollow Nodes.
	Count int
	// Prefix names them Prefix-0 … Prefix-(Count−1) (DefaultHollowPrefix when empty).
	Prefix string
	// Template configures every agent: Client, Capacity, Labels, Logger, Metrics, Version,
	// Address, timings. Its NodeName, Runtime, Listener and Port are ignored; its RootDir
	// holds one directory per Node.
	Template Config
	// NewRuntime returns the runtime of the i-th hollow Node (the fake runtime). Required.
	NewRuntime func(i int, nodeName string) runtime.Runtime
	// Listener, when set, serves the Log and Exec RPCs of every hollow Node; they all
	// advertise its port.
	Listener net.Listener
}

// RunHollow runs Count agents in this process, each with its own Node, Lease, assignment
// stream and runtime, sharing one apiserver connection and one logs/exec service, until ctx
// ends.
func RunHollow(ctx context.Context, cfg HollowConfig) error {
	if cfg.Count <= 0 {
		return fmt.Errorf("agent: hollow node count must be positive, got %d", cfg.Count)
	}
	if cfg.NewRuntime == nil {
		return errors.New("agent: hollow nodes need NewRuntime")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultHollowPrefix
	}
	base := cfg.Template
	base.Listener = nil
	base.ServiceNetwork = nil // hollow Nodes have no network to proxy
	if base.Logger == nil {
		base.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listener != nil {
		if ta, ok := cfg.Listener.Addr().(*net.TCPAddr); ok {
			base.Port = int32(ta.Port)
		}
		if base.Address == "" {
			base.Address = detectAddress(cfg.Listener)
		}
	}
	if base.StatusWorkers <= 0 {
		base.StatusWorkers = 1
	}
	gate := make(chan struct{}, hollowStartConcurrency)
	agents := make([]*agent, cfg.Count)
	for i := range agents {
		c := base
		c.NodeName = fmt.Sprintf("%s-%d", prefix, i)
		c.Runtime = cfg.NewRuntime(i, c.NodeName)
		if base.RootDir != "" {
			c.RootDir = filepath.Join(base.RootDir, c.NodeName)
		}
		c.gate = gate
		a, err := newAgent(c)
		if err != nil {
			return err
		}
		agents[i] = a
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(agents))
	for _, a := range agents {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- a.run(ctx) }()
	}
	if cfg.Listener != nil {
		locate := func(namespace, name string) (*corev1.Pod, runtime.Runtime, bool) {
			for _, a := range agents {
				if p, rt, ok := a.locate(namespace, name); ok {
					return p, rt, true
				}
			}
			return nil, nil, false
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveGRPC(ctx, NewLogExecServer(logexec.LocatorFunc(locate), base.Logger), cfg.Listener, base.Logger)
		}()
	}
	base.Logger.Info("hollow nodes started", "count", cfg.Count, "prefix", prefix)
	var first error
	select {
	case first = <-errc: // an agent gave up: stop them all
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	return first
}
