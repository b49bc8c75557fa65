package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/delivery"
	"github.com/zeroloss/zeroloss/subscription"
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
			if got := delivery.DedupID(tc.sub, tc.m); got != tc.want {
				t.Errorf("DedupID = %q, want %q", got, tc.want)
			}
			d := &delivery.Delivery{Sub: tc.sub, Msg: tc.m}
			if got := d.DedupID(); got != tc.want {
				t.Errorf("Delivery.DedupID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAttemptCountsFromOne(t *testing.T) {
	for reconsumed, want := range map[int32]int{0: 1, 1: 2, 15: 16} {
		d := &delivery.Delivery{Msg: &primitive.MessageExt{ReconsumeTimes: reconsumed}}
		if got := d.Attempt(); got != want {
			t.Errorf("ReconsumeTimes %d: Attempt = %d, want %d", reconsumed, got, want)
		}
	}
}

func TestChainRunsTheFirstMiddlewareOutermost(t *testing.T) {
	var order []string
	mw := func(name string) delivery.Middleware {
		return func(next delivery.Handler) delivery.Handler {
			return func(ctx context.Context, d *delivery.Delivery) delivery.Result {
				order = append(order, name+" in")
				r := next(ctx, d)
				order = append(order, name+" out")
				return r
			}
		}
	}
	h := delivery.Chain(func(context.Context, *delivery.Delivery) delivery.Result {
		order = append(order, "handler")
		return delivery.Result{Outcome: delivery.Delivered}
	}, mw("a"), mw("b"))
	if r := h(context.Background(), &delivery.Delivery{}); r.Outcome != delivery.Delivered {
		t.Fatalf("result %+v", r)
	}
	want := []string{"a in", "b in", "handler", "b out", "a out"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// respond is a terminal handler that answers r and counts its calls.
func respond(r delivery.Result, calls *int) delivery.Handler {
	return func(context.Context, *delivery.Delivery) delivery.Result {
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
	var err error = fmt.Errorf("redrive: %w", &delivery.NotRedrivableError{MessageID: "MSG1", Reason: "/tag contains a space"})
	var nr *delivery.NotRedrivableError
	if !errors.Is(err, delivery.ErrNotRedrivable) || !errors.As(err, &nr) || nr.MessageID != "MSG1" {
		t.Fatalf("%v: want ErrNotRedrivable naming MSG1", err)
	}
	if got, want := err.Error(), "redrive: delivery: dead letter cannot be sent again: MSG1: /tag contains a space"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
