package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Queues reads a topic's queues and messages (broker.Admin).
type Queues interface {
	Positions(ctx context.Context, topic string) ([]broker.Position, error)
	Browse(ctx context.Context, topic string, positions []broker.Position, from func(broker.Position) int64, limit int) ([]*primitive.MessageExt, error)
}

// TopicCreator creates a topic on a cluster's masters (broker.Admin).
type TopicCreator interface {
	CreateTopic(ctx context.Context, cluster, topic string, queues int) error
}

// Sender sends a message (broker.Producer).
type Sender interface {
	Send(ctx context.Context, m broker.Message) (broker.Receipt, error)
}

// ErrNotRedrivable means a dead letter's tag, keys or properties break the
// rules for text sent to the broker (package brokertext), so it cannot be
// sent again as it is. Redrive wraps it in a *NotRedrivableError.
var ErrNotRedrivable = errors.New("delivery: dead letter cannot be sent again")

// NotRedrivableError names the dead letter Redrive stopped at and why.
type NotRedrivableError struct {
	MessageID string
	Reason    string // the offending field (a JSON pointer) and the rule
}

// Error names the dead letter and the rule it breaks.
func (e *NotRedrivableError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrNotRedrivable, e.MessageID, e.Reason)
}

// Is makes errors.Is(err, ErrNotRedrivable) true.
func (e *NotRedrivableError) Is(target error) bool { return target == ErrNotRedrivable }

// DeadLetters lists, redrives and purges subscriptions' dead-letter queues
// (%DLQ%<group>). RocketMQ cannot delete a message, so Redis remembers per
// subscription which dead letters were redriven and up to where each queue
// was purged, and each message's last delivery error. It also is the
// ErrorLog of deliveries.
type DeadLetters struct {
	rdb     redis.UniversalClient
	queues  Queues
	send    Sender
	topics  TopicCreator
	cluster string
	ttl     time.Duration
	created sync.Map // topics this process created
}

// NewDeadLetters returns a DeadLetters keeping its Redis records for ttl;
// it creates dead-letter and retry topics on cluster's masters.
func NewDeadLetters(rdb redis.UniversalClient, queues Queues, send Sender, topics TopicCreator, cluster string, ttl time.Duration) *DeadLetters {
	return &DeadLetters{rdb: rdb, queues: queues, send: send, topics: topics, cluster: cluster, ttl: ttl}
}

// DeadLetterTopic is s's dead-letter queue. The broker never
// dead-letters a popped message: the gateway stores the copy there.
func DeadLetterTopic(s subscription.Subscription) string { return "%DLQ%" + s.Group() }

// RetryTopic is the topic the broker keeps s's retries in (POP's
// %RETRY%{group}_{topic}); s's pops read it besides s's topic, so a
// message sent there is delivered to s alone.
func RetryTopic(s subscription.Subscription) string { return "%RETRY%" + s.Group() + "_" + s.Topic }

// ensure creates topic (one queue) once per process. The broker's own
// dead-letter topics are write-only; this one is readable, so dead
// letters can be listed.
func (d *DeadLetters) ensure(ctx context.Context, topic string) error {
	if _, ok := d.created.Load(topic); ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := d.topics.CreateTopic(ctx, d.cluster, topic, 1); err != nil {
		return fmt.Errorf("delivery: create %s: %w", topic, err)
	}
	d.created.Store(topic, true)
	return nil
}

// Store keeps a copy of m in s's dead-letter queue, with its message id,
// tag, keys, body and properties (RocketMQ's own aside), and returns once
// the broker stored it (SEND_OK): only then may m be acknowledged. A
// failure to store leaves m to the caller (keep it, try later).
func (d *DeadLetters) Store(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt) error {
	topic := DeadLetterTopic(s)
	if err := d.ensure(ctx, topic); err != nil {
		return err
	}
	props := map[string]string{}
	for k, v := range m.GetProperties() {
		if !brokertext.System(k) {
			props[k] = v
		}
	}
	props[propOrigin] = DefaultDedupID(m)
	if _, err := d.send.Send(ctx, broker.Message{ID: MessageID(m), Topic: topic, Body: m.Body, Tag: m.GetTags(),
		Keys: strings.Fields(m.GetKeys()), Properties: props}); err != nil {
		return fmt.Errorf("delivery: dead-letter %s of %s: %w", MessageID(m), s.ID, err)
	}
	return nil
}

// DeadLetter is one message in a dead-letter queue.
type DeadLetter struct {
	MessageID string
	DedupID   string
	Tag       string
	Keys      []string
	Attempts  int
	LastError string
	DeadAt    time.Time

	pos    broker.Position
	offset int64
	msg    *primitive.MessageExt
}

// maxBrowse bounds the dead letters read per listing, redriven ones
// included; purge moves the marks past what it dropped.
const maxBrowse = 20000

// Body returns the dead letter's body as the broker stored it.
func (dl DeadLetter) Body() []byte {
	if dl.msg == nil {
		return nil
	}
	return dl.msg.Body
}

func dlqKey(sub string) string { return "zl:dlq:{" + sub + "}" }

type failure struct {
	Reason  string    `json:"reason"`
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
}

// RecordFailure remembers a failed attempt's reason for the listing.
func (d *DeadLetters) RecordFailure(ctx context.Context, sub, messageID, reason string, attempt int) error {
	b, _ := json.Marshal(failure{Reason: reason, Attempt: attempt, At: time.Now().UTC()})
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, dlqKey(sub), "err:"+messageID, b)
	pipe.PExpire(ctx, dlqKey(sub), d.ttl)
	_, err := pipe.Exec(ctx)
	return err
}

