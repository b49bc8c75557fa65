package dedup_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/dedup"
)

// TestBatcherAnswersEachCallerOnceAndBatches: 64 concurrent callers (32
// ids, each claimed twice) get the same answers as single calls would —
// one Claimed and one Busy per id — in fewer round trips than calls.
func TestBatcherAnswersEachCallerOnceAndBatches(t *testing.T) {
	rdb := redisFor(t)
	s := newStore(t, rdb, dedup.Config{Window: time.Hour, Lease: time.Minute})
	if _, err := s.Claim(context.Background(), "warm", "up"); err != nil { // loads the script
		t.Fatal(err)
	}
	rt := countRoundTrips(rdb)
	b := dedup.NewBatcher(s, 64)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	const ids = 32
	var (
		mu     sync.Mutex
		status = map[string][]dedup.Status{}
		claims []dedup.Claim
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for i := 0; i < 2*ids; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			id := fmt.Sprintf("m-%d", i%ids)
			c, err := b.ClaimFor(context.Background(), "sub", id, 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			status[id] = append(status[id], c.Status)
			if c.Status == dedup.Claimed {
				claims = append(claims, c)
			}
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	for id, st := range status {
		if len(st) != 2 || (st[0] == st[1]) || (st[0] != dedup.Claimed && st[1] != dedup.Claimed) {
			t.Fatalf("%s: %v, want one Claimed and one Busy", id, st)
		}
	}
	for _, c := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Delivered(context.Background(), c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := rt.n.Load(); n >= 2*ids+ids {
		t.Errorf("%d round trips for %d claims and %d marks: not batched", n, 2*ids, ids)
	}
	t.Logf("%d round trips for %d claims and %d marks", rt.n.Load(), 2*ids, ids)
	for i := 0; i < ids; i++ {
		claim(t, s, "sub", fmt.Sprintf("m-%d", i), dedup.Delivered)
	}
}

func TestBatcherStopsAnswering(t *testing.T) {
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})
	b := dedup.NewBatcher(s, 8)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	stop()
	<-done
	if _, err := b.ClaimFor(context.Background(), "sub", "x", time.Second); err == nil {
		t.Fatal("a stopped batcher claimed")
	}
}

// TestBatcherAnswersACancelledCaller: a claim asked for with a context
// already cancelled (a delivery being stopped) still gets its answer, so
// the caller knows what it holds.
func TestBatcherAnswersACancelledCaller(t *testing.T) {
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})
	b := dedup.NewBatcher(s, 8)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := b.ClaimFor(cancelled, "sub", "cancelled", time.Minute)
	if err != nil || c.Status != dedup.Claimed {
		t.Fatalf("claim with a cancelled context: %+v, %v; want claimed", c, err)
	}
	if err := b.Delivered(cancelled, c); err != nil {
		t.Fatalf("mark with a cancelled context: %v", err)
	}
	claim(t, s, "sub", "cancelled", dedup.Delivered)
}
