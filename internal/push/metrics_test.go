package push_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestCount(t *testing.T) {
	tests := []struct {
		name   string
		result push.Result
		label  string // "" when nothing is counted
	}{
		{"delivered", push.Result{Outcome: push.Delivered}, "delivered"},
		{"suppressed", push.Result{Outcome: push.Suppressed}, "suppressed"},
		{"retry", push.Result{Outcome: push.Retry}, "retry"},
		{"busy", push.Result{Outcome: push.Retry, Busy: true}, "busy"},
		{"dead", push.Result{Outcome: push.Dead}, "dead"},
		{"gone", push.Result{Outcome: push.Gone}, "gone"},
		{"held is not an attempt", push.Result{Err: push.ErrStopping}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := push.NewMetrics(prometheus.NewRegistry())
			calls := 0
			got := push.Count(m)(respond(tc.result, &calls))(context.Background(), &push.Delivery{Sub: subscription.Subscription{ID: "s1"}})
			if got != tc.result {
				t.Fatalf("result %+v", got)
			}
			want := 0
			if tc.label != "" {
				want = 1
				if n := written(t, m.Deliveries.WithLabelValues("s1", tc.label)).GetCounter().GetValue(); n != 1 {
					t.Errorf("%s counted %v times, want 1", tc.label, n)
				}
			}
			if n := series(m.Deliveries); n != want {
				t.Errorf("%d series, want %d", n, want)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	m := push.NewMetrics(prometheus.NewRegistry())
	calls := 0
	h := push.Latency(m)(respond(push.Result{Outcome: push.Retry}, &calls))
	for range 3 {
		h(context.Background(), &push.Delivery{Sub: subscription.Subscription{ID: "s1"}})
	}
	if calls != 3 || series(m.Seconds) != 1 {
		t.Fatalf("%d calls, %d series", calls, series(m.Seconds))
	}
	if n := written(t, m.Seconds.WithLabelValues("s1").(prometheus.Histogram)).GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("%d observations, want 3", n)
	}
}

// written is c's current value.
func written(t *testing.T, c prometheus.Metric) *dto.Metric {
	t.Helper()
	pb := &dto.Metric{}
	if err := c.Write(pb); err != nil {
		t.Fatal(err)
	}
	return pb
}

// series counts the series c has.
func series(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	return len(ch)
}
