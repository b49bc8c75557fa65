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
)

// Received collects what a native push consumer received.
type Received struct {
	mu   sync.Mutex
	msgs []*primitive.MessageExt
}

// Consume starts a native rocketmq-client-go push consumer (clustering, a
// group of its own, from the first offset) on topic and collects every
// message it receives until the test ends.
func (s Stack) Consume(t testing.TB, topic string) *Received {
	t.Helper()
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
		r.mu.Lock()
		r.msgs = append(r.msgs, msgs...)
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
