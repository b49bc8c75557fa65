package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// IdempotencyStore keeps Idempotency-Key records (idempotency.Store).
// Begin claims a key; the claimant must Complete it with the answer to keep
// or Release it so a retry may run. Both must be safe to call after the
// request's context is cancelled.
type IdempotencyStore interface {
	Begin(ctx context.Context, scope, key, fingerprint string) (idempotency.Claim, error)
	Complete(ctx context.Context, c idempotency.Claim, resp idempotency.Response) error
	Release(ctx context.Context, c idempotency.Claim) error
}

// IdempotencyKeyHeader is the request header; ReplayedHeader marks replays.
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
)

// Idempotency makes POSTs with an Idempotency-Key safe to retry. The key is
// scoped to the caller's API key; the fingerprint is the method, path and
// body, a JSON body by its meaning (see fingerprint). A 2xx answer is
// stored and replayed; any other answer reopens the key, keeping the
// request's message-id seed so the retry sends the same ids. Without Redis
// nothing is sent: 503 dependency-unavailable.
func Idempotency(store IdempotencyStore, log *slog.Logger, writeErr ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(IdempotencyKeyHeader)
			if key == "" || r.Method != http.MethodPost {
				next.ServeHTTP(w, r)
				return
			}
			p, _ := auth.FromContext(r.Context())
			body, err := bufferedBody(r)
			if err != nil {
				writeErr(w, r, problem.Wrap(problem.Internal, "", err))
				return
			}
			claim, err := store.Begin(r.Context(), p.Name, key, fingerprint(r, body))
			if err != nil {
				writeErr(w, r, problem.Wrap(problem.DependencyUnavailable,
					"the Idempotency-Key store is unreachable; nothing was sent, retry later", err).WithRetryAfter(1))
				return
			}
			switch claim.Outcome {
			case idempotency.Replayed:
				h := w.Header()
				h.Set("Content-Type", claim.Response.ContentType)
				h.Set(ReplayedHeader, "true")
				w.WriteHeader(claim.Response.Status)
				_, _ = w.Write(claim.Response.Body)
				return
			case idempotency.InProgress:
				secs := int(math.Ceil(claim.RetryAfter.Seconds()))
				writeErr(w, r, problem.New(problem.IdempotencyKeyInUse,
					"a request with this Idempotency-Key is still running; retry later").WithRetryAfter(max(secs, 1)))
				return
			case idempotency.Mismatch:
				writeErr(w, r, problem.New(problem.IdempotencyKeyReused,
					"this Idempotency-Key was used with another payload; use a new key for a new request"))
				return
			}

			rec := &bufferedWriter{header: http.Header{}}
			done := false
			defer func() {
				if !done { // the handler panicked: reopen the key, then let Recover answer
					releaseClaim(store, log, claim)
				}
			}()
			next.ServeHTTP(rec, r.WithContext(msgid.WithSeed(r.Context(), claim.Seed)))
			done = true

			if rec.status >= 200 && rec.status < 300 {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
				err := store.Complete(ctx, claim, idempotency.Response{
					Status: rec.status, ContentType: rec.header.Get("Content-Type"), Body: rec.body.Bytes()})
				cancel()
				if err != nil {
					// The request itself succeeded; a retry after the lease
					// runs again with the same message ids.
					log.Warn("idempotency: store answer", slog.String("request_id", GetRequestID(r.Context())), slog.Any("error", err))
				}
			} else {
				releaseClaim(store, log, claim)
			}
			rec.copyTo(w)
		})
	}
}

func releaseClaim(store IdempotencyStore, log *slog.Logger, c idempotency.Claim) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.Release(ctx, c); err != nil {
		log.Warn("idempotency: release key", slog.Any("error", err))
	}
}

// fingerprint identifies what a request asks for, for its Idempotency-Key:
// the method, the path and the body. A body that is one JSON value counts
// by what the handlers decode from it, so a client that serialises the same
// request again on retry (members in another order, other whitespace or
// string escapes) is replayed rather than refused; numbers count as written
// (1 and 1.0 differ). Any other body counts byte for byte. Each part is
// tagged and length-prefixed, so no two different requests share a
// fingerprint by moving bytes from one part to another.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	part := func(tag byte, b []byte) {
		var hdr [9]byte
		hdr[0] = tag
		binary.BigEndian.PutUint64(hdr[1:], uint64(len(b)))
		h.Write(hdr[:])
		h.Write(b)
	}
	part('m', []byte(r.Method))
	part('p', []byte(r.URL.Path))
	if c, ok := canonicalJSON(body); ok {
		part('j', c)
	} else {
		part('b', body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes a body that is exactly one JSON value: object
// members sorted by name, no insignificant whitespace, numbers as written.
func canonicalJSON(b []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false // a second value or trailing bytes
	}
	c, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return c, true
}

// bufferedWriter holds a handler's answer until the idempotency record is
// written, so a retry never sees "done" before the client could.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
