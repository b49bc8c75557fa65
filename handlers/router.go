package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/send"
	"github.com/zeroloss/zeroloss/internal/telemetry"
	"github.com/zeroloss/zeroloss/middleware"
	"github.com/zeroloss/zeroloss/txcallback"
)

// RouterDeps is what the router is built from.
type RouterDeps struct {
	Log            *slog.Logger
	Keys           middleware.KeyLookup
	Idempotency    send.KeyStore
	API            api.StrictServerInterface
	Health         *Health
	Metrics        *telemetry.Metrics
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	MaxBodyBytes   int64
	// Console is the web console, served under /console/ when set.
	Console http.Handler
}

// NewRouter assembles the gateway's HTTP handler: operational endpoints
// open, /v1 behind authentication, the body limit, contract validation and
// idempotency.
func NewRouter(d RouterDeps) (http.Handler, error) {
	pw := problem.Writer{Log: d.Log, Instance: func(r *http.Request) string { return middleware.GetRequestID(r.Context()) }}
	doc, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("handlers: load contract: %w", err)
	}
	validator, err := middleware.NewValidator(doc, pw.Write)
	if err != nil {
		return nil, err
	}
	// The send endpoints decode, validate and bind their body in one pass
	// (send.DecodeMessage); a body it is unsure of takes the generic way.
	// Their parameters are checked by the same rules typed out
	// (send.TopicParam, send.KeyParam), so such a request skips
	// kin-openapi altogether.
	validator.WithParamCheck("path", "topic", send.TopicParam)
	validator.WithParamCheck("header", "Idempotency-Key", send.KeyParam)
	validator.WithBodyDecoder("POST /v1/topics/{topic}/messages", func(b []byte) (any, bool) { return send.DecodeMessage(b) })
	validator.WithBodyDecoder("POST /v1/topics/{topic}/message-batches", func(b []byte) (any, bool) { return send.DecodeBatch(b) })
	validator.WithBodyDecoder("POST /v1/transactions", func(b []byte) (any, bool) { return send.DecodeBegin(b) })
	// A commit or rollback has no body and one parameter, the transaction
	// id, checked typed out (txcallback.IsID): half of a transaction's
	// requests skip kin-openapi too.
	txID := map[string]func(string) bool{"path id": txcallback.IsID}
	validator.WithoutBody("POST /v1/transactions/{id}/commit", txID)
	validator.WithoutBody("POST /v1/transactions/{id}/rollback", txID)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(pw.Write), middleware.AccessLog(d.Log),
		middleware.Trace(d.TracerProvider, d.Propagator),
		middleware.Metrics(d.Metrics.Requests, d.Metrics.RequestSeconds))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		pw.Write(w, r, problem.New(problem.NotFound, "no route for "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		// RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req.URL.Path), ", "))
		pw.Write(w, req, problem.New(problem.MethodNotAllowed, req.Method+" is not allowed on "+req.URL.Path))
	})

	r.Get("/healthz", d.Health.Live)
	r.Get("/readyz", d.Health.Ready)
	r.Get("/openapi.yaml", Spec)
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())
	if d.Console != nil {
		r.Get("/console", http.RedirectHandler("/console/", http.StatusMovedPermanently).ServeHTTP)
		r.Method(http.MethodGet, "/console/*", http.StripPrefix("/console", d.Console))
	}

	v1 := r.With(
		middleware.Authenticate(d.Keys, pw.Write),
		middleware.ReadBody(d.MaxBodyBytes, pw.Write),
		validator.Middleware,
		middleware.Idempotency(d.Idempotency, d.Log, pw.Write),
	)
	strict := api.NewStrictHandlerWithOptions(d.API, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			pw.Write(w, r, problem.Wrap(problem.InvalidJSON, "the body does not decode into the request schema", err))
		},
		ResponseErrorHandlerFunc: pw.Write,
	})
	api.HandlerWithOptions(decodedSends{ServerInterface: strict, ssi: d.API, writeErr: pw.Write}, api.ChiServerOptions{
		BaseRouter: v1,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			var pe *problem.Error
			if errors.As(err, &pe) {
				pw.Write(w, r, pe)
				return
			}
			pw.Write(w, r, problem.Wrap(problem.Validation, "a parameter is invalid", err))
		},
	})
	return r, nil
}

// routeMethods are the methods a route of the gateway may serve, in the
// order an Allow header lists them.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// allowedMethods returns the methods rt routes for path (chi keeps the list
// it found to itself when a custom 405 handler is set).
func allowedMethods(rt chi.Routes, path string) []string {
	var out []string
	for _, m := range routeMethods {
		if rt.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
		}
	}
	return out
}

// decodedSends serves the send operations (and the transaction begin,
// which sends a half message) whose body the validator already
// decoded (middleware.Decoded) without decoding it again; every other
// request goes to the generated strict handler, as do sends whose body took
// the generic way.
type decodedSends struct {
	api.ServerInterface
	ssi      api.StrictServerInterface
	writeErr func(http.ResponseWriter, *http.Request, error)
}

func (d decodedSends) PublishMessage(w http.ResponseWriter, r *http.Request, topic api.Topic, params api.PublishMessageParams) {
	body, ok := middleware.Decoded(r.Context()).(*api.PublishMessageRequest)
	if !ok {
		d.ServerInterface.PublishMessage(w, r, topic, params)
		return
	}
	resp, err := d.ssi.PublishMessage(r.Context(), api.PublishMessageRequestObject{Topic: topic, Params: params, Body: body})
	if err == nil {
		err = resp.VisitPublishMessageResponse(w)
	}
	if err != nil {
		d.writeErr(w, r, err)
	}
}

func (d decodedSends) PublishBatch(w http.ResponseWriter, r *http.Request, topic api.Topic, params api.PublishBatchParams) {
	body, ok := middleware.Decoded(r.Context()).(*api.PublishBatchRequest)
	if !ok {
		d.ServerInterface.PublishBatch(w, r, topic, params)
		return
	}
	resp, err := d.ssi.PublishBatch(r.Context(), api.PublishBatchRequestObject{Topic: topic, Params: params, Body: body})
	if err == nil {
		err = resp.VisitPublishBatchResponse(w)
	}
	if err != nil {
		d.writeErr(w, r, err)
	}
}

func (d decodedSends) BeginTransaction(w http.ResponseWriter, r *http.Request, params api.BeginTransactionParams) {
	body, ok := middleware.Decoded(r.Context()).(*api.BeginTransactionRequest)
	if !ok {
		d.ServerInterface.BeginTransaction(w, r, params)
		return
	}
	resp, err := d.ssi.BeginTransaction(r.Context(), api.BeginTransactionRequestObject{Params: params, Body: body})
	if err == nil {
		err = resp.VisitBeginTransactionResponse(w)
	}
	if err != nil {
		d.writeErr(w, r, err)
	}
}
