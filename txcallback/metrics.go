package txcallback

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the transaction metrics.
type Metrics struct {
	// Transactions counts state changes by the state reached.
	Transactions *prometheus.CounterVec
	// DecisionSeconds is the time from begin to decision.
	DecisionSeconds prometheus.Histogram
	// CheckBacks counts the broker's check-backs by the answer given.
	CheckBacks *prometheus.CounterVec
	// CheckWebhook counts check webhook calls by outcome.
	CheckWebhook *prometheus.CounterVec
	// CheckWebhookSeconds is the check webhook latency.
	CheckWebhookSeconds prometheus.Histogram
	// EndFailures counts END_TRANSACTION calls the broker did not acknowledge.
	EndFailures prometheus.Counter
	// RedisBatch is how many state changes shared each Redis round trip
	// of the transaction store (see rscript.Batcher).
	RedisBatch prometheus.Histogram
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &Metrics{
		Transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_transactions_total", Help: "Transaction state changes by the state reached."}, []string{"state"}),
		DecisionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zeroloss_transaction_decision_seconds", Help: "Time from begin to commit or rollback.", Buckets: buckets}),
		CheckBacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_transaction_checkbacks_total", Help: "Broker check-backs by the answer given."}, []string{"answer"}),
		CheckWebhook: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_check_webhook_calls_total", Help: "Check webhook calls by outcome."}, []string{"outcome"}),
		CheckWebhookSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zeroloss_check_webhook_duration_seconds", Help: "Check webhook latency.", Buckets: buckets}),
		EndFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zeroloss_end_transaction_failures_total", Help: "END_TRANSACTION calls the broker did not acknowledge."}),
		RedisBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zeroloss_transaction_redis_batch_size", Help: "Transaction state changes per Redis round trip.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}),
	}
	reg.MustRegister(m.Transactions, m.DecisionSeconds, m.CheckBacks, m.CheckWebhook, m.CheckWebhookSeconds, m.EndFailures, m.RedisBatch)
	return m
}
