package broker_test

import (
	"context"
	"errors"
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
		p = startTxProducer(t, broker.TxConfig{
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

// TestEndOutlivesTheCheckImmunityWindow: a half message with a
// check-immunity window (CHECK_IMMUNITY_TIME_IN_SECONDS) is still ended by
// a direct END after the window passed, because its END goes flagged as a
// check's answer; the control shows the broker refusing a producer's own
// END then. A half message without a window is ended by the producer's own
// END (DirectEnd), which the broker accepts at any time and does not log.
func TestEndOutlivesTheCheckImmunityWindow(t *testing.T) {
	const illegalOperation = 604 // ResponseCode.ILLEGAL_OPERATION
	s := testenv.Shared(t)
	// One queue: a message the refused commit wrote would come before
	// the marker committed last.
	topic := s.Topic(t, "tx-immune", 1)
	recv := s.Consume(t, topic)
	ctx := context.Background()
	p := newHalfProducer(t, s, 3*time.Second) // check-backs stay unanswered

	seed := msgid.New(time.Now())
	send := func(i uint16, props map[string]string) broker.Half {
		h, err := p.SendHalf(ctx, broker.Message{ID: seed.ID(i), Topic: topic, Body: []byte("immunity"), Properties: props})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	window := map[string]string{"CHECK_IMMUNITY_TIME_IN_SECONDS": "1"}
	plain, immune, control := send(0, nil), send(1, window), send(2, window)
	if !plain.DirectEnd || immune.DirectEnd || control.DirectEnd {
		t.Fatalf("DirectEnd: without a window %v, with one %v and %v; want true, false, false", plain.DirectEnd, immune.DirectEnd, control.DirectEnd)
	}
	// The broker's window is at least its transactionTimeOut (2 s in the
	// test stack).
	time.Sleep(3 * time.Second)

	control.DirectEnd = true // a producer's own END, past the window
	if err := p.End(ctx, control, broker.Commit); !errors.Is(err, broker.ErrEndRefused) || broker.RemoteCode(err) != illegalOperation {
		t.Fatalf("a producer's own commit past the check-immunity window: %v, want refused with ILLEGAL_OPERATION", err)
	}
	for _, h := range []broker.Half{plain, immune} {
		if err := p.End(ctx, h, broker.Commit); err != nil {
			t.Fatalf("commit %s past the window: %v", h.MessageID, err)
		}
	}
	recv.WaitForID(t, plain.MessageID, 30*time.Second)
	recv.WaitForID(t, immune.MessageID, 30*time.Second)
	control.DirectEnd = false
	if err := p.End(ctx, control, broker.Rollback); err != nil {
		t.Fatalf("roll the control back: %v", err)
	}
	marker := send(3, nil)
	if err := p.End(ctx, marker, broker.Commit); err != nil {
		t.Fatalf("commit the marker: %v", err)
	}
	recv.WaitForID(t, marker.MessageID, 30*time.Second)
	if n := recv.Count(control.MessageID); n != 0 {
		t.Fatalf("the refused commit delivered the message %d times", n)
	}
}

// startTxProducer starts a transaction producer with cfg whose check-backs
// go to check, and shuts it down when the test ends.
func startTxProducer(t *testing.T, cfg broker.TxConfig, check func(context.Context, broker.CheckRequest)) *broker.TxProducer {
	t.Helper()
	p, err := broker.NewTxProducer(cfg, check)
	return started(t, p, err)
}

// started starts p, made with err, and shuts it down when the test ends.
func started[P interface {
	Start() error
	Shutdown() error
}](t *testing.T, p P, err error) P {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}
