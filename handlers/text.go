package handlers

import (
	"context"

	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/send"
)

// The transaction endpoints check message text with the send path's rules
// (package send).

func decodeBody(field, body string, enc *api.Encoding) ([]byte, []problem.FieldError) {
	return send.DecodeBody(field, body, enc)
}

func checkText(at string, tag *string, keys *api.Keys, shardingKey *string, props *api.Properties) []problem.FieldError {
	return send.CheckText(at, tag, keys, shardingKey, props)
}

func checkSize(at string, m broker.Message) *problem.FieldError { return send.CheckSize(at, m) }

func sizeProblem(fields ...problem.FieldError) error { return send.SizeProblem(fields...) }

func injectTrace(ctx context.Context, prop propagation.TextMapPropagator, props *api.Properties) map[string]string {
	return send.InjectTrace(ctx, prop, props)
}
