package middleware

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sync"

	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/durable"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/send"
)

// IdempotencyKeyHeader is the request header; ReplayedHeader marks replays.
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
)

// Idempotency makes POSTs with an Idempotency-Key safe to retry. The key is
// scoped to the caller's API key; the fingerprint is the method, path and
// body, a JSON body by its meaning (see send.Fingerprint). A 2xx answer is
// stored and replayed; any other answer reopens the key, keeping the
// request's message-id seed so the retry sends the same ids. Without Redis
// nothing is sent: 503 dependency-unavailable.
func Idempotency(store send.KeyStore, log *slog.Logger, writeErr ErrorWriter) func(http.Handler) http.Handler {
	keys := send.NewKeys(store)
	// Answers are held in writers reused across requests: a writer goes
	// back once its answer is stored and copied out.
	writers := sync.Pool{New: func() any { return &bufferedWriter{header: http.Header{}} }}
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
			claim, err := keys.Begin(r.Context(), p.Name, key, r.Method, r.URL.Path, body, Decoded(r.Context()))
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

			rec := writers.Get().(*bufferedWriter)
			done := false
			defer func() {
				if !done { // the handler panicked: reopen the key, then let Recover answer
					if err := keys.Abandon(r.Context(), claim); err != nil {
						log.Warn("idempotency: release key", slog.Any("error", err))
					}
				}
			}()
			next.ServeHTTP(rec, r.WithContext(msgid.WithSeed(r.Context(), claim.Seed)))
			done = true

			err = keys.Finish(r.Context(), claim, idempotency.Response{
				Status: rec.status, ContentType: rec.header.Get("Content-Type"), Body: rec.body.Bytes()})
			switch {
			case err != nil && errors.Is(err, durable.ErrNotReplicated) && rec.status >= 200 && rec.status < 300:
				// Stored on the Redis master only: a failover could lose
				// it, so the answer is not given. The retry with this key
				// replays it (or, after a failover, runs again with the
				// same message ids).
				writeErr(w, r, problem.Wrap(problem.DependencyUnavailable,
					"the answer could not be stored durably; retry with the same Idempotency-Key", err).WithRetryAfter(1))
				return
			case err != nil:
				// The request itself is answered; a retry after the lease
				// runs again with the same message ids.
				log.Warn("idempotency: finish", slog.String("request_id", GetRequestID(r.Context())), slog.Any("error", err))
			}
			rec.copyTo(w)
			rec.reset()
			writers.Put(rec)
		})
	}
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

// reset empties b for another request. The header's values were handed
// to the real writer's header by copyTo and are left untouched.
func (b *bufferedWriter) reset() {
	clear(b.header)
	b.status = 0
	b.body.Reset()
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
