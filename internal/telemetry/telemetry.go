// Package telemetry sets up the gateway's logs, traces and metrics: slog
// JSON logs, OpenTelemetry tracing (OTLP/HTTP when configured, otherwise no
// export) with W3C trace context, and a Prometheus registry of its own.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// NewLogger returns a JSON slog logger at level (debug, info, warn, error).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Propagator is the W3C trace-context propagator used on HTTP and in
// message properties.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracing returns a tracer provider and its shutdown. With an empty endpoint
// spans are not recorded, but incoming trace context still flows into
// message properties.
func Tracing(ctx context.Context, endpoint, service, version string) (trace.TracerProvider, func(context.Context) error, error) {
	if endpoint == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	opts := []otlptracehttp.Option{}
	if strings.Contains(endpoint, "://") {
		opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	} else {
		opts = append(opts, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	res := resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(service), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// Metrics are the gateway's Prometheus metrics, on a registry of their own.
type Metrics struct {
	registry *prometheus.Registry
	// Sends counts broker sends by topic and outcome (ok, unconfirmed,
	// topic_not_found, flush_disk_timeout, …).
	Sends *prometheus.CounterVec
	// SendSeconds is the broker send latency by outcome.
	SendSeconds *prometheus.HistogramVec
	// Requests counts HTTP requests by route, method and status.
	Requests *prometheus.CounterVec
	// RequestSeconds is the HTTP latency by route and method.
	RequestSeconds *prometheus.HistogramVec
}

// NewMetrics registers the metrics with Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_sends_total", Help: "Messages sent to the broker by topic and outcome.",
		}, []string{"topic", "outcome"}),
		SendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zeroloss_send_duration_seconds", Help: "Broker request latency by outcome (one request may carry several messages).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zeroloss_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zeroloss_http_request_duration_seconds", Help: "HTTP latency by route and method.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	m.registry.MustRegister(m.Sends, m.SendSeconds, m.Requests, m.RequestSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry returns the registry, for components that add their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }
