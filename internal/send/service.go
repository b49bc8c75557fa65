// Package send is the send path's domain, loss point 1: a request becomes
// broker messages (the text rules, the message ids that stay the same
// across idempotent retries, the trace context as properties), a send
// succeeds only on SEND_OK, and an Idempotency-Key makes retries safe
// (Keys). HTTP stays in handlers and middleware; the broker in
// internal/broker.
package send

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// Sender sends messages to the broker (broker.Producer). Send and SendBatch
// return receipts only for messages the broker answered SEND_OK for; errors
// wrap broker.ErrTopicNotFound, broker.ErrRejected or broker.ErrUnconfirmed.
type Sender interface {
	Send(ctx context.Context, m broker.Message) (broker.Receipt, error)
	SendBatch(ctx context.Context, topic string, ms []broker.Message) ([]broker.Receipt, error)
}

// Config tunes the Service.
type Config struct {
	// MaxMessageBytes limits a decoded message body (and a whole batch).
	MaxMessageBytes int
	// SendBudget bounds a send including the client's retries. The send
	// runs to its end even if the caller goes away, so its outcome is
	// recorded under the request's Idempotency-Key.
	SendBudget time.Duration
	// MaxDelay is the longest timer delay accepted; default one day.
	MaxDelay time.Duration
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxMessageBytes <= 0 || c.SendBudget <= 0 || c.MaxDelay < 0 {
		return errors.New("send: MaxMessageBytes and SendBudget must be positive, MaxDelay not negative")
	}
	return nil
}

// Service turns send requests into broker messages and sends them. A
// request it refuses is a *problem.Error (nothing was sent); a failed send
// wraps the Sender's error (broker.ErrUnconfirmed, ErrTopicNotFound,
// ErrRejected, brokertext's refusals), for the caller's error table.
type Service struct {
	sender Sender
	cfg    Config
	prop   propagation.TextMapPropagator
	now    func() time.Time
}

// New returns a Service over sender. prop writes the trace context into
// every message's properties.
func New(sender Sender, cfg Config, prop propagation.TextMapPropagator) (*Service, error) {
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 24 * time.Hour
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{sender: sender, cfg: cfg, prop: prop, now: time.Now}, nil
}

// Publish sends one message to topic (already authorized) and returns
// where the broker stored it. The message id comes from ctx's seed
// (msgid.WithSeed; an Idempotency-Key's), so a retry sends the same id.
func (s *Service) Publish(ctx context.Context, topic string, b *api.PublishMessageRequest) (api.PublishedMessage, error) {
	var fields []problem.FieldError
	body, fe := DecodeBody("/body", b.Body, b.Encoding)
	fields = append(fields, fe...)
	if len(body) > s.cfg.MaxMessageBytes {
		return api.PublishedMessage{}, problem.New(problem.PayloadTooLarge,
			fmt.Sprintf("the message body is %d bytes once decoded; the limit is %d", len(body), s.cfg.MaxMessageBytes))
	}
	fields = append(fields, CheckText("", b.Tag, b.Keys, b.ShardingKey, b.Properties)...)
	var deliverAt time.Time
	switch {
	case b.DelaySeconds != nil && b.DeliverAt != nil:
		fields = append(fields, problem.FieldError{Field: "/deliverAt", Reason: "set delaySeconds or deliverAt, not both"})
	case b.DelaySeconds != nil:
		deliverAt = s.now().Add(time.Duration(*b.DelaySeconds) * time.Second)
	case b.DeliverAt != nil:
		deliverAt = *b.DeliverAt
		if deliverAt.After(s.now().Add(s.cfg.MaxDelay)) {
			fields = append(fields, problem.FieldError{Field: "/deliverAt", Reason: fmt.Sprintf("at most %s ahead", s.cfg.MaxDelay)})
		}
	}
	if len(fields) > 0 {
		return api.PublishedMessage{}, problem.New(problem.Validation, "the message is invalid; see errors").WithFields(fields...)
	}
	m := broker.Message{
		ID:          msgid.FromContext(ctx).ID(0),
		Topic:       topic,
		Body:        body,
		Tag:         api.Value(b.Tag),
		Keys:        api.Value(b.Keys),
		Properties:  InjectTrace(ctx, s.prop, b.Properties),
		ShardingKey: api.Value(b.ShardingKey),
		DeliverAt:   deliverAt,
	}
	if fe := CheckSize("", m); fe != nil {
		return api.PublishedMessage{}, SizeProblem(*fe)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendBudget)
	defer cancel()
	rc, err := s.sender.Send(sctx, m)
	if err != nil {
		return api.PublishedMessage{}, fmt.Errorf("send: %w", err)
	}
	return api.PublishedMessage{MessageId: rc.MessageID, Topic: rc.Topic, BrokerName: rc.BrokerName,
		QueueId: int32(rc.QueueID), QueueOffset: rc.QueueOffset}, nil
}

