package push_test

import (
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestDecide(t *testing.T) {
	levels := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute}
	unordered := subscription.Subscription{MaxAttempts: 5}
	ordered := subscription.Subscription{MaxAttempts: 5, Ordered: true}
	retry := func(wait time.Duration) push.Result { return push.Result{Outcome: push.Retry, Wait: wait} }
	tests := []struct {
		name       string
		sub        subscription.Subscription
		levels     []time.Duration
		reconsumed int32
		result     push.Result
		want       push.Decision
	}{
		{"delivered acks", unordered, levels, 0, push.Result{Outcome: push.Delivered}, push.Decision{Ack: true}},
		{"suppressed acks", unordered, levels, 3, push.Result{Outcome: push.Suppressed}, push.Decision{Ack: true}},
		{"gone pauses", unordered, levels, 0, push.Result{Outcome: push.Gone}, push.Decision{Pause: true}},
		{"dead dead-letters at once", unordered, levels, 0, push.Result{Outcome: push.Dead}, push.Decision{DeadLetter: true}},
		{"ordered dead dead-letters too", ordered, levels, 0, push.Result{Outcome: push.Dead}, push.Decision{DeadLetter: true}},
		{"retry keeps RocketMQ's backoff", unordered, levels, 0, retry(0), push.Decision{}},
		{"the last attempt is exhausted", unordered, levels, 4, retry(0), push.Decision{Exhausted: true}},
		{"past the last attempt is exhausted", unordered, levels, 9, retry(0), push.Decision{Exhausted: true}},
		{"the attempt before the last is not", unordered, levels, 3, retry(0), push.Decision{}},
		{"Retry-After picks the first level that long", unordered, levels, 0, retry(30 * time.Second), push.Decision{DelayLevel: 4}},
		{"Retry-After between levels rounds up", unordered, levels, 0, retry(40 * time.Second), push.Decision{DelayLevel: 5}},
		{"Retry-After shorter than RocketMQ's next level keeps it", unordered, levels, 0, retry(3 * time.Second), push.Decision{}},
		{"RocketMQ's next level grows with the attempts", unordered, levels, 2, retry(time.Minute), push.Decision{}},
		{"Retry-After past every level takes the last", unordered, levels, 0, retry(time.Hour), push.Decision{DelayLevel: 6}},
		{"Retry-After on the last attempt", unordered, levels, 4, retry(time.Hour), push.Decision{Exhausted: true, DelayLevel: 6}},
		{"a busy claim's lease is honoured like Retry-After", unordered, levels, 0,
			push.Result{Outcome: push.Retry, Wait: 50 * time.Second, Busy: true}, push.Decision{DelayLevel: 5}},
		{"ordered ignores Retry-After", ordered, levels, 0, retry(time.Hour), push.Decision{}},
		{"ordered exhausts too", ordered, levels, 4, retry(0), push.Decision{Exhausted: true}},
		{"no levels known", unordered, nil, 0, retry(time.Hour), push.Decision{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := push.Decide(tc.sub, tc.levels, tc.reconsumed, tc.result); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}
