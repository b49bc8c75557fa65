package handlers

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"encoding/base64"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/pull"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Receiver hands out the messages of a pull subscription (pull.Consumer).
type Receiver interface {
	Receive(ctx context.Context, s subscription.Subscription, r pull.ReceiveRequest) ([]pull.Received, error)
}

// ReceiptSettler settles received messages by receipt handle
// (pull.Consumer): one result per handle, in order.
type ReceiptSettler interface {
	Ack(ctx context.Context, s subscription.Subscription, receipts []string) []pull.Result
	Nack(ctx context.Context, s subscription.Subscription, receipts []string, delay time.Duration) []pull.Result
	Extend(ctx context.Context, s subscription.Subscription, receipts []string, d time.Duration) []pull.Result
}

// PullConsumer is what the pull endpoints need (pull.Consumer).
type PullConsumer interface {
	Receiver
	ReceiptSettler
}

// Pull implements the endpoints of pull subscriptions: receive, ack, nack
// and extend.
type Pull struct {
	subs *Subscriptions
	c    PullConsumer
}

// NewPull returns the pull endpoints; subs finds the subscription (and
// applies its authorization), c receives and settles.
func NewPull(subs *Subscriptions, c PullConsumer) *Pull { return &Pull{subs: subs, c: c} }

// Receive defaults (the contract's).
const (
	defaultReceiveMax       = 10
	defaultInvisibleSeconds = 30
)

// pullSub returns the subscription if it is an active pull one.
func (h *Pull) pullSub(ctx context.Context, id string) (subscription.Subscription, error) {
	s, err := h.subs.get(ctx, id)
	if err != nil {
		return s, err
	}
	switch {
	case !s.Pull():
		return s, problem.New(problem.SubscriptionConflict, "this is a push subscription: its messages are POSTed to its endpoint")
	case s.Paused:
		return s, problem.New(problem.SubscriptionConflict, "the subscription is paused: resume it to receive")
	}
	return s, nil
}

