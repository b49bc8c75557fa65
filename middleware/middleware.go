// Package middleware holds the gateway's HTTP middleware, each a
// func(http.Handler) http.Handler with one concern: request ids, access logs,
// panics, tracing, metrics, authentication, body limits, contract validation
// and idempotency.
package middleware

import "net/http"

// ErrorWriter renders an error as the response (problem.Writer.Write).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)
