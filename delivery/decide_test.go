package delivery_test

import (
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/delivery"
	"github.com/zeroloss/zeroloss/subscription"
)

func TestDecide(t *testing.T) {
	levels := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute}
	unordered := subscription.Subscription{MaxAttempts: 5}
	ordered := subscription.Subscription{MaxAttempts: 5, Ordered: true}
	retry := func(wait time.Duration) delivery.Result { return delivery.Result{Outcome: delivery.Retry, Wait: wait} }
	tests := []struct {
		name       string
		sub        subscription.Subscription
		levels     []time.Duration
		reconsumed int32
		result     delivery.Result
		want       delivery.Decision
	}{
		{"delivered acks", unordered, levels, 0, delivery.Result{Outcome: delivery.Delivered}, delivery.Decision{Ack: true}},
		{"suppressed acks", unordered, levels, 3, delivery.Result{Outcome: delivery.Suppressed}, delivery.Decision{Ack: true}},
		{"gone pauses", unordered, levels, 0, delivery.Result{Outcome: delivery.Gone}, delivery.Decision{Pause: true}},
		{"dead dead-letters at once", unordered, levels, 0, delivery.Result{Outcome: delivery.Dead}, delivery.Decision{DeadLetter: true}},
		{"ordered dead dead-letters too", ordered, levels, 0, delivery.Result{Outcome: delivery.Dead}, delivery.Decision{DeadLetter: true}},
		{"retry keeps RocketMQ's backoff", unordered, levels, 0, retry(0), delivery.Decision{}},
		{"the last attempt is exhausted", unordered, levels, 4, retry(0), delivery.Decision{Exhausted: true}},
		{"past the last attempt is exhausted", unordered, levels, 9, retry(0), delivery.Decision{Exhausted: true}},
		{"the attempt before the last is not", unordered, levels, 3, retry(0), delivery.Decision{}},
		{"Retry-After picks the first level that long", unordered, levels, 0, retry(30 * time.Second), delivery.Decision{DelayLevel: 4}},
		{"Retry-After between levels rounds up", unordered, levels, 0, retry(40 * time.Second), delivery.Decision{DelayLevel: 5}},
		{"Retry-After shorter than RocketMQ's next level keeps it", unordered, levels, 0, retry(3 * time.Second), delivery.Decision{}},
		{"RocketMQ's next level grows with the attempts", unordered, levels, 2, retry(time.Minute), delivery.Decision{}},
		{"Retry-After past every level takes the last", unordered, levels, 0, retry(time.Hour), delivery.Decision{DelayLevel: 6}},
		{"Retry-After on the last attempt", unordered, levels, 4, retry(time.Hour), delivery.Decision{Exhausted: true, DelayLevel: 6}},
		{"a busy claim's lease is honoured like Retry-After", unordered, levels, 0,
			delivery.Result{Outcome: delivery.Retry, Wait: 50 * time.Second, Busy: true}, delivery.Decision{DelayLevel: 5}},
		{"ordered ignores Retry-After", ordered, levels, 0, retry(time.Hour), delivery.Decision{}},
		{"ordered exhausts too", ordered, levels, 4, retry(0), delivery.Decision{Exhausted: true}},
		{"no levels known", unordered, nil, 0, retry(time.Hour), delivery.Decision{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.Decide(tc.sub, tc.levels, tc.reconsumed, tc.result); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}
