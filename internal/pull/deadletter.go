package pull

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Sender sends a message and succeeds only on SEND_OK (broker.Producer).
type Sender interface {
	Send(ctx context.Context, m broker.Message) (broker.Receipt, error)
}

// TopicCreator creates a topic on a cluster's masters (broker.Admin).
type TopicCreator interface {
	CreateTopic(ctx context.Context, cluster, topic string, queues int) error
}

// FailureLog remembers a message's last error for the dead-letter listing
// (push.DeadLetters).
type FailureLog interface {
	RecordFailure(ctx context.Context, sub, messageID, reason string, attempt int) error
}

// DeadLetters writes the dead-letter copies of pull subscriptions where
// push delivery's go (%DLQ%<group>, readable, one queue), so the
// dead-letter endpoints list, redrive and purge them alike. RocketMQ never
// dead-letters a popped message itself.
type DeadLetters struct {
	send    Sender
	topics  TopicCreator
	errs    FailureLog
	cluster string

	mu      sync.Mutex
	created map[string]bool // dead-letter topics this process created
}

// NewDeadLetters returns a writer creating dead-letter topics on cluster.
func NewDeadLetters(send Sender, topics TopicCreator, errs FailureLog, cluster string) *DeadLetters {
	if cluster == "" {
		cluster = "DefaultCluster"
	}
	return &DeadLetters{send: send, topics: topics, errs: errs, cluster: cluster, created: map[string]bool{}}
}

// Write stores a copy of m in s's dead-letter queue, with its id, tag,
// keys and properties (RocketMQ's own left out), and records why for the
// listing. Only after it returns nil may the original be acked.
func (d *DeadLetters) Write(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt, attempts int) error {
	topic := "%DLQ%" + s.Group()
	d.mu.Lock()
	created := d.created[topic]
	d.mu.Unlock()
	if !created {
		if err := d.topics.CreateTopic(ctx, d.cluster, topic, 1); err != nil {
			return fmt.Errorf("pull: create %s: %w", topic, err)
		}
		d.mu.Lock()
		d.created[topic] = true
		d.mu.Unlock()
	}
	id := push.MessageID(m)
	reason := fmt.Sprintf("received %d times without an ack (maxAttempts %d)", attempts, s.MaxAttempts)
	if err := d.errs.RecordFailure(ctx, s.ID, id, reason, attempts); err != nil {
		return fmt.Errorf("pull: record dead letter %s: %w", id, err)
	}
	props := map[string]string{}
	for k, v := range m.GetProperties() {
		if !brokertext.System(k) {
			props[k] = v
		}
	}
	if _, err := d.send.Send(ctx, broker.Message{ID: id, Topic: topic, Body: m.Body, Tag: m.GetTags(),
		Keys: strings.Fields(m.GetKeys()), Properties: props}); err != nil {
		return fmt.Errorf("pull: dead-letter %s: %w", id, err)
	}
	return nil
}
