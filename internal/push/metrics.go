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
	// InFlight and InFlightBytes are the messages popped and not settled
	// (the global budget in use); Running the subscriptions delivered.
	InFlight, InFlightBytes, Running prometheus.Gauge
	// Tasks are the (subscription, broker) pop tasks scheduled.
	Tasks prometheus.Gauge
	// Pops counts POP requests by result (messages, empty, error);
	// Popped the messages they returned. Popped/Pops is the batch size the
	// broker's per-pop cost (a check point per queue read) is spread over.
	Pops   *prometheus.CounterVec
	Popped prometheus.Counter
	// AckRequests counts ack requests to the brokers (an ACK_MESSAGE or a
	// BATCH_ACK_MESSAGE), Acks the messages they acknowledged.
	AckRequests, Acks prometheus.Counter
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
	m.InFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zeroloss_delivery_in_flight_messages", Help: "Messages popped and not yet settled on this replica (the in-flight budget used)."})
	m.InFlightBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zeroloss_delivery_in_flight_bytes", Help: "Bytes of the messages popped and not yet settled on this replica."})
	m.Running = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zeroloss_delivery_subscriptions", Help: "Push subscriptions this replica delivers."})
	m.Tasks = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zeroloss_delivery_tasks", Help: "Pop tasks (subscription, broker) waiting for a poller on this replica."})
	m.Pops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "zeroloss_delivery_pops_total", Help: "POP requests to the brokers by result (messages, empty, error)."}, []string{"result"})
	m.Popped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "zeroloss_delivery_popped_messages_total", Help: "Messages returned by POP requests."})
	m.AckRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "zeroloss_delivery_ack_requests_total", Help: "Ack requests to the brokers (one ack, or a batch of them)."})
	m.Acks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "zeroloss_delivery_acks_total", Help: "Messages acknowledged to the brokers."})
	reg.MustRegister(m.Deliveries, m.Seconds, m.DeadLetters, m.DedupErrors, m.Lag, m.InFlight, m.InFlightBytes, m.Running, m.Tasks,
		m.Pops, m.Popped, m.AckRequests, m.Acks)
	return m
}

// forget drops the series of a subscription no longer delivered here, so
// that created and deleted subscriptions leave nothing behind.
func (m *Metrics) forget(id string) {
	l := prometheus.Labels{"subscription": id}
	m.Deliveries.DeletePartialMatch(l)
	m.Seconds.DeletePartialMatch(l)
	m.DeadLetters.DeletePartialMatch(l)
	m.Lag.DeletePartialMatch(l)
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