// List returns up to limit current dead letters of s, oldest first.
func (d *DeadLetters) List(ctx context.Context, s subscription.Subscription, limit int) ([]DeadLetter, error) {
	topic := DeadLetterTopic(s)
	pos, err := d.queues.Positions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("delivery: dead letters of %s: %w", s.ID, err)
	}
	marks, err := d.rdb.HGetAll(ctx, dlqKey(s.ID)).Result()
	if err != nil {
		return nil, fmt.Errorf("delivery: dead letters of %s: %w", s.ID, err)
	}
	from := func(p broker.Position) int64 {
		n, _ := strconv.ParseInt(marks["purged:"+p.Key()], 10, 64)
		return n
	}
	// Browse everything past the purge marks (bounded), skip redriven ones.
	msgs, err := d.queues.Browse(ctx, topic, pos, from, maxBrowse)
	if err != nil {
		return nil, fmt.Errorf("delivery: dead letters of %s: %w", s.ID, err)
	}
	var out []DeadLetter
	for _, m := range msgs {
		p := broker.Position{BrokerName: m.Queue.BrokerName, QueueID: m.Queue.QueueId}
		if marks["done:"+p.Key()+":"+strconv.FormatInt(m.QueueOffset, 10)] != "" {
			continue
		}
		dl := DeadLetter{MessageID: MessageID(m), DedupID: DedupID(s, m), Tag: m.GetTags(), Keys: strings.Fields(m.GetKeys()),
			Attempts: max(int(m.ReconsumeTimes), 1), DeadAt: time.UnixMilli(m.StoreTimestamp).UTC(), pos: p, offset: m.QueueOffset, msg: m}
		var f failure
		if json.Unmarshal([]byte(marks["err:"+dl.MessageID]), &f) == nil {
			dl.LastError = f.Reason
			dl.Attempts = f.Attempt
		}
		out = append(out, dl)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// RedriveFilter picks the dead letters a redrive sends; its zero value
// picks them all. A dead letter is picked when every field set holds.
type RedriveFilter struct {
	IDs   []string  // message ids
	Since time.Time // died at or after
	Until time.Time // died before
}

// ErrBadWindow is returned for a RedriveFilter whose Until is before its
// Since.
var ErrBadWindow = errors.New("delivery: redrive window ends before it starts")

// Validate reports whether f can pick anything at all.
func (f RedriveFilter) Validate() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return fmt.Errorf("%w (since %s, until %s)", ErrBadWindow, f.Since.Format(time.RFC3339Nano), f.Until.Format(time.RFC3339Nano))
	}
	return nil
}

// picks reports whether dl passes f (want is f.IDs as a set).
func (f RedriveFilter) picks(dl DeadLetter, want map[string]bool) bool {
	return (len(want) == 0 || want[dl.MessageID]) &&
		(f.Since.IsZero() || !dl.DeadAt.Before(f.Since)) &&
		(f.Until.IsZero() || dl.DeadAt.Before(f.Until))
}

// Redrive sends the dead letters f picks back to the subscription's retry
// topic (RetryTopic), with their ids and properties, so they are
// delivered again (through dedup) with a fresh attempt count. It returns
// how many it sent.
func (d *DeadLetters) Redrive(ctx context.Context, s subscription.Subscription, f RedriveFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	dls, err := d.List(ctx, s, 10000)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, id := range f.IDs {
		want[id] = true
	}
	n := 0
	for _, dl := range dls {
		if !f.picks(dl, want) {
			continue
		}
		// Everything but RocketMQ's own properties goes along: the user's,
		// trace context and the gateway's own (ZL_*).
		props, user := map[string]string{}, map[string]string{}
		for k, v := range dl.msg.GetProperties() {
			if brokertext.System(k) {
				continue
			}
			props[k] = v
			if !brokertext.Reserved(k) {
				user[k] = v
			}
		}
		// A dead letter from a native producer may carry text the gateway
		// never sends (a control character, a tag with a space).
		if vs := brokertext.Check("", brokertext.Message{Tag: dl.Tag, Keys: dl.Keys, Properties: user}); len(vs) > 0 {
			return n, &NotRedrivableError{MessageID: dl.MessageID, Reason: vs[0].Field + " " + vs[0].Reason}
		}
		if err := d.ensure(ctx, RetryTopic(s)); err != nil {
			return n, err
		}
		if _, err := d.send.Send(ctx, broker.Message{ID: dl.MessageID, Topic: RetryTopic(s), Body: dl.msg.Body,
			Tag: dl.Tag, Keys: dl.Keys, Properties: props}); err != nil {
			return n, fmt.Errorf("delivery: redrive %s: %w", dl.MessageID, err)
		}
		if err := d.rdb.HSet(ctx, dlqKey(s.ID), "done:"+dl.pos.Key()+":"+strconv.FormatInt(dl.offset, 10), 1).Err(); err != nil {
			return n, fmt.Errorf("delivery: mark %s redriven: %w", dl.MessageID, err)
		}
		n++
	}
	return n, nil
}

// Purge drops the dead letters of s that a listing shows now (not ones
// that arrive meanwhile) and returns how many.
func (d *DeadLetters) Purge(ctx context.Context, s subscription.Subscription) (int, error) {
	dls, err := d.List(ctx, s, maxBrowse)
	if err != nil {
		return 0, err
	}
	marks := map[string]int64{}
	for _, dl := range dls {
		marks[dl.pos.Key()] = max(marks[dl.pos.Key()], dl.offset+1)
	}
	for q, off := range marks {
		if err := d.rdb.HSet(ctx, dlqKey(s.ID), "purged:"+q, off).Err(); err != nil {
			return 0, fmt.Errorf("delivery: purge %s: %w", s.ID, err)
		}
	}
	return len(dls), nil
}
