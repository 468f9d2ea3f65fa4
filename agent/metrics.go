package agent

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/promreg"
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
	m.leaseRenewals = promreg.Register(reg, m.leaseRenewals)
	m.statusUpdates = promreg.Register(reg, m.statusUpdates)
	m.podDeletions = promreg.Register(reg, m.podDeletions)
	m.assignedPods = promreg.Register(reg, m.assignedPods)
	m.readyNodes = promreg.Register(reg, m.readyNodes)
	m.registeredNode = promreg.Register(reg, m.registeredNode)
	return m
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
