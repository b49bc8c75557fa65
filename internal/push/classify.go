package push

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// Classify maps the endpoint's answer (or the call's error) to a Result:
// 2xx Delivered; 410 Gone; 408, 429 and 5xx Retry, honouring Retry-After
// (seconds or an HTTP date); a timeout or connection error Retry; every
// other status (other 4xx, a redirect, 1xx) Dead.
func Classify(resp webhook.Response, err error) Result {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Result{Outcome: Retry, Reason: "timeout"}
	case err != nil:
		return Result{Outcome: Retry, Reason: "connection error"}
	case resp.Status >= 200 && resp.Status < 300:
		return Result{Outcome: Delivered, Status: resp.Status}
	case resp.Status == http.StatusGone:
		return Result{Outcome: Gone, Status: resp.Status, Reason: "410 Gone"}
	case resp.Status == http.StatusRequestTimeout || resp.Status == http.StatusTooManyRequests || resp.Status >= 500:
		return Result{Outcome: Retry, Status: resp.Status, Wait: retryAfter(resp.Header, time.Now()), Reason: "HTTP " + strconv.Itoa(resp.Status)}
	}
	return Result{Outcome: Dead, Status: resp.Status, Reason: "HTTP " + strconv.Itoa(resp.Status) + " (not retried)"}
}

// retryAfter reads a Retry-After header (delay-seconds or an HTTP date)
// relative to now; 0 when absent, malformed or past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
