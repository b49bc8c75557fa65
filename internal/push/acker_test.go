package push

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// gateSettler records the ack requests it gets; the first one waits for
// release, so that the acks made meanwhile queue behind it.
type gateSettler struct {
	memBroker
	release chan struct{}
	fail    error // the answer to batches

	mu      sync.Mutex
	singles int
	batches [][]pop.AckRequest
	once    sync.Once
}

func (g *gateSettler) Ack(ctx context.Context, group, topic string, h pop.Handle) error {
	g.once.Do(func() { <-g.release })
	g.mu.Lock()
	g.singles++
	g.mu.Unlock()
	return nil
}

func (g *gateSettler) AckBatch(_ context.Context, _ string, acks []pop.AckRequest) error {
	g.mu.Lock()
	g.batches = append(g.batches, acks)
	g.mu.Unlock()
	return g.fail
}

// waiting reports whether broker's queue has a request in flight and n
// acks waiting behind it.
func waiting(a *acker, broker string, n int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.queues[broker]
	return q != nil && q.busy && len(q.pending) == n
}

func TestAckerCoalesces(t *testing.T) {
	tests := []struct {
		name  string
		fail  error
		later int // acks queued while the first is in flight
		max   int
	}{
		{"queued acks share one batch", nil, 10, 256},
		{"batches are bounded", nil, 10, 4},
		{"a batch's error is each of its callers'", errors.New("broker down"), 5, 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateSettler{release: make(chan struct{}), fail: tc.fail}
			a := newAcker(g, tc.max)
			handle := func(off int64) pop.AckRequest {
				return pop.AckRequest{Group: "g", Topic: "t", Handle: pop.Handle{BrokerName: "b", Offset: off}}
			}
			errs := make(chan error, tc.later+1)
			go func() { errs <- a.ack(context.Background(), handle(0)) }()
			eventually(t, 5*time.Second, func() bool { return waiting(a, "b", 0) })
			for i := 1; i <= tc.later; i++ {
				go func() { errs <- a.ack(context.Background(), handle(int64(i))) }()
			}
			eventually(t, 5*time.Second, func() bool { return waiting(a, "b", tc.later) })
			close(g.release)
			var failed int
			for range tc.later + 1 {
				if err := <-errs; err != nil {
					if !errors.Is(err, tc.fail) {
						t.Fatalf("error %v, want %v", err, tc.fail)
					}
					failed++
				}
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			seen := map[int64]int{}
			for _, b := range g.batches {
				if len(b) > tc.max {
					t.Fatalf("batch of %d, max %d", len(b), tc.max)
				}
				for _, r := range b {
					seen[r.Handle.Offset]++
				}
			}
			if g.singles != 1 || len(seen) != tc.later {
				t.Fatalf("%d single acks and %d distinct batched, want 1 and %d", g.singles, len(seen), tc.later)
			}
			for off, n := range seen {
				if n != 1 || off == 0 {
					t.Fatalf("offset %d acked %d times in batches", off, n)
				}
			}
			if want := (tc.later + tc.max - 1) / tc.max; len(g.batches) != want {
				t.Fatalf("%d batches, want %d", len(g.batches), want)
			}
			if tc.fail != nil && failed != tc.later {
				t.Fatalf("%d callers saw the batch's error, want %d", failed, tc.later)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.queues) != 0 {
				t.Fatalf("queues left behind: %v", a.queues)
			}
		})
	}
}

// TestAckerLingersUnderLoad: the ack that gets the turn after a request
// in flight waits (linger) for more, and the acks made meanwhile leave
// with it in one batch; an ack with nothing in flight leaves at once.
func TestAckerLingersUnderLoad(t *testing.T) {
	g := &gateSettler{release: make(chan struct{})}
	a := newAcker(g, maxAckBatch)
	lingering := make(chan struct{})
	a.sleep = func(d time.Duration) {
		if d != a.linger {
			t.Errorf("slept %v, linger %v", d, a.linger)
		}
		close(lingering)
		// The acks below queue meanwhile (the batch check below fails
		// if they did not).
		for deadline := time.Now().Add(5 * time.Second); !waiting(a, "b", 5) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	handle := func(off int64) pop.AckRequest {
		return pop.AckRequest{Group: "g", Topic: "t", Handle: pop.Handle{BrokerName: "b", Offset: off}}
	}
	errs := make(chan error, 6)
	go func() { errs <- a.ack(context.Background(), handle(0)) }()
	eventually(t, 5*time.Second, func() bool { return waiting(a, "b", 0) })
	go func() { errs <- a.ack(context.Background(), handle(1)) }()
	eventually(t, 5*time.Second, func() bool { return waiting(a, "b", 1) })
	close(g.release)
	// Ack 1 has the turn now and lingers: the next ones join its batch.
	<-lingering
	for i := int64(2); i <= 5; i++ {
		go func() { errs <- a.ack(context.Background(), handle(i)) }()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.singles != 1 || len(g.batches) != 1 || len(g.batches[0]) != 5 {
		t.Fatalf("%d single acks and batches %v; want 1 single and one batch of 5", g.singles, g.batches)
	}
}