// ReceiveMessages long-polls a pull subscription's messages.
func (h *Pull) ReceiveMessages(ctx context.Context, req api.ReceiveMessagesRequestObject) (api.ReceiveMessagesResponseObject, error) {
	s, err := h.pullSub(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	r := pull.ReceiveRequest{Max: defaultReceiveMax, Invisible: defaultInvisibleSeconds * time.Second}
	if b := req.Body; b != nil {
		if b.MaxMessages != nil {
			r.Max = *b.MaxMessages
		}
		if b.WaitSeconds != nil {
			r.Wait = time.Duration(*b.WaitSeconds) * time.Second
		}
		if b.InvisibleSeconds != nil {
			r.Invisible = time.Duration(*b.InvisibleSeconds) * time.Second
		}
	}
	got, err := h.c.Receive(ctx, s, r)
	switch {
	case errors.Is(err, pull.ErrTooManyReceives):
		return nil, problem.Wrap(problem.TooManyReceives, "this replica holds as many receives as it may; retry shortly", err).WithRetryAfter(1)
	case errors.Is(err, pop.ErrTopicNotFound):
		return nil, problem.Wrap(problem.TopicNotFound, "the subscription's topic does not exist on the cluster", err)
	case err != nil && ctx.Err() != nil:
		return nil, problem.Wrap(problem.DependencyUnavailable, "the request ended before the receive", err)
	case err != nil:
		return nil, problem.Wrap(problem.DependencyUnavailable, "Redis or the brokers could not be reached; nothing was received; retry later", err).WithRetryAfter(1)
	}
	out := api.ReceiveMessages200JSONResponse{Messages: make([]api.ReceivedMessage, 0, len(got))}
	for _, m := range got {
		out.Messages = append(out.Messages, receivedView(s, m))
	}
	return out, nil
}

func receivedView(s subscription.Subscription, m pull.Received) api.ReceivedMessage {
	v := api.ReceivedMessage{MessageId: m.MessageID, Topic: s.Topic, Attempt: m.Attempt, ReceiptHandle: m.Receipt,
		InvisibleUntil: m.InvisibleUntil.UTC(), Encoding: api.Utf8, Body: string(m.Msg.Body)}
	if !utf8.Valid(m.Msg.Body) {
		v.Encoding, v.Body = api.Base64, base64.StdEncoding.EncodeToString(m.Msg.Body)
	}
	if m.DedupID != "" {
		v.DedupId = &m.DedupID
	}
	if tag := m.Msg.GetTags(); tag != "" {
		v.Tag = &tag
	}
	if keys := strings.Fields(m.Msg.GetKeys()); len(keys) > 0 {
		v.Keys = &keys
	}
	if m.Msg.BornTimestamp > 0 {
		born := time.UnixMilli(m.Msg.BornTimestamp).UTC()
		v.BornAt = &born
	}
	props := map[string]string{}
	names := make([]string, 0)
	for k := range m.Msg.GetProperties() {
		if !brokertext.Reserved(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		props[k] = m.Msg.GetProperty(k)
	}
	if len(props) > 0 {
		v.Properties = &props
	}
	return v
}

// AckMessages acknowledges received messages.
func (h *Pull) AckMessages(ctx context.Context, req api.AckMessagesRequestObject) (api.AckMessagesResponseObject, error) {
	s, err := h.pullSub(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.AckMessages200JSONResponse(resultsView(h.c.Ack(ctx, s, req.Body.ReceiptHandles))), nil
}

// NackMessages gives received messages back after a delay.
func (h *Pull) NackMessages(ctx context.Context, req api.NackMessagesRequestObject) (api.NackMessagesResponseObject, error) {
	s, err := h.pullSub(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	delay := time.Duration(0)
	if req.Body.DelaySeconds != nil {
		delay = time.Duration(*req.Body.DelaySeconds) * time.Second
	}
	return api.NackMessages200JSONResponse(resultsView(h.c.Nack(ctx, s, req.Body.ReceiptHandles, delay))), nil
}

// ExtendMessages keeps received messages invisible longer.
func (h *Pull) ExtendMessages(ctx context.Context, req api.ExtendMessagesRequestObject) (api.ExtendMessagesResponseObject, error) {
	s, err := h.pullSub(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	d := time.Duration(req.Body.InvisibleSeconds) * time.Second
	return api.ExtendMessages200JSONResponse(resultsView(h.c.Extend(ctx, s, req.Body.ReceiptHandles, d))), nil
}

// resultsView renders per-handle results; a failure carries its problem
// (the same type URIs as whole-request problems; internal text stays out).
func resultsView(rs []pull.Result) api.ReceiptResults {
	out := api.ReceiptResults{Results: make([]api.ReceiptResult, 0, len(rs))}
	for _, r := range rs {
		v := api.ReceiptResult{ReceiptHandle: r.Receipt, Ok: r.Err == nil}
		if r.NewReceipt != "" {
			nr := r.NewReceipt
			v.NewReceiptHandle = &nr
		}
		if !r.InvisibleUntil.IsZero() {
			at := r.InvisibleUntil.UTC()
			v.InvisibleUntil = &at
		}
		if r.Err != nil {
			var k problem.Kind
			var detail string
			switch {
			case errors.Is(r.Err, pull.ErrInvalidReceipt):
				k, detail = problem.ReceiptInvalid, "not a receipt handle of this subscription"
			case errors.Is(r.Err, pull.ErrReceiptExpired):
				k, detail = problem.ReceiptExpired, "its invisibility ended: the message may be received again"
			default:
				k, detail = problem.DependencyUnavailable, "the broker or Redis could not be reached; retry this handle"
			}
			v.Problem = &api.Problem{Type: k.Type(), Title: k.Title, Status: k.Status, Detail: &detail}
		}
		out.Results = append(out.Results, v)
	}
	return out
}
