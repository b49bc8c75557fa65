// Package contracttest answers, for tests, whether the generic validator
// (kin-openapi against api/openapi.yaml, as the router runs it without the
// typed decoders) accepts a request: the reference the typed checks that
// let requests skip kin-openapi are compared with.
package contracttest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/middleware"
)

// Accepts returns whether the contract accepts a POST to path with body
// (sent as JSON when not empty) and the header name/value pairs given.
func Accepts(t testing.TB) func(path string, body []byte, header ...string) bool {
	t.Helper()
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	v, err := middleware.NewValidator(doc, func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusBadRequest)
	})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	return func(path string, body []byte, header ...string) bool {
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		if len(body) > 0 {
			r.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Add(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code == http.StatusNoContent
	}
}
