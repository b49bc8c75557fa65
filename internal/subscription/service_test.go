package subscription_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// TestRetryInputIsAlwaysAccepted: every retry schedule the contract
// allows is stored (none is refused: a schema-valid request must not get
// a 400), normalised as the delivery engine reads it.
func TestRetryInputIsAlwaysAccepted(t *testing.T) {
	svc := subscription.NewService(newStore(t), true)
	s := time.Second
	tests := []struct {
		name         string
		in           subscription.Retry
		delays       []time.Duration
		initial, max time.Duration
	}{
		{"list", subscription.Retry{Delays: []time.Duration{s, 5 * s}}, []time.Duration{s, 5 * s}, 0, 0},
		{"list capped by max", subscription.Retry{Delays: []time.Duration{s, 50 * s}, Max: 10 * s}, []time.Duration{s, 10 * s}, 0, 0},
		{"exponential", subscription.Retry{Initial: 2 * s, Max: time.Minute}, nil, 2 * s, time.Minute},
		{"max alone starts at a second", subscription.Retry{Max: time.Minute}, nil, s, time.Minute},
		{"initial above max", subscription.Retry{Initial: time.Minute, Max: s}, nil, time.Minute, s},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, topic, endpoint := "n", "t", "https://example.com/hook"
			in := tc.in
			got, err := svc.Create(context.Background(), "tenant", subscription.Input{Name: &name, Topic: &topic, Endpoint: &endpoint, Retry: &in})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.RetryDelays, tc.delays) || got.RetryInitial != tc.initial || got.RetryMax != tc.max {
				t.Errorf("stored %v / %v / %v, want %v / %v / %v", got.RetryDelays, got.RetryInitial, got.RetryMax, tc.delays, tc.initial, tc.max)
			}
		})
	}
}
