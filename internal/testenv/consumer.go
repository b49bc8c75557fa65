package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

// Received collects what a native push consumer received.
type Received struct {
	mu   sync.Mutex
	msgs []*primitive.MessageExt
	at   []time.Time
}

// Consume starts a native rocketmq-client-go push consumer (clustering, a
// group of its own, from the first offset) on topic and collects every
// message it receives until the test ends.
func (s Stack) Consume(t testing.TB, topic string) *Received {
	t.Helper()
	quietClientLogs()
	r := &Received{}
	group := "test-" + randomHex(6)
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{s.NameServer}),
		consumer.WithGroupName(group),
		consumer.WithInstance(group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
		consumer.WithConsumerModel(consumer.Clustering),
	)
	if err != nil {
		t.Fatalf("testenv: new consumer: %v", err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		now := time.Now()
		r.mu.Lock()
		for _, m := range msgs {
			r.msgs = append(r.msgs, m)
			r.at = append(r.at, now)
		}
		r.mu.Unlock()
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatalf("testenv: subscribe %s: %v", topic, err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("testenv: start consumer: %v", err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	return r
}

// quietClientLogs keeps the RocketMQ client's routine info lines out of
// test output (rlog's level is process-wide).
var quietClientLogs = sync.OnceFunc(func() { rlog.SetLogLevel("warn") })

// All returns a copy of what was received so far.
func (r *Received) All() []*primitive.MessageExt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*primitive.MessageExt(nil), r.msgs...)
}

// WaitFor waits until at least n messages arrived and returns them.
func (r *Received) WaitFor(t testing.TB, n int, within time.Duration) []*primitive.MessageExt {
	t.Helper()
	Eventually(t, within, func() error {
		if got := len(r.All()); got < n {
			return fmt.Errorf("received %d of %d messages", got, n)
		}
		return nil
	})
	return r.All()
}

// ID returns a message's id as the gateway reports it (its UNIQ_KEY).
func ID(m *primitive.MessageExt) string {
	return m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex)
}

// Count returns how many times a message with id was received.
func (r *Received) Count(id string) int {
	n := 0
	for _, m := range r.All() {
		if ID(m) == id {
			n++
		}
	}
	return n
}

// ReceivedAt returns when the first message with id arrived.
func (r *Received) ReceivedAt(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range r.msgs {
		if ID(m) == id {
			return r.at[i], true
		}
	}
	return time.Time{}, false
}

// WaitForID waits until a message with id arrived and returns it.
func (r *Received) WaitForID(t testing.TB, id string, within time.Duration) *primitive.MessageExt {
	t.Helper()
	var got *primitive.MessageExt
	Eventually(t, within, func() error {
		for _, m := range r.All() {
			if ID(m) == id {
				got = m
				return nil
			}
		}
		return fmt.Errorf("message %s not received (%d others)", id, len(r.All()))
	})
	return got
}
