// Package delivery pushes consumed messages to subscribers' webhooks.
//
// Every gateway replica runs one RocketMQ push consumer per active
// subscription, in clustering mode with the subscription's own consumer
// group, so RocketMQ spreads the queues over the replicas and hands a dead
// replica's queues to the living. A message is acknowledged to RocketMQ only
// after the endpoint answered 2xx (or the dedup store says it already did);
// a crash before that re-delivers it. Failures go back to RocketMQ's retry
// topic (its delay levels are the backoff), and after the subscription's
// max attempts to its dead-letter queue %DLQ%<group>. Non-retryable 4xx
// answers go to the dead-letter queue at once; 410 Gone pauses the
// subscription.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/subscription"
	"github.com/zeroloss/zeroloss/webhook"
)

// Deduper suppresses duplicate deliveries (dedup.Store). ClaimFor marks an
// id in flight for the caller for a lease; Delivered records the endpoint's 2xx; Release
// gives an undelivered claim back. Errors mean "unknown": never deliver.
type Deduper interface {
	ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (dedup.Claim, error)
	Delivered(ctx context.Context, c dedup.Claim) error
	Release(ctx context.Context, c dedup.Claim) error
}

// Caller makes signed webhook calls (webhook.Client).
type Caller interface {
	Do(ctx context.Context, req webhook.Request) (webhook.Response, error)
}

// Outcome of one delivery attempt.
type Outcome string

// Outcomes.
const (
	Delivered  Outcome = "delivered"  // 2xx
	Suppressed Outcome = "suppressed" // already delivered: not sent again
	Retry      Outcome = "retry"      // 408, 429, 5xx, timeout, connection error
	Dead       Outcome = "dead"       // other 4xx: straight to the dead-letter queue
	Gone       Outcome = "gone"       // 410: pause the subscription
)

// Deliverer makes one delivery attempt of one message.
type Deliverer struct {
	dedup   Deduper
	hooks   Caller
	tracer  trace.Tracer
	prop    propagation.TextMapPropagator
	log     *slog.Logger
	metrics *Metrics
	errors  ErrorLog
	// leaseWait bounds waiting for another replica's in-flight claim.
	leaseWait time.Duration
}

// ErrorLog remembers each failed message's last error for the dead-letter
// listing (DeadLetters).
type ErrorLog interface {
	RecordFailure(ctx context.Context, sub, messageID, reason string, attempt int) error
}

// DedupID is the id that identifies "the same event" for s.
func DedupID(s subscription.Subscription, m *primitive.MessageExt) string {
	switch s.DedupSource {
	case subscription.DedupKey:
		if k := strings.Fields(m.GetKeys()); len(k) > 0 {
			return "key:" + k[0]
		}
	case subscription.DedupProperty:
		if v := m.GetProperty(s.DedupProp); v != "" {
			return "prop:" + v
		}
	}
	return MessageID(m)
}

// MessageID is the message's gateway id (UNIQ_KEY).
func MessageID(m *primitive.MessageExt) string {
	if id := m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex); id != "" {
		return id
	}
	return m.MsgId
}

// errStopping means the runner stops; the message stays unacknowledged.
var errStopping = errors.New("delivery: stopping")

// Deliver claims m in the dedup store and, unless it was delivered before,
// POSTs it to s.Endpoint. It returns the outcome, and for Retry a wait the
// endpoint asked for (Retry-After), or an error when the dedup store could
// not be asked before stop closed (then nothing was sent).
func (d *Deliverer) Deliver(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt, stop <-chan struct{}) (Outcome, time.Duration, error) {
	id := DedupID(s, m)
	if s.DedupSource == subscription.DedupNone {
		out, wait := d.attempt(ctx, s, m, id, nil)
		return out, wait, nil
	}
	claim, err := d.claim(ctx, s.ID, id, s.Timeout+leaseMargin, stop)
	if err != nil {
		return "", 0, err
	}
	switch claim.Status {
	case dedup.Delivered:
		d.metrics.Deliveries.WithLabelValues(s.ID, string(Suppressed)).Inc()
		return Suppressed, 0, nil
	case dedup.Busy:
		// Still in flight elsewhere after waiting: never send it twice;
		// RocketMQ brings it back later.
		d.metrics.Deliveries.WithLabelValues(s.ID, "busy").Inc()
		return Retry, claim.RetryAfter, nil
	}
	out, wait := d.attempt(ctx, s, m, id, &claim)
	return out, wait, nil
}