// PublishBatch sends a batch to topic (already authorized) in one broker
// request; each member gets its own id (the seed's ids 0, 1, ...).
func (s *Service) PublishBatch(ctx context.Context, topic string, b *api.PublishBatchRequest) (api.PublishedBatch, error) {
	seed := msgid.FromContext(ctx)
	var fields, tooLarge []problem.FieldError
	total := 0
	ms := make([]broker.Message, len(b.Messages))
	for i, bm := range b.Messages {
		at := fmt.Sprintf("/messages/%d", i)
		body, fe := DecodeBody(at+"/body", bm.Body, bm.Encoding)
		fields = append(fields, fe...)
		fields = append(fields, CheckText(at, bm.Tag, bm.Keys, nil, bm.Properties)...)
		ms[i] = broker.Message{
			ID: seed.ID(uint16(i)), Topic: topic, Body: body, Tag: api.Value(bm.Tag),
			Keys: api.Value(bm.Keys), Properties: InjectTrace(ctx, s.prop, bm.Properties),
		}
		if fe := CheckSize(at, ms[i]); fe != nil {
			tooLarge = append(tooLarge, *fe)
		}
		// The broker limits the encoded batch: body, properties and about
		// 100 bytes of header per message.
		total += len(body) + brokertext.Size(textOf(ms[i])) + batchOverhead
	}
	if len(fields) > 0 {
		return api.PublishedBatch{}, problem.New(problem.Validation, "the batch is invalid; see errors").WithFields(fields...)
	}
	if len(tooLarge) > 0 {
		return api.PublishedBatch{}, SizeProblem(tooLarge...)
	}
	if total > s.cfg.MaxMessageBytes {
		return api.PublishedBatch{}, problem.New(problem.PayloadTooLarge,
			fmt.Sprintf("the batch is %d bytes once decoded; the limit is %d", total, s.cfg.MaxMessageBytes))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendBudget)
	defer cancel()
	rcs, err := s.sender.SendBatch(sctx, topic, ms)
	if err != nil {
		return api.PublishedBatch{}, fmt.Errorf("send batch: %w", err)
	}
	out := api.PublishedBatch{Topic: topic, Items: make([]api.PublishedBatchItem, len(rcs))}
	for i, rc := range rcs {
		out.BrokerName, out.QueueId = rc.BrokerName, int32(rc.QueueID)
		out.Items[i] = api.PublishedBatchItem{MessageId: rc.MessageID, QueueOffset: rc.QueueOffset}
	}
	return out, nil
}

// DecodeBody decodes a message body as its encoding says; field names it
// in the problem's errors.
func DecodeBody(field, body string, enc *api.Encoding) ([]byte, []problem.FieldError) {
	if enc == nil || *enc == api.Utf8 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, []problem.FieldError{{Field: field, Reason: "not valid standard base64"}}
	}
	if len(b) == 0 {
		return nil, []problem.FieldError{{Field: field, Reason: "must not be empty once decoded"}}
	}
	return b, nil
}

// CheckText checks the broker text of one message as a request gives it
// (see package brokertext); at prefixes the field pointers. A tag or
// sharding key given empty is refused, not taken as absent.
func CheckText(at string, tag *string, keys *api.Keys, shardingKey *string, props *api.Properties) []problem.FieldError {
	vs := brokertext.Check(at, brokertext.Message{Tag: api.Value(tag), Keys: api.Value(keys),
		ShardingKey: api.Value(shardingKey), Properties: api.Value(props)})
	if tag != nil && *tag == "" {
		vs = append(vs, brokertext.CheckTag(at+"/tag", "")...)
	}
	if shardingKey != nil && *shardingKey == "" {
		vs = append(vs, brokertext.CheckShardingKey(at+"/shardingKey", "")...)
	}
	out := make([]problem.FieldError, len(vs))
	for i, v := range vs {
		out[i] = problem.FieldError{Field: v.Field, Reason: v.Reason}
	}
	return out
}

// textOf returns the broker text of m as it will be sent (trace context
// included).
func textOf(m broker.Message) brokertext.Message {
	return brokertext.Message{Tag: m.Tag, Keys: m.Keys, ShardingKey: m.ShardingKey, Properties: m.Properties}
}

// CheckSize checks that m's encoded properties, with everything the gateway
// and the RocketMQ client add, fit the broker's limit; at prefixes the field
// pointer.
func CheckSize(at string, m broker.Message) *problem.FieldError {
	n := brokertext.Size(textOf(m))
	if n <= brokertext.MaxSize {
		return nil
	}
	return &problem.FieldError{Field: at + "/properties", Reason: fmt.Sprintf(
		"tag, keys, sharding key, properties and trace context encode to %d bytes; the limit is %d", n, brokertext.MaxSize)}
}

// SizeProblem is the 413 properties-too-large problem for fields.
func SizeProblem(fields ...problem.FieldError) error {
	return problem.New(problem.PropertiesTooLarge, fmt.Sprintf(
		"the broker stores at most %d bytes of encoded properties per message, of which the gateway keeps %d for its own; nothing was sent",
		brokertext.BrokerLimit, brokertext.Reserve)).WithFields(fields...)
}

// InjectTrace copies props and adds the W3C trace context of ctx.
func InjectTrace(ctx context.Context, prop propagation.TextMapPropagator, props *api.Properties) map[string]string {
	out := make(map[string]string, 4)
	if props != nil {
		for k, v := range *props {
			out[k] = v
		}
	}
	prop.Inject(ctx, propagation.MapCarrier(out))
	return out
}

// batchOverhead estimates a batch member's encoded size beyond body and
// properties (fixed fields, tag, keys, ids, trace context).
const batchOverhead = 256
