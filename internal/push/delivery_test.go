package push_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestDedupID(t *testing.T) {
	m := &primitive.MessageExt{Message: primitive.Message{}}
	m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG1")
	m.WithKeys([]string{"evt-9", "other"})
	m.WithProperty("eventId", "E7")
	bare := &primitive.MessageExt{Message: primitive.Message{}}
	bare.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG2")
	noUniq := &primitive.MessageExt{MsgId: "OFFSET-ID"}
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
		{"no UNIQ_KEY falls back to the broker's id", subscription.Subscription{DedupSource: subscription.DedupMessageID}, noUniq, "OFFSET-ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := push.DedupID(tc.sub, tc.m); got != tc.want {
				t.Errorf("DedupID = %q, want %q", got, tc.want)
			}
			d := &push.Delivery{Sub: tc.sub, Msg: tc.m}
			if got := d.DedupID(); got != tc.want {
				t.Errorf("Delivery.DedupID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAttemptCountsFromOne(t *testing.T) {
	for reconsumed, want := range map[int32]int{0: 1, 1: 2, 15: 16} {
		d := &push.Delivery{Msg: &primitive.MessageExt{ReconsumeTimes: reconsumed}}
		if got := d.Attempt(); got != want {
			t.Errorf("ReconsumeTimes %d: Attempt = %d, want %d", reconsumed, got, want)
		}
	}
}

func TestChainRunsTheFirstMiddlewareOutermost(t *testing.T) {
	var order []string
	mw := func(name string) push.Middleware {
		return func(next push.Handler) push.Handler {
			return func(ctx context.Context, d *push.Delivery) push.Result {
				order = append(order, name+" in")
				r := next(ctx, d)
				order = append(order, name+" out")
				return r
			}
		}
	}
	h := push.Chain(func(context.Context, *push.Delivery) push.Result {
		order = append(order, "handler")
		return push.Result{Outcome: push.Delivered}
	}, mw("a"), mw("b"))
	if r := h(context.Background(), &push.Delivery{}); r.Outcome != push.Delivered {
		t.Fatalf("result %+v", r)
	}
	want := []string{"a in", "b in", "handler", "b out", "a out"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// respond is a terminal handler that answers r and counts its calls.
func respond(r push.Result, calls *int) push.Handler {
	return func(context.Context, *push.Delivery) push.Result {
		*calls++
		return r
	}
}

// message returns a message with gateway id id.
func message(id string) *primitive.MessageExt {
	m := &primitive.MessageExt{Message: primitive.Message{Topic: "orders", Body: []byte("body")}}
	m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, id)
	return m
}

func TestNotRedrivableErrorIsErrNotRedrivable(t *testing.T) {
	var err error = fmt.Errorf("redrive: %w", &push.NotRedrivableError{MessageID: "MSG1", Reason: "/tag contains a space"})
	var nr *push.NotRedrivableError
	if !errors.Is(err, push.ErrNotRedrivable) || !errors.As(err, &nr) || nr.MessageID != "MSG1" {
		t.Fatalf("%v: want ErrNotRedrivable naming MSG1", err)
	}
	if got, want := err.Error(), "redrive: delivery: dead letter cannot be sent again: MSG1: /tag contains a space"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
