package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// fakeCaller answers every call with resp and err, or, when hang is set,
// waits for the call's context to end.
type fakeCaller struct {
	resp     webhook.Response
	err      error
	hang     bool
	got      []webhook.Request
	deadline time.Duration // left on the call's context when it came
}

func (f *fakeCaller) Do(ctx context.Context, req webhook.Request) (webhook.Response, error) {
	f.got = append(f.got, req)
	if dl, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(dl)
	}
	if f.hang {
		<-ctx.Done()
		return webhook.Response{}, ctx.Err()
	}
	return f.resp, f.err
}

func TestPost(t *testing.T) {
	tests := []struct {
		name   string
		caller *fakeCaller
		want   push.Result
	}{
		{"2xx", &fakeCaller{resp: webhook.Response{Status: 202}}, push.Result{Outcome: push.Delivered, Status: 202}},
		{"503", &fakeCaller{resp: webhook.Response{Status: 503}}, push.Result{Outcome: push.Retry, Status: 503, Reason: "HTTP 503"}},
		{"410", &fakeCaller{resp: webhook.Response{Status: 410}}, push.Result{Outcome: push.Gone, Status: 410, Reason: "410 Gone"}},
		{"connection error", &fakeCaller{err: errors.New("refused")}, push.Result{Outcome: push.Retry, Reason: "connection error"}},
		{"the subscription's timeout", &fakeCaller{hang: true}, push.Result{Outcome: push.Retry, Reason: "timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timeout := time.Hour
			if tc.caller.hang {
				timeout = time.Millisecond
			}
			req := webhook.Request{URL: "https://example.com/hook", ID: "MSG1"}
			got := push.Post(tc.caller)(context.Background(), &push.Delivery{Sub: subscription.Subscription{Timeout: timeout}, Request: req})
			if got != tc.want {
				t.Errorf("result %+v, want %+v", got, tc.want)
			}
			if len(tc.caller.got) != 1 || tc.caller.got[0].ID != "MSG1" || tc.caller.got[0].URL != req.URL {
				t.Errorf("calls %+v, want one with the encoded request", tc.caller.got)
			}
			if tc.caller.deadline <= 0 || tc.caller.deadline > timeout {
				t.Errorf("the call had %s left, want within the subscription's timeout %s", tc.caller.deadline, timeout)
			}
		})
	}
}
