package controller

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/workqueue"
)

// Reconcile outcomes, the "result" label of berth_controller_reconcile_total.
const (
	ResultSuccess  = "success"
	ResultRequeue  = "requeue_after"
	ResultError    = "error"
	ResultTerminal = "terminal_error"
)

// Metrics holds the metrics of every controller of a process, labelled by controller name. It
// is a prometheus.Collector: register it once (reg.MustRegister(m)) and pass it to each
// controller in Options.
type Metrics struct {
	depth, delayed *prometheus.Desc
	latency        *prometheus.HistogramVec
	total          *prometheus.CounterVec
	errors         *prometheus.CounterVec

	mu     sync.Mutex
	queues map[string]*workqueue.Queue
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns an empty set of controller metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		depth: prometheus.NewDesc("berth_controller_queue_depth",
			"Keys waiting in the work queue for a worker.", []string{"controller"}, nil),
		delayed: prometheus.NewDesc("berth_controller_queue_delayed",
			"Keys waiting for a retry backoff or a requeue delay.", []string{"controller"}, nil),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_controller_reconcile_duration_seconds", Help: "Time one reconcile takes.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"controller"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_controller_reconcile_total", Help: "Reconciles, by outcome.",
		}, []string{"controller", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_controller_reconcile_errors_total", Help: "Reconciles that returned an error (retried or terminal).",
		}, []string{"controller"}),
		queues: map[string]*workqueue.Queue{},
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.depth
	ch <- m.delayed
	m.latency.Describe(ch)
	m.total.Describe(ch)
	m.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	for name, q := range m.queues {
		ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(q.Len()), name)
		ch <- prometheus.MustNewConstMetric(m.delayed, prometheus.GaugeValue, float64(q.Delayed()), name)
	}
	m.mu.Unlock()
	m.latency.Collect(ch)
	m.total.Collect(ch)
	m.errors.Collect(ch)
}

// add starts reporting the queue of controller name.
func (m *Metrics) add(name string, q *workqueue.Queue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.queues[name]; ok {
		panic(fmt.Sprintf("controller: two controllers named %q share one Metrics", name))
	}
	m.queues[name] = q
}

// remove stops reporting the queue of controller name.
func (m *Metrics) remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.queues, name)
}

// observe records one reconcile.
func (m *Metrics) observe(name, result string, seconds float64) {
	m.latency.WithLabelValues(name).Observe(seconds)
	m.total.WithLabelValues(name, result).Inc()
	if result == ResultError || result == ResultTerminal {
		m.errors.WithLabelValues(name).Inc()
	}
}
