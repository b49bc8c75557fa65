// Package handlers implements the gateway's HTTP endpoints: the operations
// generated from api/openapi.yaml (api.StrictServerInterface) and the
// operational endpoints, and assembles them with their middleware.
package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/auth"
	"github.com/zeroloss/zeroloss/broker"
	"github.com/zeroloss/zeroloss/msgid"
	"github.com/zeroloss/zeroloss/problem"
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
	fields = append(fields, checkProperties("/properties", b.Properties)...)
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
	var fields []problem.FieldError
	total := 0
	ms := make([]broker.Message, len(req.Body.Messages))
	for i, bm := range req.Body.Messages {
		at := fmt.Sprintf("/messages/%d", i)
		body, fe := decodeBody(at+"/body", bm.Body, bm.Encoding)
		fields = append(fields, fe...)
		fields = append(fields, checkProperties(at+"/properties", bm.Properties)...)
		// The broker limits the encoded batch: body, properties and about
		// 100 bytes of header per message.
		total += len(body) + propertiesSize(bm.Properties) + batchOverhead
		ms[i] = broker.Message{
			ID: seed.ID(uint16(i)), Topic: req.Topic, Body: body, Tag: deref(bm.Tag),
			Keys: derefKeys(bm.Keys), Properties: injectTrace(ctx, h.prop, bm.Properties),
		}
	}
	if total > h.cfg.MaxMessageBytes {
		return nil, problem.New(problem.PayloadTooLarge,
			fmt.Sprintf("the batch is %d bytes once decoded; the limit is %d", total, h.cfg.MaxMessageBytes))
	}
	if len(fields) > 0 {
		return nil, problem.New(problem.Validation, "the batch is invalid; see errors").WithFields(fields...)
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

var propertyName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// reservedProperties are names RocketMQ or the gateway give a meaning to
// (MessageConst.STRING_HASH_SET and trace context).
var reservedProperties = map[string]bool{
	"KEYS": true, "TAGS": true, "WAIT": true, "DELAY": true, "RETRY_TOPIC": true, "REAL_TOPIC": true,
	"REAL_QID": true, "TRAN_MSG": true, "PGROUP": true, "MIN_OFFSET": true, "MAX_OFFSET": true,
	"BUYER_ID": true, "ORIGIN_MESSAGE_ID": true, "TRANSFER_FLAG": true, "CORRECTION_FLAG": true,
	"MQ2_FLAG": true, "RECONSUME_TIME": true, "MSG_REGION": true, "TRACE_ON": true, "UNIQ_KEY": true,
	"MAX_RECONSUME_TIMES": true, "CONSUME_START_TIME": true, "TRAN_PREPARED_QUEUE_OFFSET": true,
	"TRANSACTION_CHECK_TIMES": true, "CHECK_IMMUNITY_TIME_IN_SECONDS": true, "SHARDING_KEY": true,
	"CORRELATION_ID": true, "REPLY_TO_CLIENT": true, "TTL": true, "ARRIVE_TIME": true, "MSG_TYPE": true,
	"CLUSTER": true, "INSTANCE_ID": true, "bname": true, "DELAY_SEC": true, "DELAY_MS": true,
	"EXTEND_UNIQ_INFO": true, "DUP_INFO": true, "PUSH_REPLY_TIME": true, "PROPERTY_FORWARD_QUEUE_ID": true,
	"REDIRECT": true, "TRACE_CONTEXT": true, "BORN_TIMESTAMP": true, "DLQ_ORIGIN_TOPIC": true,
	"DLQ_ORIGIN_MESSAGE_ID": true, "traceparent": true, "tracestate": true, "baggage": true,
}

var reservedPropertyPrefixes = []string{"__", "TIMER_", "INNER_", "POP_", "1ST_POP", "zl-", "ZL_"}

func checkProperties(field string, props *api.Properties) []problem.FieldError {
	if props == nil {
		return nil
	}
	names := make([]string, 0, len(*props))
	for k := range *props {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []problem.FieldError
	for _, k := range names {
		at := field + "/" + k
		switch {
		case !propertyName.MatchString(k):
			out = append(out, problem.FieldError{Field: at, Reason: "name must be 1 to 64 characters of A-Z a-z 0-9 _ . -"})
		case isReservedProperty(k):
			out = append(out, problem.FieldError{Field: at, Reason: "name is reserved by RocketMQ or the gateway"})
		case strings.ContainsAny((*props)[k], "\x01\x02"):
			out = append(out, problem.FieldError{Field: at, Reason: "value must not contain the control characters U+0001 or U+0002"})
		}
	}
	return out
}

func isReservedProperty(k string) bool {
	if reservedProperties[k] {
		return true
	}
	for _, p := range reservedPropertyPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
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

func sendProblem(err error) error {
	switch {
	case errors.Is(err, broker.ErrTopicNotFound):
		return problem.Wrap(problem.TopicNotFound, "the topic does not exist on the cluster; nothing was stored", err)
	default:
		return problem.Wrap(problem.SendUnconfirmed,
			"the broker did not confirm the send: the message may or may not be stored; retry with the same Idempotency-Key", err).
			WithRetryAfter(1)
	}
}

// batchOverhead estimates a batch member's encoded size beyond body and
// properties (fixed fields, tag, keys, ids, trace context).
const batchOverhead = 256

func propertiesSize(p *api.Properties) int {
	n := 0
	if p != nil {
		for k, v := range *p {
			n += len(k) + len(v) + 2
		}
	}
	return n
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
