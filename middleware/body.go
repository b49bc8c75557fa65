package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/zeroloss/zeroloss/internal/problem"
)

// ReadBody reads the whole request body, at most max bytes (413 beyond),
// requires application/json on requests with a body (415 otherwise), and
// replaces r.Body with the buffered bytes so later readers (validation,
// idempotency fingerprint, handler) see the same payload.
func ReadBody(max int64, writeErr ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > max {
				writeErr(w, r, problem.New(problem.PayloadTooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d", r.ContentLength, max)))
				return
			}
			data, err := readAll(http.MaxBytesReader(w, r.Body, max), r.ContentLength)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeErr(w, r, problem.New(problem.PayloadTooLarge, fmt.Sprintf("the body is over the limit of %d bytes", max)))
					return
				}
				writeErr(w, r, problem.Wrap(problem.Validation, "the body could not be read", err))
				return
			}
			if len(data) > 0 {
				mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil || mt != "application/json" {
					writeErr(w, r, problem.New(problem.UnsupportedMediaType, "send the body as application/json"))
					return
				}
			}
			r.Body = newBodyReader(data)
			r.GetBody = func() (io.ReadCloser, error) { return newBodyReader(data), nil }
			next.ServeHTTP(w, r)
		})
	}
}

// readAll reads r to its end into one buffer of the announced size (n < 0:
// unknown).
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n < 0 || n > 1<<20 {
		return io.ReadAll(r)
	}
	var buf bytes.Buffer
	buf.Grow(int(n) + bytes.MinRead)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// bodyReader reads a body ReadBody buffered, and hands the buffer itself
// to later readers in the chain (bufferedBody), without a copy.
type bodyReader struct {
	bytes.Reader
	data []byte
}

func newBodyReader(data []byte) *bodyReader {
	b := &bodyReader{data: data}
	b.Reset(data)
	return b
}

func (*bodyReader) Close() error { return nil }

// bufferedBody returns the body buffered by ReadBody (read-only: it is the
// request's own buffer).
func bufferedBody(r *http.Request) ([]byte, error) {
	if r.GetBody == nil {
		return nil, nil
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if b, ok := rc.(*bodyReader); ok {
		return b.data, nil
	}
	return io.ReadAll(rc)
}
