package txcallback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// endFault is what happens to one message's next END_TRANSACTION on its
// way to the real broker.
type endFault struct {
	// hold, when set, keeps the END from leaving until it is closed (an
	// END slow on the network or in the broker's queue).
	hold chan struct{}
	// lose sends the END but loses its answer (the connection broke).
	lose bool
	// refuse sends the END with a wrong queue offset: the broker answers
	// SYSTEM_ERROR ("the transaction state table offset wrong") and ends
	// nothing.
	refuse bool
}

// endGate injects faults into the ENDs sent to the real broker.
type endGate struct {
	mu     sync.Mutex
	faults map[string]endFault
}

func (g *endGate) set(id string, f endFault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults[id] = f
}

func (g *endGate) end(ctx context.Context, h broker.Half, d broker.Decision, send func(context.Context, broker.Half, broker.Decision) error) error {
	g.mu.Lock()
	f, ok := g.faults[h.MessageID]
	delete(g.faults, h.MessageID)
	g.mu.Unlock()
	switch {
	case !ok:
		return send(ctx, h, d)
	case f.hold != nil:
		select {
		case <-f.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
		return send(ctx, h, d)
	case f.lose:
		if err := send(ctx, h, d); err != nil {
			return err
		}
		return errors.New("test: the END's answer was lost")
	case f.refuse:
		h.QueueOffset++
		return send(ctx, h, d)
	}
	return send(ctx, h, d)
}

// TestEndClaimHeldUntilTheOutcomeIsKnown: a commit whose END_TRANSACTION is
// not answered within EndTimeout keeps its claim. While that END may still
// land, neither another commit (on another replica), nor a broker
// check-back, nor the resolver sends a second one; once the broker's answer
// proves it did not land, the next retry sends it. Each message is consumed
// exactly once.
func TestEndClaimHeldUntilTheOutcomeIsKnown(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	e := newRaceEnv(t, s, Config{EndTimeout: 100 * time.Millisecond, EndWait: time.Minute}, nil)
	warm := e.begin(t, "warm-up")
	if _, err := e.a.Decide(ctx, "t", warm.ID, broker.Commit, allowAll); err != nil {
		t.Fatal(err)
	}
	committed := []string{warm.MessageID}

	// retries makes every other attempt to end tx that the gateway has:
	// a commit on replica b, a check-back on each replica, a resolver pass.
	retries := func(tx Transaction) {
		t.Helper()
		if _, err := e.b.Decide(ctx, "t", tx.ID, broker.Commit, allowAll); err != nil {
			t.Fatalf("retried commit: %v", err)
		}
		req := broker.CheckRequest{MessageID: tx.MessageID, Topic: tx.Topic, Properties: map[string]string{TxPropertyKey: tx.ID},
			CheckTimes: 1, Half: tx.Half}
		e.a.Check(ctx, req)
		e.b.Check(ctx, req)
		now, _, err := e.b.store.Due(ctx, 0, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		e.b.resolveOne(ctx, tx.ID, now)
	}
	ended := func(tx Transaction) func() error {
		return func() error {
			got, err := e.a.Get(ctx, "t", tx.ID)
			if err != nil || !got.Ended {
				return fmt.Errorf("%s not ended yet (%v)", tx.ID, err)
			}
			return nil
		}
	}

	tests := []struct {
		name     string
		fault    func() (endFault, func())
		wantSent int
	}{
		{"answer after the caller stopped waiting", func() (endFault, func()) {
			hold := make(chan struct{})
			return endFault{hold: hold}, func() { close(hold) }
		}, 1},
		{"answer lost", func() (endFault, func()) { return endFault{lose: true}, func() {} }, 1},
		{"refused by the broker", func() (endFault, func()) { return endFault{refuse: true}, func() {} }, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx := e.begin(t, tc.name)
			if tx.ID == "" {
				t.FailNow()
			}
			f, release := tc.fault()
			e.gate.set(tx.MessageID, f)
			got, err := e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll)
			if err != nil || got.Ended {
				t.Fatalf("commit = ended %v, %v; want not ended (no answer within EndTimeout)", got.Ended, err)
			}
			switch {
			case f.refuse:
				// The claim comes back once the refusal is recorded; a
				// retry then ends it.
				testenv.Eventually(t, 30*time.Second, func() error {
					retries(tx)
					return ended(tx)()
				})
			default:
				// The first END may still land: nothing else is sent.
				retries(tx)
				retries(tx)
				if n := e.endsOf(tx.MessageID); n != 1 {
					t.Fatalf("%d END_TRANSACTION requests while the first one was unanswered, want 1", n)
				}
				release()
				if !f.lose {
					testenv.Eventually(t, 30*time.Second, ended(tx))
				}
			}
			retries(tx)
			if n := e.endsOf(tx.MessageID); n != tc.wantSent {
				t.Errorf("%d END_TRANSACTION requests, want %d", n, tc.wantSent)
			}
			committed = append(committed, tx.MessageID)
		})
	}
	e.settle(t, committed, nil)
}
