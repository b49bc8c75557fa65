package broker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestCheckBacksAreBounded: with a checker as slow as a stalled Redis
// (it blocks until its timeout), the check-backs handled at once never
// exceed MaxConcurrentChecks; the others are dropped at once (the broker
// asks again), so nothing piles up.
func TestCheckBacksAreBounded(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "txbound", 2)
	const limit, halves = 2, 30
	var (
		mu             sync.Mutex
		inFlight, peak int
		handled        atomic.Int64
		dropped        atomic.Int64
	)
	group := "test-txbound-" + msgid.New(time.Now()).String()[:12]
	p := startTxProducer(t, broker.TxConfig{
		NameServers: []string{s.NameServer}, Group: group, SendTimeout: 3 * time.Second, Retries: 1,
		MaxConcurrentChecks: limit, CheckTimeout: 2 * time.Second, OnCheckDropped: func() { dropped.Add(1) },
	}, func(ctx context.Context, _ broker.CheckRequest) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		handled.Add(1)
		<-ctx.Done() // a stalled Redis: the checker gives up at its timeout
		mu.Lock()
		inFlight--
		mu.Unlock()
	})
	seed := msgid.New(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < halves; i++ {
		if _, err := p.SendHalf(ctx, broker.Message{ID: seed.ID(uint16(i)), Topic: topic, Body: []byte("undecided")}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		if dropped.Load() < halves {
			return context.DeadlineExceeded
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if peak > limit || peak == 0 {
		t.Fatalf("%d check-backs handled at once, limit %d", peak, limit)
	}
	t.Logf("peak %d, handled %d, dropped %d", peak, handled.Load(), dropped.Load())
}
