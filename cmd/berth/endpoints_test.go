package main

import (
	"testing"

	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/services/endpoints"
)

func TestEndpointsRoleFlags(t *testing.T) {
	cmd, _, err := newRoot().Find([]string{"endpoints"})
	if err != nil || cmd.Name() != "endpoints" {
		t.Fatalf("berth endpoints: %v (found %q)", err, cmd.Name())
	}
	defaults := map[string]string{
		"server":                      "127.0.0.1:6443",
		"http-addr":                   "127.0.0.1:8082",
		"concurrent-endpoint-syncs":   "5",
		"leader-elect":                "true",
		"leader-elect-lease-duration": leaderelection.DefaultLeaseDuration.String(),
		"leader-elect-renew-deadline": leaderelection.DefaultRenewDeadline.String(),
		"leader-elect-retry-period":   leaderelection.DefaultRetryPeriod.String(),
	}
	t.Setenv("BERTH_SERVER", "")
	cmd, _, _ = newRoot().Find([]string{"endpoints"}) // flags read $BERTH_SERVER when built
	for name, want := range defaults {
		f := cmd.Flags().Lookup(name)
		if f == nil {
			t.Errorf("berth endpoints has no --%s", name)
			continue
		}
		if f.DefValue != want {
			t.Errorf("--%s defaults to %q, want %q", name, f.DefValue, want)
		}
	}
	if err := cmd.ParseFlags([]string{"--server", "10.0.0.1:6443", "--concurrent-endpoint-syncs", "2", "--leader-elect=false"}); err != nil {
		t.Fatalf("parse flags: %v", err)
	}
	if got := cmd.Flags().Lookup("concurrent-endpoint-syncs").Value.String(); got != "2" {
		t.Errorf("--concurrent-endpoint-syncs parsed as %s", got)
	}
	if endpoints.DefaultWorkers != 5 {
		t.Errorf("DefaultWorkers %d, want Kubernetes' 5", endpoints.DefaultWorkers)
	}
}
