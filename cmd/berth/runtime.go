package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/berth-dev/berth/agent/runtime"
)

// newRuntime connects the runtime --runtime names.
//
// TODO(A3): agent/runtime/docker and agent/runtime/fake have not landed yet; they are wired
// here as soon as they do.
func (o *agentOptions) newRuntime(context.Context, *slog.Logger) (runtime.Runtime, func(), error) {
	return nil, nil, fmt.Errorf("--runtime %s: the runtime is not available in this build yet", o.runtime)
}

// newFakeRuntime returns the fake runtime of one hollow Node.
func newFakeRuntime(string) runtime.Runtime { return nil }
