package push

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the delivery metrics.
type Metrics struct {
	// Deliveries counts attempts by subscription and outcome.
	Deliveries *prometheus.CounterVec
	// Seconds is the endpoint latency by subscription.
	Seconds *prometheus.HistogramVec
	// DeadLetters counts messages sent to the dead-letter queue.
	DeadLetters *prometheus.CounterVec
	// DedupErrors counts dedup store failures (delivery waits).
	DedupErrors prometheus.Counter
	// Lag is the messages a subscription has not acknowledged yet.
	Lag *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_deliveries_total", Help: "Delivery attempts by subscription and outcome (delivered, suppressed, retry, dead, gone)."},
			[]string{"subscription", "outcome"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zeroloss_delivery_duration_seconds", Help: "Endpoint latency by subscription.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"subscription"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_dead_letters_total", Help: "Messages sent to a subscription's dead-letter queue."}, []string{"subscription"}),
		DedupErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zeroloss_dedup_errors_total", Help: "Dedup store failures; delivery waits until the store answers."}),
	}
	m.Lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "zeroloss_subscription_lag", Help: "Messages of the topic the subscription has not acknowledged (every 15 s)."}, []string{"subscription"})
	reg.MustRegister(m.Deliveries, m.Seconds, m.DeadLetters, m.DedupErrors, m.Lag)
	return m
}

// Count counts each attempt's result in Deliveries by outcome ("busy" for
// a message another replica holds); a held message (Err) is not counted.
func Count(m *Metrics) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			r := next(ctx, d)
			switch {
			case r.Err != nil:
			case r.Busy:
				m.Deliveries.WithLabelValues(d.Sub.ID, "busy").Inc()
			default:
				m.Deliveries.WithLabelValues(d.Sub.ID, string(r.Outcome)).Inc()
			}
			return r
		}
	}
}

// Latency observes how long the rest of the chain (the endpoint) took in
// Seconds.
func Latency(m *Metrics) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			start := time.Now()
			r := next(ctx, d)
			m.Seconds.WithLabelValues(d.Sub.ID).Observe(time.Since(start).Seconds())
			return r
		}
	}
}
