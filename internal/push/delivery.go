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
//
// # The chain
//
// One attempt is a Handler wrapped in Middlewares, one concern each (the
// model of watermill's router middleware), outermost first:
//
//	Count           counts the result by outcome              (metrics.go)
//	Dedup           claim / mark delivered / release          (dedup.go)
//	RecordFailures  remembers a failure for the DLQ listing   (failures.go)
//	Trace           one span per attempt                      (trace.go)
//	Encode          CloudEvents binary mode, webhook-id, keys (encode.go)
//	Latency         observes the endpoint's latency           (metrics.go)
//	Post            the signed POST, classified by Classify   (post.go, classify.go)
//
// The runner (runner.go) turns the Result into RocketMQ's answer through
// Decide (decide.go): acknowledge, retry at a delay level, dead-letter, or
// pause on 410 (pause.go).
package push

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// Delivery is one message on its way to one subscription's endpoint.
type Delivery struct {
	Sub subscription.Subscription
	Msg *primitive.MessageExt
	// Stop closes when the runner starts to stop: a unit that waits (for
	// the dedup store) gives up with ErrStopping, having sent nothing.
	Stop <-chan struct{}
	// Request is the webhook call: Encode builds it, Post sends it.
	Request webhook.Request
}

// DedupID is the id that identifies "the same event" for the delivery.
func (d *Delivery) DedupID() string { return DedupID(d.Sub, d.Msg) }

// Attempt is the attempt's number, from 1.
func (d *Delivery) Attempt() int { return int(d.Msg.ReconsumeTimes) + 1 }

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

// Result is what one pass through the chain found.
type Result struct {
	Outcome Outcome
	// Wait is, for Retry, how long the endpoint asked to wait
	// (Retry-After), or how long another replica's claim still runs.
	Wait time.Duration
	// Reason says why the message was not delivered (the dead-letter
	// listing's last error, the span's status).
	Reason string
	// Status is the endpoint's HTTP status; 0 without an answer.
	Status int
	// Busy means Retry because another replica holds the message in
	// flight: nothing was sent.
	Busy bool
	// Err means nothing was attempted and the message must stay
	// unacknowledged: the runner stops (ErrStopping) or ctx ended.
	Err error
}

// Handler makes one delivery attempt of d. It never panics on an endpoint's
// answer; every failure is in the Result.
type Handler func(ctx context.Context, d *Delivery) Result

// Middleware wraps a Handler with one concern.
type Middleware func(Handler) Handler

// Chain wraps h in ms, the first outermost.
func Chain(h Handler, ms ...Middleware) Handler {
	for i := len(ms) - 1; i >= 0; i-- {
		h = ms[i](h)
	}
	return h
}

// ErrStopping means the runner stops; the message stays unacknowledged.
var ErrStopping = errors.New("delivery: stopping")

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
