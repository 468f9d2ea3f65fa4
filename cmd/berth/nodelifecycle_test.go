package main

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/services/controller"
	"github.com/berth-dev/berth/services/controlplane"
)

// TestNodeLifecycleFlags checks that --node-monitor-grace-period and --pod-eviction-timeout
// exist on `berth controller` and `berth server`, with Kubernetes' defaults, and reach the
// configuration each command runs with.
func TestNodeLifecycleFlags(t *testing.T) {
	var gotController controller.Config
	var gotServer controlplane.Config
	oldController, oldControlPlane := runController, runControlPlane
	t.Cleanup(func() { runController, runControlPlane = oldController, oldControlPlane })
	runController = func(_ context.Context, cfg controller.Config) error { gotController = cfg; return nil }
	runControlPlane = func(_ context.Context, cfg controlplane.Config) error { gotServer = cfg; return nil }

	role := []string{"--server", "127.0.0.1:1", "--http-addr", "127.0.0.1:0"}
	set := []string{"--node-monitor-grace-period", "7s", "--pod-eviction-timeout", "90s"}
	tests := []struct {
		name                 string
		args                 []string
		wantGrace, wantEvict time.Duration
	}{
		{"controller defaults", append([]string{"controller"}, role...), 40 * time.Second, 5 * time.Minute},
		{"controller flags", append(append([]string{"controller"}, role...), set...), 7 * time.Second, 90 * time.Second},
		{"server defaults", []string{"server"}, 40 * time.Second, 5 * time.Minute},
		{"server flags", append([]string{"server"}, set...), 7 * time.Second, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotController, gotServer = controller.Config{}, controlplane.Config{}
			root := newRoot()
			root.SetArgs(tt.args)
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			grace, evict := gotController.NodeMonitorGracePeriod, gotController.PodEvictionTimeout
			if tt.args[0] == "server" {
				grace, evict = gotServer.NodeMonitorGracePeriod, gotServer.PodEvictionTimeout
			}
			if grace != tt.wantGrace || evict != tt.wantEvict {
				t.Errorf("grace period %v, eviction timeout %v; want %v, %v", grace, evict, tt.wantGrace, tt.wantEvict)
			}
		})
	}
	// The apiserver alone runs no controllers, so it has no such flags.
	root := newRoot()
	root.SetArgs([]string{"apiserver", "--pod-eviction-timeout", "1m"})
	if err := root.ExecuteContext(context.Background()); err == nil {
		t.Error("berth apiserver accepted --pod-eviction-timeout")
	}
}
