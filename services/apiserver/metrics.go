package apiserver

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/berth-dev/berth/pkg/apistatus"
)

// metrics counts and times every gRPC call by method and code.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watches  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_apiserver_requests_total", Help: "gRPC requests served, by method and code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_apiserver_request_duration_seconds", Help: "Latency of unary gRPC requests, by method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method"}),
		watches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "berth_apiserver_watches", Help: "Open watch streams, by method.",
		}, []string{"method"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.watches)
	}
	return m
}

func (m *metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	m.latency.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	m.requests.WithLabelValues(info.FullMethod, status.Code(apistatus.ToGRPC(err)).String()).Inc()
	return resp, err
}

func (m *metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	g := m.watches.WithLabelValues(info.FullMethod)
	g.Inc()
	defer g.Dec()
	err := h(srv, ss)
	m.requests.WithLabelValues(info.FullMethod, status.Code(apistatus.ToGRPC(err)).String()).Inc()
	return err
}
