package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/handlers"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/telemetry"
	"github.com/zeroloss/zeroloss/internal/testenv"
	"github.com/zeroloss/zeroloss/txcallback"
)

// The gateway's own per-request budget for a send (middleware, validation,
// binding, handler; the broker call replaced by a recorder). Allocations
// are counted exactly (TestPublishAllocationBudget); time is measured by
// BenchmarkPublishOverhead, whose ns/op the README keeps against
// publishNanosBudget on a quiet machine (a test never asserts a time).
const (
	publishAllocsBudget = 75
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
	benchOverhead(b, newRouter(&testing.T{}, &recordingSender{}), func() *http.Request { return publishRequest(publishBody) })
}

// benchOverhead serves requests made by req through h, each answered 201.
func benchOverhead(b *testing.B, h http.Handler, req func() *http.Request) {
	benchOverheadStatus(b, h, req, http.StatusCreated)
}

// benchOverheadStatus is benchOverhead for requests answered want.
func benchOverheadStatus(b *testing.B, h http.Handler, req func() *http.Request, want int) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req())
		if rec.Code != want {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	// CPU time per request: unlike ns/op, it holds on a loaded machine.
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
	allocationBudget(t, "send", newRouter(t, &recordingSender{}), func() *http.Request { return publishRequest(publishBody) }, publishAllocsBudget)
}

// allocationBudget fails t when a request made by req, served by h (and
// answered 201), allocates more than budget times.
func allocationBudget(t *testing.T, what string, h http.Handler, req func() *http.Request, budget int) {
	t.Helper()
	allocationBudgetStatus(t, what, h, req, budget, http.StatusCreated)
}

// The gateway's own per-request budget for a send with an Idempotency-Key:
// a send's, plus the key's fingerprint and its two Redis scripts (begin,
// complete) against a real Redis. Only the gateway process is counted
// (Redis's own CPU is not in cpu-ns/op); the two round trips are in ns/op.
// 148 allocations now, of which go-redis ~40 (two pipelines: commands,
// arguments, replies) and the contexts that bound them ~15.
const keyedPublishAllocsBudget = 160

// newKeyedRouter is the send router over a real Redis Idempotency-Key
// store, with a key prefix of its own.
func newKeyedRouter(t testing.TB) http.Handler {
	t.Helper()
	store, err := idempotency.NewStore(testenv.Shared(t).Redis(t), idempotency.Config{
		TTL: time.Hour, Lease: time.Minute, Prefix: "zl:test:keyed:" + msgid.New(time.Now()).String() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	return newRouterStore(t, &recordingSender{}, 4096, store)
}

// keyedRequests returns a maker of sends, each with an Idempotency-Key of
// its own (a first attempt: begin acquires, complete stores the answer).
func keyedRequests() func() *http.Request {
	var n atomic.Int64
	return func() *http.Request {
		req := publishRequest(publishBody)
		req.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(n.Add(1), 10))
		return req
	}
}

// BenchmarkKeyedPublishOverhead is BenchmarkPublishOverhead with an
// Idempotency-Key per request, against a real Redis. Budget:
// keyedPublishAllocsBudget allocs/op.
func BenchmarkKeyedPublishOverhead(b *testing.B) {
	benchOverhead(b, newKeyedRouter(b), keyedRequests())
}

// BenchmarkKeyedPublishParallel is BenchmarkKeyedPublishOverhead with 8
// and 32 requests in flight per CPU (16 and 64 on 2): the scripts of
// concurrent requests share Redis round trips, as in the gateway under load.
func BenchmarkKeyedPublishParallel(b *testing.B) {
	for _, par := range []int{8, 32} {
		b.Run(fmt.Sprintf("c%d", 2*par), func(b *testing.B) {
			benchParallel(b, par, newKeyedRouter(b), keyedRequests())
		})
	}
}

// BenchmarkPublishParallel is BenchmarkPublishOverhead with 16 requests in
// flight (8 per CPU on 2), the plain counterpart of
// BenchmarkKeyedPublishParallel.
func BenchmarkPublishParallel(b *testing.B) {
	benchParallel(b, 8, newRouterStore(b, &recordingSender{}, 4096, unusedStore{}), func() *http.Request { return publishRequest(publishBody) })
}

// benchParallel serves requests made by req through h from par goroutines
// per CPU, each answered 201.
func benchParallel(b *testing.B, par int, h http.Handler, req func() *http.Request) {
	b.ReportAllocs()
	b.SetParallelism(par)
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req())
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// TestKeyedPublishAllocationBudget keeps the allocations of a send with an
// Idempotency-Key (request construction excluded; the Redis client's
// included) within keyedPublishAllocsBudget.
func TestKeyedPublishAllocationBudget(t *testing.T) {
	allocationBudget(t, "keyed send", newKeyedRouter(t), keyedRequests(), keyedPublishAllocsBudget)
}

// The gateway's own per-request budget for a transaction begin, measured
// like a send's (the transaction service replaced by a recorder).
const (
	beginAllocsBudget = 85
	beginNanosBudget  = 20000
)

// recordingTx is the transaction service boundary for the begin budget: it
// answers a begin with a pending transaction (nothing reaches Redis or the
// broker); the other operations are not used.
type recordingTx struct {
	handlers.TxService
}

func (recordingTx) Begin(_ context.Context, in txcallback.BeginInput) (txcallback.Transaction, error) {
	if in.ID == "" { // no Idempotency-Key: the service draws one
		in.ID = "tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H"
	}
	return txcallback.Transaction{ID: in.ID, Tenant: in.Tenant, ProducerID: in.ProducerID, Topic: in.Topic,
		MessageID: in.MessageID, State: txcallback.Pending, CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
}

func newTxRouter(t testing.TB) http.Handler {
	keys, err := auth.NewKeyring([]config.APIKey{{Name: "admin", Key: adminKey, Scopes: []string{"admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := handlers.NewRouter(handlers.RouterDeps{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: keys, Idempotency: unusedStore{},
		API:     handlers.API{Transactions: handlers.NewTransactions(recordingTx{}, 4096, telemetry.Propagator())},
		Health:  handlers.NewHealth(map[string]handlers.Check{}, time.Second, func(*http.Request) string { return "" }),
		Metrics: telemetry.NewMetrics(), TracerProvider: noop.NewTracerProvider(), Propagator: telemetry.Propagator(),
		MaxBodyBytes: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var beginBody = `{"producer":"prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H","topic":"orders-eu","body":"` + strings.Repeat("x", 1024) + `","tag":"T","keys":["k1"]}`

func beginRequest() *http.Request {
	req := httptest.NewRequest("POST", "/v1/transactions", strings.NewReader(beginBody))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// BenchmarkBeginOverhead measures the gateway's own per-request cost of a
// transaction begin (middleware, validation, handler) with the transaction
// service replaced by a recorder. Budget: beginNanosBudget ns/op,
// beginAllocsBudget allocs/op.
func BenchmarkBeginOverhead(b *testing.B) {
	benchOverhead(b, newTxRouter(b), beginRequest)
}

// TestBeginAllocationBudget keeps the allocations of a transaction begin
// through the HTTP stack (request construction excluded) within
// beginAllocsBudget.
func TestBeginAllocationBudget(t *testing.T) {
	allocationBudget(t, "begin", newTxRouter(t), beginRequest, beginAllocsBudget)
}
