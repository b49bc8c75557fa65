package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/subscription"
	"github.com/zeroloss/zeroloss/webhook"
)

func TestClassify(t *testing.T) {
	retryAfter := http.Header{"Retry-After": []string{"7"}}
	tests := []struct {
		name string
		resp webhook.Response
		err  error
		out  Outcome
		wait time.Duration
	}{
		{"200", webhook.Response{Status: 200}, nil, Delivered, 0},
		{"204", webhook.Response{Status: 204}, nil, Delivered, 0},
		{"503 with Retry-After", webhook.Response{Status: 503, Header: retryAfter}, nil, Retry, 7 * time.Second},
		{"429", webhook.Response{Status: 429}, nil, Retry, 0},
		{"408", webhook.Response{Status: 408}, nil, Retry, 0},
		{"500", webhook.Response{Status: 500}, nil, Retry, 0},
		{"timeout", webhook.Response{}, fmt.Errorf("x: %w", context.DeadlineExceeded), Retry, 0},
		{"refused", webhook.Response{}, errors.New("connection refused"), Retry, 0},
		{"400", webhook.Response{Status: 400}, nil, Dead, 0},
		{"404", webhook.Response{Status: 404}, nil, Dead, 0},
		{"302 is not followed", webhook.Response{Status: 302}, nil, Dead, 0},
		{"410", webhook.Response{Status: 410}, nil, Gone, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, wait, reason := classify(tc.resp, tc.err)
			if out != tc.out || wait != tc.wait || (out != Delivered && reason == "") {
				t.Fatalf("classify = %s, %s, %q; want %s, %s", out, wait, reason, tc.out, tc.wait)
			}
		})
	}
}

func TestDedupID(t *testing.T) {
	m := &primitive.MessageExt{Message: primitive.Message{}}
	m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG1")
	m.WithKeys([]string{"evt-9", "other"})
	m.WithProperty("eventId", "E7")
	bare := &primitive.MessageExt{Message: primitive.Message{}}
	bare.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG2")
	tests := []struct {
		name string
		sub  subscription.Subscription
		m    *primitive.MessageExt
		want string
	}{
		{"message id", subscription.Subscription{DedupSource: subscription.DedupMessageID}, m, "MSG1"},
		{"first key", subscription.Subscription{DedupSource: subscription.DedupKey}, m, "key:evt-9"},
		{"property", subscription.Subscription{DedupSource: subscription.DedupProperty, DedupProp: "eventId"}, m, "prop:E7"},
		{"no key falls back to the id", subscription.Subscription{DedupSource: subscription.DedupKey}, bare, "MSG2"},
		{"no property falls back to the id", subscription.Subscription{DedupSource: subscription.DedupProperty, DedupProp: "eventId"}, bare, "MSG2"},
	}
	for _, tc := range tests {
		if got := DedupID(tc.sub, tc.m); got != tc.want {
			t.Errorf("%s: DedupID = %q, want %q", tc.name, got, tc.want)
		}
	}
}
