package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/internal/problem"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		slug       string
		retryAfter string
	}{
		{"plain error is internal", errors.New("db password is hunter2"), 500, "internal", ""},
		{"problem", problem.New(problem.Forbidden, "no"), 403, "forbidden", ""},
		{"wrapped problem", fmt.Errorf("ctx: %w", problem.New(problem.NotFound, "x")), 404, "not-found", ""},
		{"cause hidden", problem.Wrap(problem.SendUnconfirmed, "retry", errors.New("dial 10.0.0.1:10911: refused")).WithRetryAfter(2), 503, "send-unconfirmed", "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			problem.Writer{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}.Write(rec, httptest.NewRequest("GET", "/x", nil), tc.err)
			var body struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || body.Status != tc.status || body.Type != problem.TypeBase+tc.slug || body.Title == "" {
				t.Fatalf("got %d %+v", rec.Code, body)
			}
			if rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("headers %v", rec.Header())
			}
			if s := rec.Body.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "10.0.0.1") {
				t.Fatalf("internal text leaked: %s", s)
			}
		})
	}
}
