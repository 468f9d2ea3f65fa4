package agent

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the agent's; the agents of one process (hollow Nodes) share them, labelled by
// nothing Node-specific so that a thousand Nodes do not make a thousand series each.
type metrics struct {
	leaseRenewals  *prometheus.CounterVec // result: ok, error
	statusUpdates  *prometheus.CounterVec // kind: node, pod; result: ok, conflict, error
	podDeletions   *prometheus.CounterVec // result
	assignedPods   prometheus.Gauge
	readyNodes     prometheus.Gauge
	registeredNode prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		leaseRenewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_agent_lease_renewals_total", Help: "Renewals of the Node Leases, by result.",
		}, []string{"result"}),
		statusUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_agent_status_updates_total", Help: "UpdateStatus calls for Nodes and Pods, by kind and result.",
		}, []string{"kind", "result"}),
		podDeletions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_agent_pod_deletions_total", Help: "Pod deletions finished by the agents, by result.",
		}, []string{"result"}),
		assignedPods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "berth_agent_assigned_pods", Help: "Pods bound to the Nodes of this process.",
		}),
		readyNodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "berth_agent_ready_nodes", Help: "Nodes of this process whose Ready condition is True.",
		}),
		registeredNode: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_agent_node_registrations_total", Help: "Node registrations (created or updated).",
		}),
	}
	if reg == nil {
		return m
	}
	m.leaseRenewals = register(reg, m.leaseRenewals)
	m.statusUpdates = register(reg, m.statusUpdates)
	m.podDeletions = register(reg, m.podDeletions)
	m.assignedPods = register(reg, m.assignedPods)
	m.readyNodes = register(reg, m.readyNodes)
	m.registeredNode = register(reg, m.registeredNode)
	return m
}

// register registers c, or returns the collector already registered under its name (the
// agents of one process share their metrics).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
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

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
