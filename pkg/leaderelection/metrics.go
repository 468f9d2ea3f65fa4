package leaderelection

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// leaderGauge returns the gauge of one Lease, registering the gauge vector with reg unless a
// previous Run already did.
func leaderGauge(reg prometheus.Registerer, lease string) (prometheus.Gauge, error) {
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_leader_election_is_leader",
		Help: "1 while this process holds the Lease and leads, 0 otherwise.",
	}, []string{"lease"})
	if reg != nil {
		if err := reg.Register(vec); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("register leader election metrics: %w", err)
			}
			existing, ok := are.ExistingCollector.(*prometheus.GaugeVec)
			if !ok {
				return nil, fmt.Errorf("register leader election metrics: %w", err)
			}
			vec = existing
		}
	}
	return vec.WithLabelValues(lease), nil
}
