package push_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

func TestClassify(t *testing.T) {
	header := func(v string) http.Header { return http.Header{"Retry-After": []string{v}} }
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	anHourAgo := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		resp    webhook.Response
		err     error
		out     push.Outcome
		minWait time.Duration
		maxWait time.Duration
	}{
		{"200", webhook.Response{Status: 200}, nil, push.Delivered, 0, 0},
		{"204", webhook.Response{Status: 204}, nil, push.Delivered, 0, 0},
		{"503 with Retry-After seconds", webhook.Response{Status: 503, Header: header("7")}, nil, push.Retry, 7 * time.Second, 7 * time.Second},
		{"429 with Retry-After date", webhook.Response{Status: 429, Header: header(inAnHour)}, nil, push.Retry, 58 * time.Minute, time.Hour},
		{"503 with Retry-After in the past", webhook.Response{Status: 503, Header: header(anHourAgo)}, nil, push.Retry, 0, 0},
		{"503 with Retry-After malformed", webhook.Response{Status: 503, Header: header("soon")}, nil, push.Retry, 0, 0},
		{"503 with Retry-After zero", webhook.Response{Status: 503, Header: header("0")}, nil, push.Retry, 0, 0},
		{"429", webhook.Response{Status: 429}, nil, push.Retry, 0, 0},
		{"408", webhook.Response{Status: 408}, nil, push.Retry, 0, 0},
		{"500", webhook.Response{Status: 500}, nil, push.Retry, 0, 0},
		{"timeout", webhook.Response{}, fmt.Errorf("x: %w", context.DeadlineExceeded), push.Retry, 0, 0},
		{"refused", webhook.Response{}, errors.New("connection refused"), push.Retry, 0, 0},
		{"400", webhook.Response{Status: 400}, nil, push.Dead, 0, 0},
		{"404", webhook.Response{Status: 404}, nil, push.Dead, 0, 0},
		{"400 ignores Retry-After", webhook.Response{Status: 400, Header: header("7")}, nil, push.Dead, 0, 0},
		{"302 is not followed", webhook.Response{Status: 302}, nil, push.Dead, 0, 0},
		{"410", webhook.Response{Status: 410}, nil, push.Gone, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := push.Classify(tc.resp, tc.err)
			if r.Outcome != tc.out || r.Wait < tc.minWait || r.Wait > tc.maxWait {
				t.Fatalf("Classify = %+v; want %s, wait in [%s, %s]", r, tc.out, tc.minWait, tc.maxWait)
			}
			if (r.Outcome != push.Delivered) != (r.Reason != "") {
				t.Fatalf("Classify = %+v: a reason exactly when not delivered", r)
			}
			if r.Status != tc.resp.Status || r.Err != nil || r.Busy {
				t.Fatalf("Classify = %+v: status %d, no error, not busy", r, tc.resp.Status)
			}
		})
	}
}
