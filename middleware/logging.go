package middleware

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/zeroloss/zeroloss/internal/problem"
)

// AccessLog logs one line per request with its id, status and duration.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := recorderFor(w)
			next.ServeHTTP(rec, r)
			level := slog.LevelInfo
			if rec.code() >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(r.Context(), level, "http request",
				slog.String("request_id", GetRequestID(r.Context())),
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.code()), slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)))
		})
	}
}

// Recover turns a panic into a 500 problem and logs it.
func Recover(writeErr ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					writeErr(w, r, problem.Wrap(problem.Internal, "", fmt.Errorf("panic: %v", v)))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
