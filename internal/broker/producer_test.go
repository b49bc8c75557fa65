package broker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func TestSendBrowseAndLag(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "browse", 2)
	ctx := context.Background()
	p, err := broker.NewProducer(broker.Config{NameServers: []string{s.NameServer}, Group: "test-browse", SendTimeout: 3 * time.Second})
	p = started(t, p, err)
	if err := p.Check(ctx); err != nil {
		t.Fatalf("readiness with a running broker: %v", err)
	}
	seed := msgid.New(time.Now())
	for i := uint16(0); i < 3; i++ {
		rc, err := p.Send(ctx, broker.Message{ID: seed.ID(i), Topic: topic, Body: []byte("b"), Tag: "T"})
		if err != nil || rc.MessageID != seed.ID(i) || rc.BrokerName == "" {
			t.Fatalf("send: %+v, %v", rc, err)
		}
	}
	if _, err := p.Send(ctx, broker.Message{ID: seed.ID(9), Topic: "no-such-topic-" + seed.String()[:8], Body: []byte("b")}); !errors.Is(err, broker.ErrTopicNotFound) {
		t.Fatalf("send to a missing topic: %v, want ErrTopicNotFound", err)
	}

	admin := broker.NewAdmin([]string{s.NameServer})
	pos, err := admin.Positions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, q := range pos {
		total += q.Max - q.Min
	}
	if len(pos) != 2 || total != 3 {
		t.Fatalf("positions = %+v, want 2 queues holding 3 messages", pos)
	}
	msgs, err := admin.Browse(ctx, topic, pos, func(broker.Position) int64 { return 0 }, 10)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("browse: %d messages, %v", len(msgs), err)
	}
	lag, err := admin.Lag(ctx, "group-that-never-consumed", topic)
	if err != nil || lag != 3 {
		t.Fatalf("lag = %d, %v; want 3", lag, err)
	}
	if none, err := admin.Positions(ctx, "no-such-topic-"+seed.String()[:8]); err != nil || len(none) != 0 {
		t.Fatalf("positions of a missing topic: %v, %v", none, err)
	}
}

// TestCoalescedSendsKeepTheirOwnReceipts: concurrent single sends share
// broker requests, and each receipt still names where its own message is.
func TestCoalescedSendsKeepTheirOwnReceipts(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "coalesce", 2)
	recv := s.Consume(t, topic)
	var requests, messages atomic.Int64
	p, err := broker.NewProducer(broker.Config{NameServers: []string{s.NameServer}, Group: "test-coalesce",
		SendTimeout: 3 * time.Second, Coalesce: true, CoalesceMax: 16, MaxBytes: 4 << 20,
		Observe: func(_, outcome string, n int, _ time.Duration) {
			if outcome == "ok" {
				requests.Add(1)
				messages.Add(int64(n))
			}
		}})
	p = started(t, p, err)

	const n = 64
	seed := msgid.New(time.Now())
	receipts := make([]broker.Receipt, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rc, err := p.Send(context.Background(), broker.Message{ID: seed.ID(uint16(i)), Topic: topic, Body: []byte(fmt.Sprintf("m%d", i)),
				Tag: fmt.Sprintf("t%d", i%3), Keys: []string{fmt.Sprintf("k%d", i), "all"}, Properties: map[string]string{"n": fmt.Sprint(i)}})
			if err != nil {
				t.Error(err)
			}
			receipts[i] = rc
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	recv.WaitFor(t, n, 60*time.Second)
	for i, rc := range receipts {
		m := recv.WaitForID(t, rc.MessageID, time.Second)
		if string(m.Body) != fmt.Sprintf("m%d", i) || m.Queue.QueueId != rc.QueueID || m.QueueOffset != rc.QueueOffset {
			t.Fatalf("message %d: stored %q at %d/%d, receipt says %d/%d", i, m.Body, m.Queue.QueueId, m.QueueOffset, rc.QueueID, rc.QueueOffset)
		}
		if m.GetTags() != fmt.Sprintf("t%d", i%3) || m.GetKeys() != fmt.Sprintf("k%d all", i) || m.GetProperty("n") != fmt.Sprint(i) {
			t.Fatalf("message %d: tag %q, keys %q, property n %q", i, m.GetTags(), m.GetKeys(), m.GetProperty("n"))
		}
	}
	if messages.Load() != n || requests.Load() >= n {
		t.Fatalf("%d messages in %d broker requests: not coalesced", messages.Load(), requests.Load())
	}
	t.Logf("%d messages in %d broker requests", messages.Load(), requests.Load())
}
