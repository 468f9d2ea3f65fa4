package endpoints

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/controller"
)

// TestMetricsShareARegistry checks that the endpoints controller's metrics register next to
// the controller manager's, as in `berth server`, and that both are gathered.
func TestMetricsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	manager, mine := controller.NewMetrics(), controller.NewMetrics()
	if err := reg.Register(manager); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(unchecked{mine}); err != nil {
		t.Fatalf("register next to the controller manager's metrics: %v", err)
	}
	noop := func(context.Context, string) (controller.Result, error) { return controller.Result{}, nil }
	controller.New("namespace-controller", noop, controller.Options{Metrics: manager})
	controller.New(Name, noop, controller.Options{Metrics: mine})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "berth_controller_queue_depth" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				seen[l.GetValue()] = true
			}
		}
	}
	if !seen["namespace-controller"] || !seen[Name] {
		t.Errorf("queue depth gathered for %v, want both controllers", seen)
	}
}
