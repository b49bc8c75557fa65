// Package handlers implements the gateway's HTTP endpoints: the operations
// generated from api/openapi.yaml (api.StrictServerInterface) and the
// operational endpoints, and assembles them with their middleware.
package handlers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// Sender sends messages to the broker (broker.Producer). Send and SendBatch
// return receipts only for messages the broker answered SEND_OK for; errors
// wrap broker.ErrTopicNotFound or broker.ErrUnconfirmed.
type Sender interface {
	Send(ctx context.Context, m broker.Message) (broker.Receipt, error)
	SendBatch(ctx context.Context, topic string, ms []broker.Message) ([]broker.Receipt, error)
}

// MessagesConfig tunes the message endpoints.
type MessagesConfig struct {
	// MaxMessageBytes limits a decoded message body (and a whole batch).
	MaxMessageBytes int
	// SendBudget bounds a send including the client's retries. The send
	// runs to its end even if the HTTP client goes away, so its outcome is
	// recorded under the request's Idempotency-Key.
	SendBudget time.Duration
	// MaxDelay is the longest timer delay accepted.
	MaxDelay time.Duration
}

// Messages implements the send endpoints.
type Messages struct {
	sender Sender
	cfg    MessagesConfig
	prop   propagation.TextMapPropagator
	now    func() time.Time
}

// NewMessages returns the send endpoints over sender. prop writes the trace
// context into every message's properties.
func NewMessages(sender Sender, cfg MessagesConfig, prop propagation.TextMapPropagator) *Messages {
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 24 * time.Hour
	}
	return &Messages{sender: sender, cfg: cfg, prop: prop, now: time.Now}
}

// PublishMessage sends one message (POST /v1/topics/{topic}/messages).
func (h *Messages) PublishMessage(ctx context.Context, req api.PublishMessageRequestObject) (api.PublishMessageResponseObject, error) {
	if err := authorizeTopic(ctx, req.Topic); err != nil {
		return nil, err
	}
	b := req.Body
	var fields []problem.FieldError
	body, fe := decodeBody("/body", b.Body, b.Encoding)
	fields = append(fields, fe...)
	if len(body) > h.cfg.MaxMessageBytes {
		return nil, problem.New(problem.PayloadTooLarge,
			fmt.Sprintf("the message body is %d bytes once decoded; the limit is %d", len(body), h.cfg.MaxMessageBytes))
	}
	fields = append(fields, checkText("", b.Tag, b.Keys, b.ShardingKey, b.Properties)...)
	var deliverAt time.Time
	switch {
	case b.DelaySeconds != nil && b.DeliverAt != nil:
		fields = append(fields, problem.FieldError{Field: "/deliverAt", Reason: "set delaySeconds or deliverAt, not both"})
	case b.DelaySeconds != nil:
		deliverAt = h.now().Add(time.Duration(*b.DelaySeconds) * time.Second)
	case b.DeliverAt != nil:
		deliverAt = *b.DeliverAt
		if deliverAt.After(h.now().Add(h.cfg.MaxDelay)) {
			fields = append(fields, problem.FieldError{Field: "/deliverAt", Reason: fmt.Sprintf("at most %s ahead", h.cfg.MaxDelay)})
		}
	}
	if len(fields) > 0 {
		return nil, problem.New(problem.Validation, "the message is invalid; see errors").WithFields(fields...)
	}
	m := broker.Message{
		ID:          msgid.FromContext(ctx).ID(0),
		Topic:       req.Topic,
		Body:        body,
		Tag:         deref(b.Tag),
		Keys:        derefKeys(b.Keys),
		Properties:  injectTrace(ctx, h.prop, b.Properties),
		ShardingKey: deref(b.ShardingKey),
		DeliverAt:   deliverAt,
	}
	if fe := checkSize("", m); fe != nil {
		return nil, sizeProblem(*fe)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SendBudget)
	defer cancel()
	rc, err := h.sender.Send(sctx, m)
	if err != nil {
		return nil, sendProblem(err)
	}
	return api.PublishMessage201JSONResponse{Body: api.PublishedMessage{
		MessageId: rc.MessageID, Topic: rc.Topic, BrokerName: rc.BrokerName,
		QueueId: int32(rc.QueueID), QueueOffset: rc.QueueOffset,
	}}, nil
}

