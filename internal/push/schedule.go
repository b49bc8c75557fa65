package push

import (
	"math/rand/v2"
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Default retry schedule of a subscription that sets none: Svix's, about
// 27.6 h from the first attempt to the last of 8.
var DefaultRetryDelays = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// MaxRetryDelay is the longest single wait a schedule may ask for: a
// retry is a POP invisible time, kept in the broker's timer wheel, whose
// horizon is three days by default (timerMaxDelaySec).
const MaxRetryDelay = 24 * time.Hour

// Schedule is when a failed message is attempted again, and when it is
// dead-lettered instead. The zero value retries at once and never gives
// up; use ScheduleOf.
type Schedule struct {
	// Attempts is how many attempts a message gets in all; 0 = no limit.
	Attempts int
	// Delays, when set, are the waits before the second, third …
	// attempt; the last repeats.
	Delays []time.Duration
	// Initial and Max shape the exponential schedule used without Delays:
	// Initial×2^(n−1) capped at Max, with "equal jitter" (a random half
	// of it), so that retries of one burst spread out.
	Initial, Max time.Duration
	// RetryAfterMax caps how long an endpoint's Retry-After may delay the
	// next attempt.
	RetryAfterMax time.Duration
	// Rand returns a number in [0, 1) (jitter); default math/rand/v2.
	Rand func() float64
}

// ScheduleOf is the retry schedule of s, with Retry-After capped at
// retryAfterMax.
func ScheduleOf(s subscription.Subscription, retryAfterMax time.Duration) Schedule {
	sc := Schedule{Attempts: s.MaxAttempts, Delays: s.RetryDelays, Initial: s.RetryInitial, Max: s.RetryMax, RetryAfterMax: retryAfterMax}
	if len(sc.Delays) == 0 && sc.Initial <= 0 {
		sc.Delays = DefaultRetryDelays
	}
	return sc
}

// Next returns the wait before the attempt after attempt (counted from 1)
// and true, or false when attempt was the last: the message is
// dead-lettered. retryAfter is what the endpoint asked for (Retry-After),
// or 0: the wait is the schedule's, or the endpoint's when that is longer
// (capped at RetryAfterMax, and at MaxRetryDelay).
func (sc Schedule) Next(attempt int, retryAfter time.Duration) (time.Duration, bool) {
	if sc.Attempts > 0 && attempt >= sc.Attempts {
		return 0, false
	}
	d := sc.delay(max(attempt, 1))
	if retryAfter > d {
		if sc.RetryAfterMax > 0 {
			retryAfter = min(retryAfter, sc.RetryAfterMax)
		}
		d = max(d, retryAfter)
	}
	return min(d, MaxRetryDelay), true
}

// Last is the wait the schedule asks for once it is past its end (an
// ordered subscription that blocks after a dead letter retries at it).
func (sc Schedule) Last() time.Duration {
	if len(sc.Delays) > 0 {
		return min(sc.Delays[len(sc.Delays)-1], MaxRetryDelay)
	}
	return min(max(sc.Max, sc.Initial), MaxRetryDelay)
}

func (sc Schedule) delay(attempt int) time.Duration {
	if len(sc.Delays) > 0 {
		return sc.Delays[min(attempt, len(sc.Delays))-1]
	}
	d := sc.Initial
	for i := 1; i < attempt && (sc.Max <= 0 || d < sc.Max) && d < MaxRetryDelay; i++ {
		d *= 2
	}
	if sc.Max > 0 {
		d = min(d, sc.Max)
	}
	r := sc.Rand
	if r == nil {
		r = rand.Float64
	}
	half := d / 2
	return half + time.Duration(r()*float64(d-half))
}
