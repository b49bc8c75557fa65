package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDo is one signed call to an endpoint on loopback that answers
// 200 at once (the delivery path's webhook cost, both ends in-process).
func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	c := NewClient(true, "zeroloss-bench")
	body := make([]byte, 256)
	h := http.Header{"Content-Type": {"application/octet-stream"}, "Ce-Id": {"01A2182F77A16E730CAF59E6CD930000"},
		"Ce-Specversion": {"1.0"}, "Ce-Type": {"org.apache.rocketmq.message"}}
	req := Request{URL: srv.URL + "/hook", ID: "01A2182F77A16E730CAF59E6CD930000", Body: body,
		Secrets: []string{NewSecret()}, Header: h}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Do(ctx, req)
		if err != nil || res.Status != 200 {
			b.Fatalf("%v %d", err, res.Status)
		}
	}
}
