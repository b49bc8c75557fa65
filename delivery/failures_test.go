package delivery_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zeroloss/zeroloss/delivery"
	"github.com/zeroloss/zeroloss/subscription"
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
		result   delivery.Result
		logErr   error
		recorded bool
	}{
		{"delivered", delivery.Result{Outcome: delivery.Delivered}, nil, false},
		{"suppressed", delivery.Result{Outcome: delivery.Suppressed}, nil, false},
		{"held", delivery.Result{Err: delivery.ErrStopping}, nil, false},
		{"retry", delivery.Result{Outcome: delivery.Retry, Reason: "HTTP 503"}, nil, true},
		{"dead", delivery.Result{Outcome: delivery.Dead, Reason: "HTTP 400 (not retried)"}, nil, true},
		{"gone", delivery.Result{Outcome: delivery.Gone, Reason: "410 Gone"}, nil, true},
		{"a failed record keeps the result", delivery.Result{Outcome: delivery.Retry, Reason: "timeout"}, errors.New("down"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &fakeErrorLog{err: tc.logErr}
			calls := 0
			m := message("MSG1")
			m.ReconsumeTimes = 2
			got := delivery.RecordFailures(log, nil)(respond(tc.result, &calls))(context.Background(),
				&delivery.Delivery{Sub: subscription.Subscription{ID: "s1"}, Msg: m})
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
