package middleware_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/durable"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/testenv"
	"github.com/zeroloss/zeroloss/middleware"
)

// TestIdempotencyMiddleware runs the middleware over the real Redis store.
func TestIdempotencyMiddleware(t *testing.T) {
	store, err := idempotency.NewStore(testenv.Shared(t).Redis(t), idempotency.Config{
		TTL: time.Hour, Lease: time.Minute, Prefix: "zl:test:mw:" + msgid.New(time.Now()).String() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := auth.NewKeyring([]config.APIKey{{Name: "a", Key: "secret-aaa", Scopes: []string{"admin"}}})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pw := problem.Writer{Log: log}

	var calls atomic.Int32
	var status atomic.Int32
	var seeds []string
	h := middleware.Authenticate(keys, pw.Write)(middleware.ReadBody(1<<20, pw.Write)(
		middleware.Idempotency(store, log, pw.Write)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			seeds = append(seeds, msgid.FromContext(r.Context()).ID(0))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(int(status.Load()))
			_, _ = io.WriteString(w, `{"n":`+string(rune('0'+calls.Load()))+`}`)
		}))))
	do := func(key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/things", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret-aaa")
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	// An unconfirmed answer (503) is not kept: the retry runs again, with the same message ids.
	status.Store(503)
	if rec := do("k1", `{"a":1}`); rec.Code != 503 {
		t.Fatalf("first: %d", rec.Code)
	}
	status.Store(201)
	first := do("k1", `{"a":1}`)
	if first.Code != 201 || first.Header().Get("Idempotent-Replayed") != "" || calls.Load() != 2 {
		t.Fatalf("retry after 503: %d, calls %d", first.Code, calls.Load())
	}
	if seeds[0] != seeds[1] {
		t.Fatalf("the retry used message id %s, the first attempt %s", seeds[1], seeds[0])
	}
	// A 2xx is replayed without running the handler.
	replay := do("k1", `{"a":1}`)
	if replay.Code != 201 || replay.Header().Get("Idempotent-Replayed") != "true" || replay.Body.String() != first.Body.String() || calls.Load() != 2 {
		t.Fatalf("replay: %d %q %q, calls %d", replay.Code, replay.Header().Get("Idempotent-Replayed"), replay.Body, calls.Load())
	}
	if rec := do("k1", `{"a":2}`); rec.Code != 422 {
		t.Fatalf("other payload: %d", rec.Code)
	}
	// The same JSON written again differently (a client that serialises
	// its request anew on retry) is the same request: replayed.
	status.Store(201)
	if rec := do("k2", `{"b":[1,"x"],"a":1}`); rec.Code != 201 || calls.Load() != 3 {
		t.Fatalf("k2: %d, calls %d", rec.Code, calls.Load())
	}
	if rec := do("k2", " {\"a\" : 1,\n \"b\": [1, \"\\u0078\"]}"); rec.Code != 201 || rec.Header().Get("Idempotent-Replayed") != "true" || calls.Load() != 3 {
		t.Fatalf("k2 reordered: %d %q, calls %d", rec.Code, rec.Header().Get("Idempotent-Replayed"), calls.Load())
	}
	if rec := do("k2", `{"a":1.0,"b":[1,"x"]}`); rec.Code != 422 {
		t.Fatalf("k2 with 1.0 for 1: %d", rec.Code)
	}
	// Without a key every request runs, each with its own ids.
	do("", `{"a":1}`)
	do("", `{"a":1}`)
	if calls.Load() != 5 || seeds[3] == seeds[4] {
		t.Fatalf("requests without a key: calls %d, ids %v", calls.Load(), seeds)
	}
}

// unreplicated is the real store whose first Complete is stored on the
// master only (durable.Writer's error when no replica confirmed it).
type unreplicated struct {
	*idempotency.Store
	failed atomic.Bool
}

func (u *unreplicated) Complete(ctx context.Context, c idempotency.Claim, resp idempotency.Response) error {
	if err := u.Store.Complete(ctx, c, resp); err != nil {
		return err
	}
	if u.failed.CompareAndSwap(false, true) {
		return fmt.Errorf("idempotency: complete: %w", durable.ErrNotReplicated)
	}
	return nil
}

// TestIdempotencyAnswerNotReplicatedIs503 checks that a 2xx whose record no
// Redis replica confirmed is not given: 503, and the retry replays it.
func TestIdempotencyAnswerNotReplicatedIs503(t *testing.T) {
	base, err := idempotency.NewStore(testenv.Shared(t).Redis(t), idempotency.Config{
		TTL: time.Hour, Lease: time.Minute, Prefix: "zl:test:mwrep:" + msgid.New(time.Now()).String() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	store := &unreplicated{Store: base}
	keys, _ := auth.NewKeyring([]config.APIKey{{Name: "a", Key: "secret-aaa", Scopes: []string{"admin"}}})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pw := problem.Writer{Log: log}
	var calls atomic.Int32
	h := middleware.Authenticate(keys, pw.Write)(middleware.ReadBody(1<<20, pw.Write)(
		middleware.Idempotency(store, log, pw.Write)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"messageId":"m1"}`)
		}))))
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/things", strings.NewReader(`{"a":1}`))
		req.Header.Set("Authorization", "Bearer secret-aaa")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-rep")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("answer stored on the master only: %d %s, want 503 with Retry-After", rec.Code, rec.Body)
	}
	rec := do()
	if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" || rec.Body.String() != `{"messageId":"m1"}` || calls.Load() != 1 {
		t.Fatalf("retry: %d %q %s, calls %d; want the replay of the first answer", rec.Code, rec.Header().Get("Idempotent-Replayed"), rec.Body, calls.Load())
	}
}
