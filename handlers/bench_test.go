package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// The gateway's own per-request budget for a send (middleware, validation,
// binding, handler; the broker call replaced by a recorder). Allocations
// are counted exactly (TestPublishAllocationBudget); time is measured by
// BenchmarkPublishOverhead, whose ns/op the README keeps against
// publishNanosBudget on a quiet machine (a test never asserts a time).
const (
	publishAllocsBudget = 100
	publishNanosBudget  = 15000
)

func publishRequest(body string) *http.Request {
	req := httptest.NewRequest("POST", "/v1/topics/orders-eu/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	return req
}

var publishBody = `{"body":"` + strings.Repeat("x", 1024) + `","tag":"T","keys":["k1"]}`

// BenchmarkPublishOverhead measures the gateway's own per-request cost of a
// send (middleware, validation, handler) with the broker boundary replaced
// by a recorder: the part of the latency the gateway adds. Budget:
// publishNanosBudget ns/op, publishAllocsBudget allocs/op.
func BenchmarkPublishOverhead(b *testing.B) {
	t := &testing.T{}
	h := newRouter(t, &recordingSender{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, publishRequest(publishBody))
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d", rec.Code)
		}
	}
	// CPU time per send: unlike ns/op, it holds on a loaded machine.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time this process used so far, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestPublishAllocationBudget keeps the allocations of a send through the
// HTTP stack (request construction excluded) within publishAllocsBudget.
func TestPublishAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own account")
	}
	h := newRouter(t, &recordingSender{})
	const runs = 50
	reqs := make([]*http.Request, runs+1)
	for i := range reqs {
		reqs[i] = publishRequest(publishBody)
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i])
		i++
		if rec.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Logf("%.0f allocations per send (budget %d)", allocs, publishAllocsBudget)
	if allocs > publishAllocsBudget {
		t.Fatalf("%.0f allocations per send, over the budget of %d", allocs, publishAllocsBudget)
	}
}
