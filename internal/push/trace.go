package push

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace makes each attempt a span, a child of the trace context the
// producer left in the message's properties (traceparent, tracestate,
// baggage), with the subscription, message id, attempt, outcome and HTTP
// status; an attempt that did not deliver ends with an error status.
// Encode, inside it, passes the span on to the endpoint.
func Trace(tracer trace.Tracer, prop propagation.TextMapPropagator) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			ctx = prop.Extract(ctx, propagation.MapCarrier(d.Msg.GetProperties()))
			ctx, span := tracer.Start(ctx, "deliver "+d.Sub.Name, trace.WithSpanKind(trace.SpanKindProducer),
				trace.WithAttributes(attribute.String("zeroloss.subscription", d.Sub.ID), attribute.String("messaging.message.id", MessageID(d.Msg)),
					attribute.Int("zeroloss.attempt", d.Attempt())))
			defer span.End()
			r := next(ctx, d)
			span.SetAttributes(attribute.String("zeroloss.outcome", string(r.Outcome)), attribute.Int("http.response.status_code", r.Status))
			if r.Outcome != Delivered {
				reason := r.Reason
				if r.Err != nil {
					reason = r.Err.Error()
				}
				span.SetStatus(codes.Error, reason)
			}
			return r
		}
	}
}
