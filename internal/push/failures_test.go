package push_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

type failure struct {
	sub, id, reason string
	attempt         int
}

type fakeErrorLog struct {
	got []failure
	err error
}

func (f *fakeErrorLog) RecordFailure(_ context.Context, sub, id, reason string, attempt int) error {
	f.got = append(f.got, failure{sub, id, reason, attempt})
	return f.err
}

func TestRecordFailures(t *testing.T) {
	tests := []struct {
		name     string
		result   push.Result
		logErr   error
		recorded bool
	}{
		{"delivered", push.Result{Outcome: push.Delivered}, nil, false},
		{"suppressed", push.Result{Outcome: push.Suppressed}, nil, false},
		{"held", push.Result{Err: push.ErrStopping}, nil, false},
		{"retry", push.Result{Outcome: push.Retry, Reason: "HTTP 503"}, nil, true},
		{"dead", push.Result{Outcome: push.Dead, Reason: "HTTP 400 (not retried)"}, nil, true},
		{"gone", push.Result{Outcome: push.Gone, Reason: "410 Gone"}, nil, true},
		{"a failed record keeps the result", push.Result{Outcome: push.Retry, Reason: "timeout"}, errors.New("down"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &fakeErrorLog{err: tc.logErr}
			calls := 0
			m := message("MSG1")
			m.ReconsumeTimes = 2
			got := push.RecordFailures(log, nil)(respond(tc.result, &calls))(context.Background(),
				&push.Delivery{Sub: subscription.Subscription{ID: "s1"}, Msg: m})
			if got != tc.result || calls != 1 {
				t.Errorf("result %+v after %d calls, want %+v after 1", got, calls, tc.result)
			}
			want := []failure{{"s1", "MSG1", tc.result.Reason, 3}}
			if !tc.recorded {
				want = nil
			}
			if len(log.got) != len(want) || (len(want) > 0 && log.got[0] != want[0]) {
				t.Errorf("recorded %+v, want %+v", log.got, want)
			}
		})
	}
}
