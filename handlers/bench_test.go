package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkPublishOverhead measures the gateway's own per-request cost of a
// send (middleware, validation, handler) with the broker boundary replaced
// by a recorder: the part of the latency the gateway adds.
func BenchmarkPublishOverhead(b *testing.B) {
	t := &testing.T{}
	h := newRouter(t, &recordingSender{})
	body := `{"body":"` + strings.Repeat("x", 1024) + `","tag":"T","keys":["k1"]}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/v1/topics/orders-eu/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
