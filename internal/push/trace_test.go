package push_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

func TestTrace(t *testing.T) {
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name   string
		result push.Result
		status codes.Code
	}{
		{"delivered", push.Result{Outcome: push.Delivered, Status: 200}, codes.Unset},
		{"retry", push.Result{Outcome: push.Retry, Status: 503, Reason: "HTTP 503"}, codes.Error},
		{"dead", push.Result{Outcome: push.Dead, Status: 400, Reason: "HTTP 400 (not retried)"}, codes.Error},
		{"timeout", push.Result{Outcome: push.Retry, Reason: "timeout"}, codes.Error},
		{"held", push.Result{Err: push.ErrStopping}, codes.Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			m := message("MSG1")
			m.WithProperty("traceparent", parent)
			var inner trace.SpanContext
			h := push.Trace(tp.Tracer("test"), propagation.TraceContext{})(func(ctx context.Context, _ *push.Delivery) push.Result {
				inner = trace.SpanContextFromContext(ctx)
				return tc.result
			})
			if got := h(context.Background(), &push.Delivery{Sub: subscription.Subscription{ID: "s1", Name: "orders"}, Msg: m}); got != tc.result {
				t.Fatalf("result %+v, want %+v", got, tc.result)
			}
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != "deliver orders" || s.SpanKind() != trace.SpanKindProducer {
				t.Errorf("span %q kind %s", s.Name(), s.SpanKind())
			}
			if s.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" {
				t.Errorf("parent %s/%s, want the producer's span", s.Parent().TraceID(), s.Parent().SpanID())
			}
			if inner.SpanID() != s.SpanContext().SpanID() {
				t.Errorf("the next handler runs in span %s, want %s", inner.SpanID(), s.SpanContext().SpanID())
			}
			attrs := map[attribute.Key]attribute.Value{}
			for _, a := range s.Attributes() {
				attrs[a.Key] = a.Value
			}
			if attrs["zeroloss.subscription"].AsString() != "s1" || attrs["messaging.message.id"].AsString() != "MSG1" ||
				attrs["zeroloss.attempt"].AsInt64() != 1 || attrs["zeroloss.outcome"].AsString() != string(tc.result.Outcome) ||
				attrs["http.response.status_code"].AsInt64() != int64(tc.result.Status) {
				t.Errorf("attributes %v", attrs)
			}
			if s.Status().Code != tc.status {
				t.Errorf("status %v, want %v", s.Status(), tc.status)
			}
		})
	}
}