// PublishBatch sends a batch (POST /v1/topics/{topic}/message-batches).
func (h *Messages) PublishBatch(ctx context.Context, req api.PublishBatchRequestObject) (api.PublishBatchResponseObject, error) {
	if err := authorizeTopic(ctx, req.Topic); err != nil {
		return nil, err
	}
	seed := msgid.FromContext(ctx)
	var fields, tooLarge []problem.FieldError
	total := 0
	ms := make([]broker.Message, len(req.Body.Messages))
	for i, bm := range req.Body.Messages {
		at := fmt.Sprintf("/messages/%d", i)
		body, fe := decodeBody(at+"/body", bm.Body, bm.Encoding)
		fields = append(fields, fe...)
		fields = append(fields, checkText(at, bm.Tag, bm.Keys, nil, bm.Properties)...)
		ms[i] = broker.Message{
			ID: seed.ID(uint16(i)), Topic: req.Topic, Body: body, Tag: deref(bm.Tag),
			Keys: derefKeys(bm.Keys), Properties: injectTrace(ctx, h.prop, bm.Properties),
		}
		if fe := checkSize(at, ms[i]); fe != nil {
			tooLarge = append(tooLarge, *fe)
		}
		// The broker limits the encoded batch: body, properties and about
		// 100 bytes of header per message.
		total += len(body) + brokertext.Size(textOf(ms[i])) + batchOverhead
	}
	if len(fields) > 0 {
		return nil, problem.New(problem.Validation, "the batch is invalid; see errors").WithFields(fields...)
	}
	if len(tooLarge) > 0 {
		return nil, sizeProblem(tooLarge...)
	}
	if total > h.cfg.MaxMessageBytes {
		return nil, problem.New(problem.PayloadTooLarge,
			fmt.Sprintf("the batch is %d bytes once decoded; the limit is %d", total, h.cfg.MaxMessageBytes))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SendBudget)
	defer cancel()
	rcs, err := h.sender.SendBatch(sctx, req.Topic, ms)
	if err != nil {
		return nil, sendProblem(err)
	}
	out := api.PublishedBatch{Topic: req.Topic, Items: make([]api.PublishedBatchItem, len(rcs))}
	for i, rc := range rcs {
		out.BrokerName, out.QueueId = rc.BrokerName, int32(rc.QueueID)
		out.Items[i] = api.PublishedBatchItem{MessageId: rc.MessageID, QueueOffset: rc.QueueOffset}
	}
	return api.PublishBatch201JSONResponse{Body: out}, nil
}

// reservedTopics are RocketMQ's own topics.
var reservedTopics = map[string]bool{
	"TBW102": true, "SCHEDULE_TOPIC_XXXX": true, "BenchmarkTest": true, "OFFSET_MOVED_EVENT": true,
	"SELF_TEST_TOPIC": true, "TRANS_CHECK_MAX_TIME_TOPIC": true, "DefaultCluster": true,
}

// checkTopicName refuses RocketMQ's own topic names (the contract's
// pattern already enforced the characters and length).
func checkTopicName(topic, field string) error {
	if reservedTopics[topic] || strings.HasPrefix(strings.ToUpper(topic), "RMQ_SYS_") {
		return problem.New(problem.InvalidTopic, fmt.Sprintf("%q is reserved by RocketMQ", topic)).
			WithFields(problem.FieldError{Field: field, Reason: "reserved topic name"})
	}
	return nil
}

func authorizeTopic(ctx context.Context, topic string) error {
	if err := checkTopicName(topic, "path:topic"); err != nil {
		return err
	}
	p, ok := auth.FromContext(ctx)
	if !ok || !p.Allows("publish", topic) {
		return problem.New(problem.Forbidden, fmt.Sprintf("this API key may not publish to %q", topic))
	}
	return nil
}

func decodeBody(field, body string, enc *api.Encoding) ([]byte, []problem.FieldError) {
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

// checkText checks the broker text of one message as a request gives it
// (see package brokertext); at prefixes the field pointers. A tag or
// sharding key given empty is refused, not taken as absent.
func checkText(at string, tag *string, keys *api.Keys, shardingKey *string, props *api.Properties) []problem.FieldError {
	vs := brokertext.Check(at, brokertext.Message{Tag: deref(tag), Keys: derefKeys(keys),
		ShardingKey: deref(shardingKey), Properties: derefProps(props)})
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

// checkSize checks that m's encoded properties, with everything the gateway
// and the RocketMQ client add, fit the broker's limit; at prefixes the field
// pointer.
func checkSize(at string, m broker.Message) *problem.FieldError {
	n := brokertext.Size(textOf(m))
	if n <= brokertext.MaxSize {
		return nil
	}
	return &problem.FieldError{Field: at + "/properties", Reason: fmt.Sprintf(
		"tag, keys, sharding key, properties and trace context encode to %d bytes; the limit is %d", n, brokertext.MaxSize)}
}

func sizeProblem(fields ...problem.FieldError) error {
	return problem.New(problem.PropertiesTooLarge, fmt.Sprintf(
		"the broker stores at most %d bytes of encoded properties per message, of which the gateway keeps %d for its own; nothing was sent",
		brokertext.BrokerLimit, brokertext.Reserve)).WithFields(fields...)
}

// injectTrace copies props and adds the W3C trace context of ctx.
func injectTrace(ctx context.Context, prop propagation.TextMapPropagator, props *api.Properties) map[string]string {
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

func derefProps(p *api.Properties) map[string]string {
	if p == nil {
		return nil
	}
	return *p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefKeys(k *api.Keys) []string {
	if k == nil {
		return nil
	}
	return *k
}