// attempt POSTs m once, counts the outcome and settles it: a 2xx marks the
// claim delivered, anything else releases the claim and records the
// failure for the dead-letter listing. claim is nil without dedup.
func (d *Deliverer) attempt(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt, id string, claim *dedup.Claim) (Outcome, time.Duration) {
	out, wait, reason := d.post(ctx, s, m, id)
	d.metrics.Deliveries.WithLabelValues(s.ID, string(out)).Inc()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if out == Delivered {
		if claim != nil {
			if err := d.dedup.Delivered(cctx, *claim); err != nil {
				// The endpoint has it; without the mark a re-delivery may
				// reach it again with the same webhook-id.
				d.log.Warn("delivery: mark delivered", slog.String("subscription", s.ID), slog.String("dedupId", id), slog.Any("error", err))
			}
		}
		return out, 0
	}
	if claim != nil {
		if err := d.dedup.Release(cctx, *claim); err != nil {
			d.log.Warn("delivery: release claim", slog.String("subscription", s.ID), slog.String("dedupId", id), slog.Any("error", err))
		}
	}
	if d.errors != nil {
		_ = d.errors.RecordFailure(cctx, s.ID, MessageID(m), reason, int(m.ReconsumeTimes)+1)
	}
	return out, wait
}

// leaseMargin is added to a subscription's timeout for its claims' lease:
// an attempt ends (and marks or releases) well within its lease.
const leaseMargin = 5 * time.Second

