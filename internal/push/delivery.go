// Package push delivers consumed messages to subscribers' webhooks.
//
// The Engine (engine.go) consumes with RocketMQ 5's POP: each subscription
// is a consumer group, every replica pops for every active subscription,
// and the broker hands a message to one replica at a time, hidden for an
// invisible time. A fixed set of pollers pops for all subscriptions in turn
// within a global in-flight budget (sched.go, budget.go), so memory
// follows the messages in flight, not the number of subscriptions. A
// message is acknowledged only after the endpoint answered 2xx (or the
// dedup store says it already did, or its dead-letter copy is stored); a
// failure hides it for the subscription's retry schedule (schedule.go,
// Retry-After honoured); after the schedule it is dead-lettered to
// %DLQ%<group> by the gateway (the broker never dead-letters a popped
// message). An un-acknowledged message — its replica died, its
// subscription stopped — comes back after its invisible time. Ordered
// subscriptions pop with orderly POP: a failing message blocks its queue
// only. 410 Gone pauses the subscription.
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
// The engine (deliver.go) turns the Result into what it tells RocketMQ
// through Decide (decide.go): acknowledge, hide for a retry, dead-letter,
// or pause on 410 (pause.go).
package push

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// Delivery is one message on its way to one subscription's endpoint.
type Delivery struct {
	Sub subscription.Subscription
	Msg *primitive.MessageExt
	// Stop closes when the subscription stops on this replica: a unit
	// that waits (for the dedup store) gives up with ErrStopping, having
	// sent nothing.
	Stop <-chan struct{}
	// Request is the webhook call: Encode builds it, Post sends it.
	Request webhook.Request
	// Posted, when set, is called by Post once the endpoint answered (or
	// the call failed), in the attempt's goroutine: the engine frees the
	// subscription's concurrency slot there, so that the units still to
	// run (the dedup mark) do not hold the next attempt back.
	Posted func()
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
	// unacknowledged: the subscription stops (ErrStopping) or ctx ended.
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

// ErrStopping means the subscription stops; the message stays
// unacknowledged.
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
	return DefaultDedupID(m)
}

// propOrigin carries a message's default dedup id on the copies the
// gateway makes of it (dead letters, and the redrives made from them),
// whose own born time differs.
const propOrigin = "ZL_ORIGIN_ID"

// gatewayIDSkew bounds how far a gateway message id's time (msgid: when
// the request's id seed was drawn) may lie from the message's born time:
// an idempotent retry reuses its seed within the idempotency TTL (24 h by
// default).
const gatewayIDSkew = 7 * 24 * time.Hour

// DefaultDedupID is the dedup id of a message for the message_id source:
// one id per produced message, the same for every redelivery of it.
//
// Why not the message id (UNIQ_KEY) alone: RocketMQ clients make it from
// the host, the process, the second and a 16-bit counter, so one native
// producer above 65,536 messages a second repeats ids, and distinct
// messages would be suppressed as duplicates. Why not the broker's
// coordinates (broker, queue, offset): a POP retry is a new message in the
// group's retry topic, re-put by the broker's revive service with the
// body and properties but not the original coordinates, so a retried
// message would get a new id. What survives a revive is the properties
// and the born timestamp (the producer's clock at the send), so:
//
//   - an id the gateway issued (msgid: its first 48 bits are the time the
//     request's seed was drawn, within gatewayIDSkew of the born time) is
//     unique by construction and stays the same across the idempotent
//     retries of a send: it is used alone, so that a message the broker
//     stored twice after an unconfirmed send is delivered once;
//   - any other id gets the born timestamp appended ("id.bornMs"): two
//     messages of a native producer that share an id are 65,536 messages
//     apart, so at any rate below 65 million a second they were born in
//     different milliseconds.
//
// A dead letter carries the id it had (ZL_ORIGIN_ID), so that its
// redrive is deduplicated with the original.
func DefaultDedupID(m *primitive.MessageExt) string {
	if v := m.GetProperty(propOrigin); v != "" {
		return v
	}
	id := MessageID(m)
	if at, ok := msgid.IssuedAt(id); ok && m.BornTimestamp > 0 {
		if d := time.UnixMilli(m.BornTimestamp).Sub(at); d < gatewayIDSkew && d > -gatewayIDSkew {
			return id
		}
	}
	if m.BornTimestamp <= 0 {
		return id
	}
	return id + "." + strconv.FormatInt(m.BornTimestamp, 10)
}

// MessageID is the message's gateway id (UNIQ_KEY).
func MessageID(m *primitive.MessageExt) string {
	if id := m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex); id != "" {
		return id
	}
	return m.MsgId
}
