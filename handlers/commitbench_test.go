package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/txcallback"
)

// The gateway's own per-request budget for a commit, measured like a
// begin's (the transaction service replaced by a recorder).
const (
	commitAllocsBudget = 55
	commitNanosBudget  = 15000
)

// Decide answers a commit or rollback with the decided transaction.
func (recordingTx) Decide(_ context.Context, tenant, id string, d broker.Decision, authorize func(topic string) error) (txcallback.Transaction, error) {
	if err := authorize("orders-eu"); err != nil {
		return txcallback.Transaction{}, err
	}
	st := txcallback.Committed
	if d == broker.Rollback {
		st = txcallback.RolledBack
	}
	at := time.Unix(1700000000, 0).UTC()
	return txcallback.Transaction{ID: id, Tenant: tenant, ProducerID: "prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H", Topic: "orders-eu",
		MessageID: "0A000001000000000000000000000001", State: st, CreatedAt: at, DecidedAt: at, DecidedBy: "api"}, nil
}

func commitRequest() *http.Request {
	req := httptest.NewRequest("POST", "/v1/transactions/tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H/commit", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	return req
}

// BenchmarkCommitOverhead measures the gateway's own per-request cost of a
// commit (middleware, validation, handler) with the transaction service
// replaced by a recorder. Budget: commitNanosBudget ns/op,
// commitAllocsBudget allocs/op.
func BenchmarkCommitOverhead(b *testing.B) {
	benchOverheadStatus(b, newTxRouter(b), commitRequest, http.StatusOK)
}

// TestCommitAllocationBudget keeps the allocations of a commit through the
// HTTP stack (request construction excluded) within commitAllocsBudget.
func TestCommitAllocationBudget(t *testing.T) {
	allocationBudgetStatus(t, "commit", newTxRouter(t), commitRequest, commitAllocsBudget, http.StatusOK)
}

// allocationBudgetStatus is allocationBudget for requests answered want.
func allocationBudgetStatus(t *testing.T, what string, h http.Handler, req func() *http.Request, budget, want int) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector allocates on its own account")
	}
	const runs = 50
	reqs := make([]*http.Request, runs+1)
	for i := range reqs {
		reqs[i] = req()
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i])
		i++
		if rec.Code != want {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Logf("%.0f allocations per %s (budget %d)", allocs, what, budget)
	if allocs > float64(budget) {
		t.Fatalf("%.0f allocations per %s, over the budget of %d", allocs, what, budget)
	}
}
