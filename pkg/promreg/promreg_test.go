package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesTheFirstCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	newVec := func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_test_total", Help: "h"}, []string{"k"})
	}
	first := Register(reg, newVec())
	second := Register(reg, newVec())
	if first != second {
		t.Fatal("the second registration did not return the first collector")
	}
	// A collector of another type under the same name is not registered, and is returned.
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "berth_test_total", Help: "h"})
	if got := Register(reg, g); got != g {
		t.Fatal("a collector of another type was not returned as is")
	}
}
