package push

import (
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Decision is what to do with one message after an attempt.
type Decision struct {
	// Ack acknowledges the message (delivered, or suppressed duplicate).
	Ack bool
	// Pause: the endpoint answered 410; pause the subscription and keep
	// the message for after the resume.
	Pause bool
	// DeadLetter stores a copy in the dead-letter queue, then acknowledges.
	DeadLetter bool
	// Delay, for a retry, is how long the message stays hidden before the
	// next attempt (its POP invisible time).
	Delay time.Duration
}

// MinRetryDelay is the shortest wait before a retry.
const MinRetryDelay = time.Second

// Decide turns the Result of attempt (counted from 1) into a Decision, on
// the subscription's retry schedule sc: a retry waits the schedule's delay
// (or the endpoint's Retry-After when longer); after the schedule's last
// attempt, and at once for a non-retryable answer, the message is
// dead-lettered — unless s is ordered and blocks after a dead letter: then
// it is retried at the schedule's last delay, for ever, so its queue keeps
// its order. A message held by another replica (Busy) waits for that
// replica's claim and does not use up the schedule.
func Decide(s subscription.Subscription, sc Schedule, attempt int, r Result) Decision {
	block := s.Ordered && s.AfterDeadLetter == subscription.AfterDeadLetterBlock
	switch r.Outcome {
	case Delivered, Suppressed:
		return Decision{Ack: true}
	case Gone:
		return Decision{Pause: true}
	case Dead:
		if block {
			return Decision{Delay: max(sc.Last(), MinRetryDelay)}
		}
		return Decision{DeadLetter: true}
	}
	if r.Busy {
		return Decision{Delay: max(r.Wait, MinRetryDelay)}
	}
	d, ok := sc.Next(attempt, r.Wait)
	if !ok {
		if block {
			return Decision{Delay: max(sc.Last(), r.Wait, MinRetryDelay)}
		}
		return Decision{DeadLetter: true}
	}
	return Decision{Delay: max(d, MinRetryDelay)}
}
