package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func TestHalfMessagesEndFromAnotherClientAndByCheckBack(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "tx", 2)
	recv := s.Consume(t, topic)
	ctx := context.Background()

	var (
		mu      sync.Mutex
		checked = map[string]int{}
		commit  = map[string]bool{}
	)
	group := "test-tx-" + msgid.New(time.Now()).String()[:12]
	newProducer := func(instance string) *broker.TxProducer {
		var p *broker.TxProducer
		p, err := broker.NewTxProducer(broker.TxConfig{
			NameServers: []string{s.NameServer}, Group: group, InstanceName: instance,
			SendTimeout: 3 * time.Second, Retries: 1,
		}, func(ctx context.Context, req broker.CheckRequest) {
			mu.Lock()
			checked[req.MessageID]++
			c := commit[req.MessageID]
			mu.Unlock()
			if c {
				if err := p.End(ctx, req.Half, broker.Commit); err != nil {
					t.Errorf("commit from the check-back: %v", err)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Shutdown() })
		return p
	}
	sender, ender := newProducer(group+"-a"), newProducer(group+"-b")

	seed := msgid.New(time.Now())
	send := func(i uint16, tag string) broker.Half {
		h, err := sender.SendHalf(ctx, broker.Message{ID: seed.ID(i), Topic: topic, Body: []byte(tag), Tag: tag})
		if err != nil {
			t.Fatal(err)
		}
		if h.MessageID != seed.ID(i) || h.BrokerName == "" || h.BrokerAddr == "" || h.CommitLogOffset <= 0 && i > 0 {
			t.Fatalf("half = %+v", h)
		}
		return h
	}
	a, b, c := send(0, "TAGA"), send(1, "TAGB"), send(2, "TAGC")
	if err := ender.End(ctx, a, broker.Commit); err != nil {
		t.Fatalf("commit from another client: %v", err)
	}
	if err := ender.End(ctx, b, broker.Rollback); err != nil {
		t.Fatalf("rollback from another client: %v", err)
	}
	recv.WaitForID(t, a.MessageID, 30*time.Second)

	// TAGC stays undecided until the check-back says commit.
	testenv.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if checked[c.MessageID] == 0 {
			return context.DeadlineExceeded
		}
		commit[c.MessageID] = true
		return nil
	})
	recv.WaitForID(t, c.MessageID, 30*time.Second)
	if recv.Count(b.MessageID) != 0 {
		t.Fatal("a rolled-back message was delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if checked[a.MessageID] != 0 || checked[b.MessageID] != 0 {
		t.Errorf("ended transactions were checked back: %v", checked)
	}
}
