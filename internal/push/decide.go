package push

import (
	"context"
	"math"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Decision is what to tell RocketMQ about one message after an attempt.
type Decision struct {
	// Ack acknowledges the message (delivered, or suppressed duplicate).
	Ack bool
	// Pause: the endpoint answered 410; pause the subscription and keep
	// the message for after the resume.
	Pause bool
	// DeadLetter moves the message to the dead-letter queue now.
	DeadLetter bool
	// Exhausted: a retry of the last allowed attempt; the broker moves
	// the message to the dead-letter queue.
	Exhausted bool
	// DelayLevel (unordered retries only) is the broker's delay level,
	// from 1, for the next attempt; 0 leaves RocketMQ's own backoff.
	DelayLevel int
}

// Decide turns a Result into a Decision for a message consumed
// reconsumeTimes times before, with the brokers' delay levels: Retry-After
// picks the first level at least that long, unless RocketMQ's own next
// level (3 + reconsumeTimes) is already later; a wait past every level
// takes the last. An ordered subscription keeps RocketMQ's pace (it
// suspends the queue), so it never gets a level.
func Decide(s subscription.Subscription, levels []time.Duration, reconsumeTimes int32, r Result) Decision {
	switch r.Outcome {
	case Delivered, Suppressed:
		return Decision{Ack: true}
	case Gone:
		return Decision{Pause: true}
	case Dead:
		return Decision{DeadLetter: true}
	}
	d := Decision{Exhausted: int(reconsumeTimes)+1 >= s.MaxAttempts}
	if s.Ordered || r.Wait <= 0 || len(levels) == 0 {
		return d
	}
	for i, l := range levels {
		if l >= r.Wait {
			// The broker counts levels from 1.
			if lvl := i + 1; lvl > 3+int(reconsumeTimes) {
				d.DelayLevel = lvl
			}
			return d
		}
	}
	d.DelayLevel = len(levels)
	return d
}

// settle applies d to the consume context and returns RocketMQ's answer:
// success for Ack, otherwise "later" (ConsumeRetryLater, or for an ordered
// subscription SuspendCurrentQueueAMoment). A dead letter gets a negative
// delay level (concurrent consumers) or a reconsume count past any maximum
// (orderly): either way the broker moves it to %DLQ%<group> at once.
func settle(ctx context.Context, m *primitive.MessageExt, ordered bool, d Decision) consumer.ConsumeResult {
	if d.Ack {
		return consumer.ConsumeSuccess
	}
	cc, concurrent := primitive.GetConcurrentlyCtx(ctx)
	switch {
	case d.DeadLetter && concurrent:
		cc.DelayLevelWhenNextConsume = -1
	case d.DeadLetter:
		m.ReconsumeTimes = math.MaxInt32 - 1
	case d.DelayLevel > 0 && concurrent:
		cc.DelayLevelWhenNextConsume = d.DelayLevel
	}
	return later(ordered)
}

// later is RocketMQ's "not now" for the subscription's consumer kind.
func later(ordered bool) consumer.ConsumeResult {
	if ordered {
		return consumer.SuspendCurrentQueueAMoment
	}
	return consumer.ConsumeRetryLater
}
