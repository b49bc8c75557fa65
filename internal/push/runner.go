package push

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// runner is one subscription's push consumer on this replica.
type runner struct {
	sub     atomic.Pointer[subscription.Subscription]
	c       rocketmq.PushConsumer
	handle  Handler
	pause   func(ctx context.Context, s subscription.Subscription, reason string) bool
	levels  []time.Duration
	metrics *Metrics
	log     *slog.Logger
	// pauseHold bounds parking a callback after a stored pause (park).
	pauseHold time.Duration
	flight    inflight
	stopping  chan struct{} // closed when the runner starts to stop
	stopped   chan struct{} // closed when the consumer is shut down
}

// runnerDeps are what every runner of a manager shares.
type runnerDeps struct {
	handle    Handler
	pause     func(context.Context, subscription.Subscription, string) bool
	levels    []time.Duration
	metrics   *Metrics
	pauseHold time.Duration
	log       *slog.Logger
}

func newRunner(s subscription.Subscription, deps runnerDeps) *runner {
	r := &runner{handle: deps.handle, pause: deps.pause, levels: deps.levels, metrics: deps.metrics, pauseHold: deps.pauseHold,
		log: deps.log.With(slog.String("subscription", s.ID)), stopping: make(chan struct{}), stopped: make(chan struct{})}
	r.sub.Store(&s)
	return r
}

// consumerKey is what a consumer is built from: a change restarts it.
func consumerKey(s subscription.Subscription) string {
	return fmt.Sprintf("%s|%s|%v|%d|%d", s.Topic, s.TagFilter, s.Ordered, s.Concurrency, s.MaxAttempts)
}

func startRunner(nameServers []string, s subscription.Subscription, deps runnerDeps) (*runner, error) {
	r := newRunner(s, deps)
	opts := []consumer.Option{
		consumer.WithNameServer(nameServers),
		consumer.WithGroupName(s.Group()),
		// A client of its own per subscription: its own rebalance, and a
		// stop of one subscription never touches another.
		consumer.WithInstance(s.Group() + "-" + strconv36(time.Now().UnixNano())),
		consumer.WithConsumerModel(consumer.Clustering),
		// A new group starts at the subscription's creation (a second
		// early for clock skew), so messages sent between the 201 and the
		// consumer's first rebalance are delivered too. (On a topic whose
		// first message is still in the broker's memory, RocketMQ starts a
		// new group at offset 0: the subscription then gets the history.)
		consumer.WithConsumeFromWhere(consumer.ConsumeFromTimestamp),
		consumer.WithConsumeTimestamp(s.CreatedAt.Add(-time.Second).UTC().Format("20060102150405")),
		// The client sends a message back (an attempt) after it was held
		// this long; delivery holds messages while Redis is down, and that
		// must not burn attempts.
		consumer.WithConsumeTimeout(24 * time.Hour),
		consumer.WithMaxReconsumeTimes(int32(s.MaxAttempts - 1)),
		consumer.WithConsumeMessageBatchMaxSize(1),
		consumer.WithConsumeGoroutineNums(s.Concurrency),
		consumer.WithSuspendCurrentQueueTimeMillis(time.Second),
	}
	if s.Ordered {
		opts = append(opts, consumer.WithConsumerOrder(true))
	}
	c, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		return nil, fmt.Errorf("delivery: consumer for %s: %w", s.ID, err)
	}
	expr := s.TagFilter
	if expr == "" {
		expr = "*"
	}
	if err := c.Subscribe(s.Topic, consumer.MessageSelector{Type: consumer.TAG, Expression: expr}, r.consume); err != nil {
		return nil, fmt.Errorf("delivery: subscribe %s to %s: %w", s.ID, s.Topic, err)
	}
	r.c = c
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("delivery: start consumer for %s: %w", s.ID, err)
	}
	return r, nil
}

// consume is the RocketMQ callback (one message at a time): each message
// goes through the chain (handle), then Decide and settle answer RocketMQ.
// Only a 2xx or a suppressed duplicate acknowledges; a panic leaves the
// message unacknowledged.
func (r *runner) consume(ctx context.Context, msgs ...*primitive.MessageExt) (result consumer.ConsumeResult, err error) {
	s := *r.sub.Load()
	retry := later(s.Ordered)
	if !r.flight.enter() {
		<-r.stopped // the queue is dropped: this answer is ignored, the offset stays
		return retry, nil
	}
	inFlight := true
	leave := func() {
		if inFlight {
			inFlight = false
			r.flight.leave()
		}
	}
	defer leave()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("delivery: panic", slog.Any("panic", p))
			result, err = retry, nil
		}
	}()
	for _, m := range msgs {
		res := r.handle(ctx, &Delivery{Sub: s, Msg: m, Stop: r.stopping})
		if res.Err != nil {
			// Stopping: nothing was sent. Wait (not counted as in flight)
			// until the queue is dropped, so this answer is ignored and the
			// offset stays before the message.
			leave()
			<-r.stopped
			return retry, nil
		}
		d := Decide(s, r.levels, m.ReconsumeTimes, res)
		switch {
		case d.Ack:
			continue
		case d.Pause:
			if r.pause(ctx, s, "endpoint answered 410 Gone") {
				leave()
				hold := time.NewTimer(r.pauseHold)
				if !park(r.stopped, hold.C) {
					r.log.Warn("delivery: paused, but the consumer was not stopped; the message is retried")
				}
				hold.Stop()
			}
			return retry, nil
		case d.DeadLetter, d.Exhausted:
			r.metrics.DeadLetters.WithLabelValues(s.ID).Inc()
		}
		return settle(ctx, m, s.Ordered, d), nil
	}
	return consumer.ConsumeSuccess, nil
}

// update swaps in a subscription whose changes need no new consumer.
func (r *runner) update(s subscription.Subscription) { r.sub.Store(&s) }

// stop finishes in-flight deliveries (until ctx ends), then shuts the
// consumer down, which persists its offsets.
func (r *runner) stop(ctx context.Context) {
	close(r.stopping)
	r.c.Suspend()
	if err := r.flight.drain(ctx); err != nil {
		r.log.Warn("delivery: stop", slog.Any("error", err))
	}
	if err := r.c.Shutdown(); err != nil {
		r.log.Warn("delivery: shutdown consumer", slog.Any("error", err))
	}
	close(r.stopped)
}

func strconv36(n int64) string { return fmt.Sprintf("%x", n) }
