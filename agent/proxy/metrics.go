package proxy

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/promreg"
)

// metrics are the proxy's.
type metrics struct {
	connections *prometheus.CounterVec // protocol: TCP connections and UDP sessions relayed
	dialErrors  *prometheus.CounterVec // protocol
	endpoints   *prometheus.GaugeVec   // service: "namespace/name:port"
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_proxy_connections_total",
			Help: "Connections (TCP) and sessions (UDP) the service proxy relayed to an endpoint, by protocol.",
		}, []string{"protocol"}),
		dialErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_proxy_dial_errors_total",
			Help: "Endpoints the service proxy failed to connect to (the next one is tried), by protocol.",
		}, []string{"protocol"}),
		endpoints: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "berth_proxy_service_endpoints",
			Help: "Ready endpoints of each Service port (namespace/name:port) the service proxy balances over.",
		}, []string{"service"}),
	}
	if reg != nil {
		m.connections = promreg.Register(reg, m.connections)
		m.dialErrors = promreg.Register(reg, m.dialErrors)
		m.endpoints = promreg.Register(reg, m.endpoints)
	}
	return m
}