// claim asks the dedup store, waiting while Redis is unreachable (fail
// closed) or another replica holds the message, until stop.
func (d *Deliverer) claim(ctx context.Context, sub, id string, lease time.Duration, stop <-chan struct{}) (dedup.Claim, error) {
	deadline := time.Now().Add(d.leaseWait)
	backoff := 100 * time.Millisecond
	for {
		c, err := d.dedup.ClaimFor(ctx, sub, id, lease)
		var wait time.Duration
		switch {
		case err != nil:
			d.metrics.DedupErrors.Inc()
			d.log.Warn("delivery: dedup store unreachable; holding the message", slog.String("subscription", sub), slog.Any("error", err))
			wait = backoff
			backoff = min(2*backoff, 2*time.Second)
		case c.Status == dedup.Busy && time.Now().Before(deadline):
			wait = min(max(c.RetryAfter, 50*time.Millisecond), time.Second)
		default:
			return c, nil
		}
		select {
		case <-stop:
			return dedup.Claim{}, errStopping
		case <-ctx.Done():
			return dedup.Claim{}, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// post sends one attempt and classifies the answer.
func (d *Deliverer) post(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt, id string) (Outcome, time.Duration, string) {
	ctx = d.prop.Extract(ctx, propagation.MapCarrier(m.GetProperties()))
	ctx, span := d.tracer.Start(ctx, "deliver "+s.Name, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("zeroloss.subscription", s.ID), attribute.String("messaging.message.id", MessageID(m)),
			attribute.Int("zeroloss.attempt", int(m.ReconsumeTimes)+1)))
	defer span.End()

	h := http.Header{}
	d.prop.Inject(ctx, propagation.HeaderCarrier(h))
	ct := m.GetProperty("contentType")
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", MessageID(m))
	h.Set("ce-source", "/zeroloss/topics/"+topicOf(m))
	h.Set("ce-type", "org.apache.rocketmq.message")
	h.Set("ce-time", time.UnixMilli(m.BornTimestamp).UTC().Format(time.RFC3339Nano))
	h.Set("ce-attempt", strconv.Itoa(int(m.ReconsumeTimes)+1))
	if tag := m.GetTags(); tag != "" {
		h.Set("ce-tag", tag)
	}
	if keys := m.GetKeys(); keys != "" {
		h.Set("ce-keys", keys)
	}
	if p := userProperties(m); p != "" {
		h.Set("ce-properties", p)
	}

	cctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := d.hooks.Do(cctx, webhook.Request{URL: s.Endpoint, ID: id, Body: m.Body, Secrets: s.Secrets(time.Now()), Header: h})
	d.metrics.Seconds.WithLabelValues(s.ID).Observe(time.Since(start).Seconds())
	out, wait, reason := classify(resp, err)
	span.SetAttributes(attribute.String("zeroloss.outcome", string(out)), attribute.Int("http.response.status_code", resp.Status))
	if out != Delivered {
		span.SetStatus(codes.Error, reason)
	}
	return out, wait, reason
}

// classify maps the endpoint's answer to an outcome.
func classify(resp webhook.Response, err error) (Outcome, time.Duration, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Retry, 0, "timeout"
	case err != nil:
		return Retry, 0, "connection error"
	case resp.Status >= 200 && resp.Status < 300:
		return Delivered, 0, ""
	case resp.Status == http.StatusGone:
		return Gone, 0, "410 Gone"
	case resp.Status == http.StatusRequestTimeout || resp.Status == http.StatusTooManyRequests || resp.Status >= 500:
		return Retry, retryAfter(resp.Header), "HTTP " + strconv.Itoa(resp.Status)
	}
	return Dead, 0, "HTTP " + strconv.Itoa(resp.Status) + " (not retried)"
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func topicOf(m *primitive.MessageExt) string {
	if t := m.GetProperty(primitive.PropertyRetryTopic); t != "" {
		return t
	}
	return m.Topic
}

// systemProperties are RocketMQ's own message properties, not sent as
// CloudEvents extensions.
var systemProperties = map[string]bool{
	"KEYS": true, "TAGS": true, "WAIT": true, "DELAY": true, "RETRY_TOPIC": true, "REAL_TOPIC": true, "REAL_QID": true,
	"TRAN_MSG": true, "PGROUP": true, "MIN_OFFSET": true, "MAX_OFFSET": true, "UNIQ_KEY": true, "MAX_RECONSUME_TIMES": true,
	"CONSUME_START_TIME": true, "TRAN_PREPARED_QUEUE_OFFSET": true, "TRANSACTION_CHECK_TIMES": true, "SHARDING_KEY": true,
	"CHECK_IMMUNITY_TIME_IN_SECONDS": true, "ORIGIN_MESSAGE_ID": true, "RECONSUME_TIME": true, "CLUSTER": true,
	"traceparent": true, "tracestate": true, "baggage": true, "contentType": true, "bname": true, "MSG_REGION": true, "TRACE_ON": true,
}

// userProperties encodes the user's properties as a URL query string.
func userProperties(m *primitive.MessageExt) string {
	v := url.Values{}
	keys := make([]string, 0)
	for k := range m.GetProperties() {
		if !systemProperties[k] && !strings.HasPrefix(k, "TIMER_") && !strings.HasPrefix(k, "__") && !strings.HasPrefix(k, "POP_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Set(k, m.GetProperty(k))
	}
	return v.Encode()
}

// inflight counts callbacks in flight so a stop can wait for them.
type inflight struct {
	mu       sync.Mutex
	wg       sync.WaitGroup
	stopping bool
}

func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inflight) leave() { f.wg.Done() }

// drain stops new entries and waits for the current ones until ctx ends.
func (f *inflight) drain(ctx context.Context) error {
	f.mu.Lock()
	f.stopping = true
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("delivery: in-flight deliveries did not finish: %w", ctx.Err())
	}
}
