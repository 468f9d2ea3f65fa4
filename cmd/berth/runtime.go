package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/fake"
)

// newRuntime connects the runtime --runtime names; close releases it.
//
// TODO(A3): wire agent/runtime/docker once it lands.
func (o *agentOptions) newRuntime(_ context.Context, _ *slog.Logger) (rt runtime.Runtime, close func(), err error) {
	switch o.runtime {
	case "fake":
		return fake.New(fake.Config{NodeName: o.nodeName}), func() {}, nil
	}
	return nil, nil, fmt.Errorf("--runtime %s: the runtime is not available in this build yet", o.runtime)
}

// newHollowRuntime is the fake runtime of the i-th hollow Node, with Pod IPs of its own.
func newHollowRuntime(i int, node string) runtime.Runtime {
	return fake.New(fake.Config{NodeName: node, Subnet: fake.SubnetFor(i)})
}
