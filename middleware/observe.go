package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace continues the caller's W3C trace (traceparent) or starts one, in a
// server span named after the route. Handlers find the span in the context
// and propagate it into the messages they send.
func Trace(tp trace.TracerProvider, prop propagation.TextMapPropagator) func(http.Handler) http.Handler {
	tracer := tp.Tracer("github.com/zeroloss/zeroloss/middleware")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			if !span.IsRecording() {
				// Nothing is recorded (no exporter, or not sampled): the
				// span only carries the caller's trace context on to the
				// messages sent, and without one there is nothing to carry.
				if span.SpanContext().IsValid() {
					r = r.WithContext(ctx)
				}
				next.ServeHTTP(w, r)
				return
			}
			span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path))
			rec := recorderFor(w)
			next.ServeHTTP(rec, r.WithContext(ctx))
			if route := routePattern(r); route != "" {
				span.SetName(r.Method + " " + route)
				span.SetAttributes(attribute.String("http.route", route))
			}
			span.SetAttributes(attribute.Int("http.response.status_code", rec.code()))
			if rec.code() >= 500 {
				span.SetStatus(codes.Error, http.StatusText(rec.code()))
			}
		})
	}
}

// Metrics counts requests and observes their latency by route pattern (not
// raw path, to bound cardinality).
func Metrics(requests *prometheus.CounterVec, seconds *prometheus.HistogramVec) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := recorderFor(w)
			next.ServeHTTP(rec, r)
			route := routePattern(r)
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code())).Inc()
			seconds.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		})
	}
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}
