package push_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// encoded runs Encode on d and returns the request it built.
func encoded(t *testing.T, ctx context.Context, d *push.Delivery, now time.Time) webhook.Request {
	t.Helper()
	calls := 0
	var got webhook.Request
	h := push.Encode(propagation.TraceContext{}, func() time.Time { return now })(func(_ context.Context, d *push.Delivery) push.Result {
		calls++
		got = d.Request
		return push.Result{Outcome: push.Delivered}
	})
	if r := h(ctx, d); r.Outcome != push.Delivered || calls != 1 {
		t.Fatalf("Encode returned %+v after %d calls of the next handler", r, calls)
	}
	return got
}

func TestEncodeCloudEventsBinaryMode(t *testing.T) {
	born := time.Date(2026, 11, 26, 6, 0, 0, 123e6, time.UTC)
	m := &primitive.MessageExt{Message: primitive.Message{Topic: "%RETRY%zl-sub-s1", Body: []byte(`{"a":1}`)}, BornTimestamp: born.UnixMilli(), ReconsumeTimes: 2}
	m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG1")
	m.WithProperty(primitive.PropertyRetryTopic, "orders")
	m.WithTag("paid")
	m.WithKeys([]string{"k1", "k2"})
	m.WithProperty("contentType", "application/json")
	m.WithProperty("region", "eu")
	sub := subscription.Subscription{ID: "s1", Endpoint: "https://example.com/hook", DedupSource: subscription.DedupKey, Secret: "whsec_new"}
	req := encoded(t, context.Background(), &push.Delivery{Sub: sub, Msg: m}, born)
	want := map[string]string{
		"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "MSG1", "Ce-Source": "/zeroloss/topics/orders",
		"Ce-Type": "org.apache.rocketmq.message", "Ce-Time": "2026-11-26T06:00:00.123Z", "Ce-Attempt": "3", "Ce-Tag": "paid",
		"Ce-Keys": "k1 k2", "Ce-Properties": "region=eu",
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if req.URL != sub.Endpoint || req.ID != "key:k1" || string(req.Body) != `{"a":1}` || !reflect.DeepEqual(req.Secrets, []string{"whsec_new"}) {
		t.Errorf("request %+v: want the endpoint, the dedup id as webhook-id, the body and the secret", req)
	}
	if req.Header.Get("traceparent") != "" {
		t.Errorf("traceparent %q without a span", req.Header.Get("traceparent"))
	}
}

func TestEncodeDefaultsAndOmissions(t *testing.T) {
	m := &primitive.MessageExt{Message: primitive.Message{Topic: "orders"}, MsgId: "BROKER-ID"}
	req := encoded(t, context.Background(), &push.Delivery{Sub: subscription.Subscription{Secret: "whsec_a"}, Msg: m}, time.Now())
	if got := req.Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("Content-Type %q, want application/octet-stream", got)
	}
	if req.Header.Get("ce-source") != "/zeroloss/topics/orders" || req.Header.Get("ce-id") != "BROKER-ID" || req.Header.Get("ce-attempt") != "1" {
		t.Errorf("header %v", req.Header)
	}
	for _, k := range []string{"ce-tag", "ce-keys", "ce-properties"} {
		if _, ok := req.Header[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("%s set without a value: %v", k, req.Header)
		}
	}
}

func TestEncodeSignsWithBothSecretsDuringARotation(t *testing.T) {
	now := time.Now()
	sub := subscription.Subscription{Secret: "whsec_new", PrevSecret: "whsec_old", PrevUntil: now.Add(time.Hour)}
	if got := encoded(t, context.Background(), &push.Delivery{Sub: sub, Msg: message("M")}, now).Secrets; !reflect.DeepEqual(got, []string{"whsec_new", "whsec_old"}) {
		t.Errorf("secrets during the rotation %v", got)
	}
	if got := encoded(t, context.Background(), &push.Delivery{Sub: sub, Msg: message("M")}, now.Add(2*time.Hour)).Secrets; !reflect.DeepEqual(got, []string{"whsec_new"}) {
		t.Errorf("secrets after the rotation %v", got)
	}
}

func TestEncodePassesTheTraceOn(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	req := encoded(t, ctx, &push.Delivery{Msg: message("M")}, time.Now())
	if got, want := req.Header.Get("traceparent"), "00-01000000000000000000000000000000-0200000000000000-01"; got != want {
		t.Errorf("traceparent %q, want %q", got, want)
	}
}

// TestCEPropertiesCarryOnlyTheUsersProperties: every name brokertext
// reserves (RocketMQ's and the gateway's) stays out of ce-properties, and
// so does contentType (it is the Content-Type); the user's go along.
func TestCEPropertiesCarryOnlyTheUsersProperties(t *testing.T) {
	tests := []struct {
		name string
		sent bool
	}{
		{"region", true},
		{"orderId", true},
		{"__x", false},        // a RocketMQ name family (reserved)
		{"POP_custom", false}, // a RocketMQ name family (reserved)
		{"TIMER", true},
		{"tran_msg", true},
		{"contentType", false},
		{"UNIQ_KEY", false},
		{"KEYS", false},
		{"TAGS", false},
		{"TRAN_MSG", false},
		{"DELAY", false},
		{"RETRY_TOPIC", false},
		{"REAL_TOPIC", false},
		{"MAX_RECONSUME_TIMES", false},
		{"CONSUME_START_TIME", false},
		{"SHARDING_KEY", false},
		{"__SHARDINGKEY", false},
		{"TIMER_DELIVER_MS", false},
		{"__STARTDELIVERTIME", false},
		{"DLQ_ORIGIN_TOPIC", false},
		{"POP_CK", false},
		{"__RMQ.TRANSIENT.anything", false},
		{"traceparent", false},
		{"tracestate", false},
		{"baggage", false},
		{"ZL_TX", false},
		{"zl-x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := message("M")
			m.WithProperty(tc.name, "v")
			m.WithProperty("always", "1")
			p, err := url.ParseQuery(encoded(t, context.Background(), &push.Delivery{Msg: m}, time.Now()).Header.Get("ce-properties"))
			if err != nil {
				t.Fatal(err)
			}
			if _, got := p[tc.name]; got != tc.sent {
				t.Errorf("%s in ce-properties = %v, want %v (%v)", tc.name, got, tc.sent, p)
			}
			if p.Get("always") != "1" {
				t.Errorf("a user property is missing: %v", p)
			}
		})
	}
}

func TestCEPropertiesAreSortedAndEscaped(t *testing.T) {
	m := message("M")
	m.WithProperty("b", "x y&z")
	m.WithProperty("a", "1")
	if got, want := encoded(t, context.Background(), &push.Delivery{Msg: m}, time.Now()).Header.Get("ce-properties"), "a=1&b=x+y%26z"; got != want {
		t.Errorf("ce-properties %q, want %q", got, want)
	}
}
