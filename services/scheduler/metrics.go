package scheduler

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/services/scheduler/queue"
)

// Results of a scheduling attempt, as Kubernetes labels them.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

// metrics are the scheduler's Prometheus metrics, named as kube-scheduler's. Each carries
// the constant label profile (the scheduler's name), so that two schedulers can share a
// registry.
type metrics struct {
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	algorithm       prometheus.Histogram
	e2e             prometheus.Histogram
	pending         *prometheus.Desc
	// queue is the queue of the current term, nil before the first.
	queue atomic.Pointer[queue.Queue]
}

func newMetrics(profile string) *metrics {
	labels := prometheus.Labels{"profile": profile}
	buckets := prometheus.ExponentialBuckets(0.001, 2, 15) // 1ms .. 16s
	return &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_schedule_attempts_total", ConstLabels: labels,
			Help: "Number of attempts to schedule pods, by the result: 'unschedulable' means a pod could not be scheduled, 'error' means an internal scheduler problem.",
		}, []string{"result"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scheduler_scheduling_attempt_duration_seconds", ConstLabels: labels, Buckets: buckets,
			Help: "Scheduling attempt latency in seconds (scheduling algorithm + binding), by result.",
		}, []string{"result"}),
		algorithm: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scheduler_scheduling_algorithm_duration_seconds", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18), // 10µs .. 1.3s
			Help:    "Scheduling algorithm latency in seconds (filter and score of one pod).",
		}),
		e2e: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scheduler_pod_scheduling_duration_seconds", ConstLabels: labels, Buckets: buckets,
			Help: "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue to its binding.",
		}),
		pending: prometheus.NewDesc("scheduler_pending_pods",
			"Number of pending pods, by the queue type: 'active' waiting for an attempt, 'backoff' after a failed attempt, 'unschedulable' waiting for a change, 'inflight' being scheduled.",
			[]string{"queue"}, labels),
	}
}

func (m *metrics) attempt(result string, start time.Time) {
	m.attempts.WithLabelValues(result).Inc()
	m.attemptDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.attempts.Describe(ch)
	m.attemptDuration.Describe(ch)
	m.algorithm.Describe(ch)
	m.e2e.Describe(ch)
	ch <- m.pending
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.attempts.Collect(ch)
	m.attemptDuration.Collect(ch)
	m.algorithm.Collect(ch)
	m.e2e.Collect(ch)
	q := m.queue.Load()
	if q == nil {
		return
	}
	l := q.Len()
	for q, n := range map[string]int{"active": l.Active, "backoff": l.Backoff, "unschedulable": l.Unschedulable, "inflight": l.InFlight} {
		ch <- prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(n), q)
	}
}
