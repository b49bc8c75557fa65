package push_test

import (
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestDecide(t *testing.T) {
	sc := push.Schedule{Attempts: 4, Delays: []time.Duration{2 * time.Second, time.Minute, time.Hour}, RetryAfterMax: 2 * time.Hour}
	unordered := subscription.Subscription{MaxAttempts: 4}
	ordered := subscription.Subscription{MaxAttempts: 4, Ordered: true}
	blocking := subscription.Subscription{MaxAttempts: 4, Ordered: true, AfterDeadLetter: subscription.AfterDeadLetterBlock}
	retry := func(wait time.Duration) push.Result { return push.Result{Outcome: push.Retry, Wait: wait} }
	tests := []struct {
		name    string
		sub     subscription.Subscription
		attempt int
		result  push.Result
		want    push.Decision
	}{
		{"delivered acks", unordered, 1, push.Result{Outcome: push.Delivered}, push.Decision{Ack: true}},
		{"suppressed acks", unordered, 3, push.Result{Outcome: push.Suppressed}, push.Decision{Ack: true}},
		{"gone pauses", unordered, 1, push.Result{Outcome: push.Gone}, push.Decision{Pause: true}},
		{"dead dead-letters at once", unordered, 1, push.Result{Outcome: push.Dead}, push.Decision{DeadLetter: true}},
		{"ordered dead dead-letters too", ordered, 1, push.Result{Outcome: push.Dead}, push.Decision{DeadLetter: true}},
		{"a blocking ordered subscription retries a dead one at the last delay", blocking, 1, push.Result{Outcome: push.Dead}, push.Decision{Delay: time.Hour}},
		{"the first retry waits the first delay", unordered, 1, retry(0), push.Decision{Delay: 2 * time.Second}},
		{"the schedule grows", unordered, 2, retry(0), push.Decision{Delay: time.Minute}},
		{"the last attempt dead-letters", unordered, 4, retry(0), push.Decision{DeadLetter: true}},
		{"past the last attempt dead-letters", unordered, 9, retry(0), push.Decision{DeadLetter: true}},
		{"ordered exhausts too", ordered, 4, retry(0), push.Decision{DeadLetter: true}},
		{"a blocking ordered subscription never dead-letters", blocking, 4, retry(0), push.Decision{Delay: time.Hour}},
		{"Retry-After longer than the schedule wins", unordered, 1, retry(30 * time.Second), push.Decision{Delay: 30 * time.Second}},
		{"Retry-After shorter than the schedule loses", unordered, 2, retry(3 * time.Second), push.Decision{Delay: time.Minute}},
		{"Retry-After is capped", unordered, 1, retry(48 * time.Hour), push.Decision{Delay: 2 * time.Hour}},
		{"ordered honours Retry-After", ordered, 1, retry(30 * time.Second), push.Decision{Delay: 30 * time.Second}},
		{"a busy claim waits for its lease and keeps the schedule", unordered, 4,
			push.Result{Outcome: push.Retry, Wait: 50 * time.Second, Busy: true}, push.Decision{Delay: 50 * time.Second}},
		{"a busy claim waits at least a second", unordered, 1,
			push.Result{Outcome: push.Retry, Busy: true}, push.Decision{Delay: push.MinRetryDelay}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := push.Decide(tc.sub, sc, tc.attempt, tc.result); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	half := func() float64 { return 0.5 }
	exp := push.Schedule{Attempts: 10, Initial: time.Second, Max: time.Minute, Rand: half}
	list := push.Schedule{Attempts: 5, Delays: []time.Duration{time.Second, 10 * time.Second}}
	tests := []struct {
		name    string
		sc      push.Schedule
		attempt int
		wait    time.Duration
		want    time.Duration
		ok      bool
	}{
		{"exponential first (equal jitter: half + half of the rest)", exp, 1, 0, 750 * time.Millisecond, true},
		{"exponential doubles", exp, 3, 0, 3 * time.Second, true},
		{"exponential is capped", exp, 9, 0, 45 * time.Second, true},
		{"exponential ends", exp, 10, 0, 0, false},
		{"list", list, 1, 0, time.Second, true},
		{"list's last entry repeats", list, 4, 0, 10 * time.Second, true},
		{"list ends", list, 5, 0, 0, false},
		{"Retry-After longer", list, 1, 5 * time.Second, 5 * time.Second, true},
		{"no limit without attempts", push.Schedule{Delays: []time.Duration{time.Second}}, 1000, 0, time.Second, true},
		{"never past a day", push.Schedule{Delays: []time.Duration{48 * time.Hour}}, 1, 0, push.MaxRetryDelay, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.sc.Next(tc.attempt, tc.wait)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Next(%d, %v) = %v, %v; want %v, %v", tc.attempt, tc.wait, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestDefaultScheduleSpansADay: a subscription that sets no schedule is
// retried for more than 24 h before its message is dead-lettered.
func TestDefaultScheduleSpansADay(t *testing.T) {
	sc := push.ScheduleOf(subscription.Subscription{MaxAttempts: len(push.DefaultRetryDelays) + 1}, time.Hour)
	var total time.Duration
	for a := 1; ; a++ {
		d, ok := sc.Next(a, 0)
		if !ok {
			break
		}
		total += d
	}
	if total < 24*time.Hour {
		t.Fatalf("default schedule spans %v, want at least 24h", total)
	}
}
