package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/txcallback"
)

// TestProblemTable checks every row of the one error → problem table, the
// pass-through and fallback paths, and that a cause's text never reaches
// the detail a client sees.
func TestProblemTable(t *testing.T) {
	for _, row := range problemTable {
		t.Run(row.kind.Slug+"/"+row.err.Error(), func(t *testing.T) {
			err := fmt.Errorf("deep inside 10.9.8.7: %w", row.err)
			for name, mapper := range map[string]func(error) error{"send": sendProblem, "tx": txProblem, "sub": subProblem} {
				var pe *problem.Error
				if !errors.As(mapper(err), &pe) {
					t.Fatalf("%s: not a problem", name)
				}
				if pe.Kind != row.kind || pe.Detail != row.detail || pe.RetryAfter != row.retry {
					t.Errorf("%s: got %s %q retry %d", name, pe.Kind.Slug, pe.Detail, pe.RetryAfter)
				}
				if !errors.Is(pe.Cause, row.err) {
					t.Errorf("%s: cause lost", name)
				}
			}
		})
	}

	tests := []struct {
		name   string
		mapper func(error) error
		err    error
		kind   problem.Kind
		retry  int
	}{
		{"unknown send error is unconfirmed", sendProblem, errors.New("connection reset"), problem.SendUnconfirmed, 1},
		{"unknown tx error is a dependency", txProblem, errors.New("redis: i/o timeout"), problem.DependencyUnavailable, 1},
		{"unknown sub error is a dependency", subProblem, errors.New("redis: i/o timeout"), problem.DependencyUnavailable, 1},
		{"problem passes through", txProblem, fmt.Errorf("x: %w", problem.New(problem.TransactionConflict, "committed")), problem.TransactionConflict, 0},
		{"invalid subscription", subProblem, &subscription.InvalidError{Reason: "timeoutMs too large"}, problem.Validation, 0},
		{"wrapped unconfirmed beats the fallback", txProblem, fmt.Errorf("half: %w", broker.ErrUnconfirmed), problem.SendUnconfirmed, 1},
		{"wrapped not found", txProblem, fmt.Errorf("get: %w", txcallback.ErrTxNotFound), problem.TransactionNotFound, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pe *problem.Error
			if !errors.As(tc.mapper(tc.err), &pe) {
				t.Fatal("not a problem")
			}
			if pe.Kind != tc.kind || pe.RetryAfter != tc.retry {
				t.Fatalf("got %s retry %d; want %s retry %d", pe.Kind.Slug, pe.RetryAfter, tc.kind.Slug, tc.retry)
			}
			if tc.kind.Status == http.StatusServiceUnavailable && pe.RetryAfter == 0 {
				t.Error("503 without Retry-After")
			}
		})
	}
}
