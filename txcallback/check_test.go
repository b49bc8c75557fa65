package txcallback

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

func TestParseCheckAnswer(t *testing.T) {
	tests := []struct {
		name    string
		resp    webhook.Response
		err     error
		want    broker.Decision
		outcome string
	}{
		{"commit", webhook.Response{Status: 200, Body: []byte(`{"decision":"commit"}`)}, nil, broker.Commit, "commit"},
		{"rollback on 204", webhook.Response{Status: 204, Body: []byte(`{"decision":"rollback"}`)}, nil, broker.Rollback, "rollback"},
		{"unknown", webhook.Response{Status: 200, Body: []byte(`{"decision":"unknown"}`)}, nil, broker.Unknown, "unknown"},
		{"error body with 200", webhook.Response{Status: 200, Body: []byte(`{"error":"db down"}`)}, nil, broker.Unknown, "bad_body"},
		{"garbage", webhook.Response{Status: 200, Body: []byte(`commit`)}, nil, broker.Unknown, "bad_body"},
		{"wrong case", webhook.Response{Status: 200, Body: []byte(`{"decision":"COMMIT"}`)}, nil, broker.Unknown, "bad_body"},
		{"commit with 500", webhook.Response{Status: 500, Body: []byte(`{"decision":"commit"}`)}, nil, broker.Unknown, "http_500"},
		{"redirect", webhook.Response{Status: 302}, nil, broker.Unknown, "http_302"},
		{"timeout", webhook.Response{}, fmt.Errorf("call: %w", context.DeadlineExceeded), broker.Unknown, "timeout"},
		{"refused", webhook.Response{}, errors.New("connection refused"), broker.Unknown, "unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, outcome := parseCheckAnswer(tc.resp, tc.err)
			if d != tc.want || outcome != tc.outcome {
				t.Fatalf("parseCheckAnswer = %s, %q; want %s, %q", d, outcome, tc.want, tc.outcome)
			}
		})
	}
}
