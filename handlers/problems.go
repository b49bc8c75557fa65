package handlers

import (
	"errors"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/txcallback"
)

// problemRow maps one error (matched with errors.Is) to the problem a
// client sees: its kind, a client-safe detail and, for what a retry can
// fix, a Retry-After in seconds.
type problemRow struct {
	err    error
	kind   problem.Kind
	detail string
	retry  int
}

// Client-safe details shared by several rows or by handlers.
const (
	detailUnconfirmed = "the broker did not confirm the send: the message may or may not be stored; retry with the same Idempotency-Key"
	detailWebhookURL  = "the URL must be absolute http(s) without credentials, and not name a loopback, private, link-local or other non-global address"
	// txNotFound is the one answer for a transaction that is missing, of
	// another tenant, or on a topic the key may not run transactions on.
	txNotFound = "no such transaction for this API key's tenant"
	// subNotFound is the one answer for a subscription that is missing, of
	// another tenant, or on a topic the key may not subscribe to.
	subNotFound = "no such subscription for this API key's tenant"
)

// problemTable is the one error → problem table of the API. Order matters
// only where one error wraps another; the first match wins.
var problemTable = []problemRow{
	// What the broker refuses for what a message is: never retried.
	{brokertext.ErrSeparator, problem.Validation, "a tag, key, sharding key or property holds a control character; nothing was sent", 0},
	{brokertext.ErrTooLarge, problem.PropertiesTooLarge, "the encoded properties are over the broker's limit; nothing was sent", 0},
	{broker.ErrRejected, problem.MessageRejected, "the broker refused this message for what it is; nothing was stored and sending it again cannot succeed", 0},
	{broker.ErrTopicNotFound, problem.TopicNotFound, "the topic does not exist on the cluster; nothing was stored", 0},
	// A send whose outcome is unknown: the client retries with its key.
	{broker.ErrUnconfirmed, problem.SendUnconfirmed, detailUnconfirmed, 1},
	{broker.ErrNotStarted, problem.SendUnconfirmed, detailUnconfirmed, 1},
	// Transactions.
	{txcallback.ErrProducerNotFound, problem.ProducerNotFound, "no such producer for this API key's tenant", 0},
	{txcallback.ErrTxNotFound, problem.TransactionNotFound, txNotFound, 0},
	{txcallback.ErrInvalidURL, problem.InvalidWebhookURL, detailWebhookURL, 0},
	{txcallback.ErrBeginInProgress, problem.IdempotencyKeyInUse, "a begin with this Idempotency-Key is still sending its half message; retry later", 1},
	// Subscriptions.
	{subscription.ErrNotFound, problem.SubscriptionNotFound, subNotFound, 0},
	{subscription.ErrInvalidEndpoint, problem.InvalidWebhookURL, detailWebhookURL, 0},
	{subscription.ErrModeConflict, problem.SubscriptionConflict, "a pull subscription has no endpoint: create a push subscription to have messages POSTed", 0},
}

// toProblem maps err to the problem a client sees: a *problem.Error passes
// through, a subscription.InvalidError is a validation problem, a row of
// problemTable applies, and anything else is the fallback kind with its
// detail — the caller's answer for "a dependency failed", retryable after a
// second.
func toProblem(err error, fallback problem.Kind, detail string) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe
	}
	var ie *subscription.InvalidError
	if errors.As(err, &ie) {
		return problem.Wrap(problem.Validation, ie.Reason, err)
	}
	if row, ok := problemRowFor(err); ok {
		p := problem.Wrap(row.kind, row.detail, err)
		if row.retry > 0 {
			p = p.WithRetryAfter(row.retry)
		}
		return p
	}
	return problem.Wrap(fallback, detail, err).WithRetryAfter(1)
}

// problemRowFor is the first row of problemTable matching err.
func problemRowFor(err error) (problemRow, bool) {
	for _, row := range problemTable {
		if errors.Is(err, row.err) {
			return row, true
		}
	}
	return problemRow{}, false
}

// sendProblem is the answer for a failed send: whatever is not known to be
// refused is unconfirmed.
func sendProblem(err error) error {
	return toProblem(err, problem.SendUnconfirmed, detailUnconfirmed)
}

// txProblem is the answer for a failed transaction or producer call.
func txProblem(err error) error {
	return toProblem(err, problem.DependencyUnavailable, "the transaction store is unavailable; retry later")
}

// subProblem is the answer for a failed subscription or dead-letter call.
func subProblem(err error) error {
	return toProblem(err, problem.DependencyUnavailable, "Redis or the brokers could not be reached; retry later")
}
