// Package promreg registers Prometheus collectors that several components of one process
// share: the second to register a collector of the same name gets the first one's, so that
// their samples add up in one series instead of the registration failing.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns it, or returns the collector already registered
// under its name when that is of the same type. Any other registration error leaves c
// unregistered and returns it, so that the caller's samples are merely not exported.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
