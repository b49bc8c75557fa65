// Package problem maps errors to RFC 9457 problem details. It is the one
// place that decides an error's HTTP status and stable type URI; handlers and
// middleware return or pass errors, and Write renders them.
package problem

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/zeroloss/zeroloss/api"
)

// TypeBase prefixes every problem type URI.
const TypeBase = "https://zeroloss.dev/problems/"

// Kind is one stable kind of error, with its type URI suffix, title and
// HTTP status. The set of kinds is part of the contract (api/openapi.yaml).
type Kind struct {
	Slug   string
	Title  string
	Status int
}

// Type returns the kind's full type URI.
func (k Kind) Type() string { return TypeBase + k.Slug }

// The kinds of problem the gateway answers with.
var (
	Validation            = Kind{"validation", "Request does not match the contract", http.StatusBadRequest}
	InvalidJSON           = Kind{"invalid-json", "Body is not valid JSON", http.StatusBadRequest}
	InvalidTopic          = Kind{"invalid-topic", "Invalid topic name", http.StatusBadRequest}
	Unauthorized          = Kind{"unauthorized", "Missing or unknown API key", http.StatusUnauthorized}
	Forbidden             = Kind{"forbidden", "API key lacks the scope", http.StatusForbidden}
	NotFound              = Kind{"not-found", "No such route", http.StatusNotFound}
	TopicNotFound         = Kind{"topic-not-found", "Topic does not exist", http.StatusNotFound}
	MethodNotAllowed      = Kind{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed}
	ProducerNotFound      = Kind{"producer-not-found", "No such producer", http.StatusNotFound}
	SubscriptionNotFound  = Kind{"subscription-not-found", "No such subscription", http.StatusNotFound}
	TransactionNotFound   = Kind{"transaction-not-found", "No such transaction", http.StatusNotFound}
	TransactionConflict   = Kind{"transaction-state-conflict", "The transaction is in another state", http.StatusConflict}
	InvalidWebhookURL     = Kind{"invalid-webhook-url", "Webhook URL refused", http.StatusBadRequest}
	IdempotencyKeyInUse   = Kind{"idempotency-key-in-use", "A request with this Idempotency-Key is in progress", http.StatusConflict}
	PayloadTooLarge       = Kind{"payload-too-large", "Payload too large", http.StatusRequestEntityTooLarge}
	PropertiesTooLarge    = Kind{"properties-too-large", "Message properties too large", http.StatusRequestEntityTooLarge}
	MessageRejected       = Kind{"message-rejected", "The broker refused the message", http.StatusUnprocessableEntity}
	UnsupportedMediaType  = Kind{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType}
	IdempotencyKeyReused  = Kind{"idempotency-key-mismatch", "Idempotency-Key was used with another payload", http.StatusUnprocessableEntity}
	SendUnconfirmed       = Kind{"send-unconfirmed", "The broker did not confirm the send", http.StatusServiceUnavailable}
	DependencyUnavailable = Kind{"dependency-unavailable", "A dependency is unavailable", http.StatusServiceUnavailable}
	NotReady              = Kind{"not-ready", "Not ready", http.StatusServiceUnavailable}
	Internal              = Kind{"internal", "Internal error", http.StatusInternalServerError}
)

// FieldError names one offending field and why.
type FieldError = api.FieldError

// Error is an error with a problem kind, a client-safe detail and optional
// field errors. Its Cause is logged, never shown to the client.
type Error struct {
	Kind       Kind
	Detail     string
	Fields     []FieldError
	RetryAfter int // seconds; 0 means no Retry-After header
	Cause      error
}

// New returns an Error of kind k with a client-safe detail.
func New(k Kind, detail string) *Error { return &Error{Kind: k, Detail: detail} }

// Wrap returns an Error of kind k whose cause is err.
func Wrap(k Kind, detail string, err error) *Error {
	return &Error{Kind: k, Detail: detail, Cause: err}
}

// WithFields returns e with field errors added.
func (e *Error) WithFields(f ...FieldError) *Error {
	e.Fields = append(e.Fields, f...)
	return e
}

// WithRetryAfter returns e with a Retry-After hint in seconds.
func (e *Error) WithRetryAfter(seconds int) *Error {
	e.RetryAfter = seconds
	return e
}

func (e *Error) Error() string {
	s := "problem " + e.Kind.Slug
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// From returns err as a *Error, or an Internal one wrapping it.
func From(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return Wrap(Internal, "", err)
}

// Writer renders errors as problem+json. It logs the causes of server-side
// errors with the request's instance id.
type Writer struct {
	Log *slog.Logger
	// Instance returns the id of the request (the problem's instance).
	Instance func(r *http.Request) string
}

// Write renders err for r. Internal error text never reaches the client.
func (pw Writer) Write(w http.ResponseWriter, r *http.Request, err error) {
	pe := From(err)
	inst := ""
	if pw.Instance != nil {
		inst = pw.Instance(r)
	}
	if pw.Log != nil {
		// Client errors are routine: debug. Server-side ones carry a cause
		// the client never sees, so they are logged where operators look.
		level := slog.LevelDebug
		switch {
		case pe.Kind.Status == http.StatusInternalServerError:
			level = slog.LevelError
		case pe.Kind.Status >= 500:
			level = slog.LevelWarn
		}
		pw.Log.LogAttrs(r.Context(), level, "request failed",
			slog.String("problem", pe.Kind.Slug), slog.String("request_id", inst),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Any("error", err))
	}
	Render(w, pe, inst)
}

// Render writes pe as problem+json with instance inst.
func Render(w http.ResponseWriter, pe *Error, inst string) {
	body := api.Problem{Type: pe.Kind.Type(), Title: pe.Kind.Title, Status: pe.Kind.Status}
	if pe.Detail != "" {
		body.Detail = &pe.Detail
	}
	if inst != "" {
		body.Instance = &inst
	}
	if len(pe.Fields) > 0 {
		f := pe.Fields
		body.Errors = &f
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if pe.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(pe.RetryAfter))
	}
	w.WriteHeader(pe.Kind.Status)
	_ = json.NewEncoder(w).Encode(body)
}
