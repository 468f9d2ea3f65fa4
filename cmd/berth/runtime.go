package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/docker"
	"github.com/berth-dev/berth/agent/runtime/fake"
)

// newRuntime connects the runtime --runtime names, with its state under rootDir; close
// releases it.
func (o *agentOptions) newRuntime(_ context.Context, rootDir string, log *slog.Logger) (rt runtime.Runtime, close func(), err error) {
	switch o.runtime {
	case "fake":
		return fake.New(fake.Config{NodeName: o.nodeName}), func() {}, nil
	case "docker":
		d, err := docker.New(docker.Options{
			NodeName: o.nodeName, StateDir: filepath.Join(rootDir, "runtime"), Logger: log.With("runtime", "docker"),
		})
		if err != nil {
			return nil, nil, err
		}
		return d, func() { _ = d.Close() }, nil
	}
	return nil, nil, fmt.Errorf("--runtime: %q is not docker or fake", o.runtime)
}

// newHollowRuntime is the fake runtime of the i-th hollow Node, with Pod IPs of its own.
func newHollowRuntime(i int, node string) runtime.Runtime {
	return fake.New(fake.Config{NodeName: node, Subnet: fake.SubnetFor(i)})
}
