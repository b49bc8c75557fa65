package push

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// contentTypeProperty is the message property whose value becomes the
// call's Content-Type (CloudEvents datacontenttype in binary mode), so it
// is not repeated in ce-properties.
const contentTypeProperty = "contentType"

// Encode builds d.Request: the message body as the body of a CloudEvents
// 1.0 HTTP binary-mode event (ce-id, ce-source, ce-type, ce-time,
// ce-attempt, ce-tag, ce-keys, and the user's properties as a query string
// in ce-properties), the trace context of ctx, and what signs it: the
// webhook-id (the dedup id, stable across attempts, so a subscriber can
// deduplicate on it) and the subscription's secrets at now (two during a
// rotation). The caller (webhook.Client) computes the signatures.
func Encode(prop propagation.TextMapPropagator, now func() time.Time) Middleware {
	if now == nil {
		now = time.Now
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			m := d.Msg
			h := http.Header{}
			prop.Inject(ctx, propagation.HeaderCarrier(h))
			ct := m.GetProperty(contentTypeProperty)
			if ct == "" {
				ct = "application/octet-stream"
			}
			h.Set("Content-Type", ct)
			h.Set("ce-specversion", "1.0")
			h.Set("ce-id", MessageID(m))
			h.Set("ce-source", "/zeroloss/topics/"+topicOf(m))
			h.Set("ce-type", "org.apache.rocketmq.message")
			h.Set("ce-time", time.UnixMilli(m.BornTimestamp).UTC().Format(time.RFC3339Nano))
			h.Set("ce-attempt", strconv.Itoa(d.Attempt()))
			if tag := m.GetTags(); tag != "" {
				h.Set("ce-tag", tag)
			}
			if keys := m.GetKeys(); keys != "" {
				h.Set("ce-keys", keys)
			}
			if p := userProperties(m); p != "" {
				h.Set("ce-properties", p)
			}
			d.Request = webhook.Request{URL: d.Sub.Endpoint, ID: d.DedupID(), Body: m.Body, Secrets: d.Sub.Secrets(now()), Header: h}
			return next(ctx, d)
		}
	}
}

// topicOf is the topic the message was sent to: a retried message is
// consumed from the retry topic but keeps its own in RETRY_TOPIC.
func topicOf(m *primitive.MessageExt) string {
	if t := m.GetProperty(primitive.PropertyRetryTopic); t != "" {
		return t
	}
	return m.Topic
}

// userProperties encodes the user's properties as a URL query string,
// sorted by name: every property but the reserved ones (RocketMQ's and
// the gateway's own, brokertext.Reserved) and the content type.
func userProperties(m *primitive.MessageExt) string {
	v := url.Values{}
	keys := make([]string, 0)
	for k := range m.GetProperties() {
		if !brokertext.Reserved(k) && k != contentTypeProperty {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Set(k, m.GetProperty(k))
	}
	return v.Encode()
}
