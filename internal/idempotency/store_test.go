package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func newStore(t *testing.T, cfg idempotency.Config) *idempotency.Store {
	t.Helper()
	rdb := testenv.Shared(t).Redis(t)
	if cfg.Prefix == "" {
		cfg.Prefix = "zl:test:" + t.Name() + ":" + time.Now().Format("150405.000000000") + ":"
	}
	s, err := idempotency.NewStore(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: time.Minute})

	first, err := s.Begin(ctx, "alice", "k1", "fp1")
	if err != nil || first.Outcome != idempotency.Acquired || first.TakeOver {
		t.Fatalf("first begin = %+v, %v", first, err)
	}
	if c, _ := s.Begin(ctx, "alice", "k1", "fp1"); c.Outcome != idempotency.InProgress || c.RetryAfter <= 0 || c.RetryAfter > time.Minute {
		t.Fatalf("second begin while running = %+v", c)
	}
	if c, _ := s.Begin(ctx, "alice", "k1", "other"); c.Outcome != idempotency.Mismatch {
		t.Fatalf("begin with another payload = %+v", c)
	}
	if c, _ := s.Begin(ctx, "bob", "k1", "fp-b"); c.Outcome != idempotency.Acquired {
		t.Fatalf("same key for another caller must be independent: %+v", c)
	}
	resp := idempotency.Response{Status: 201, ContentType: "application/json", Body: []byte(`{"messageId":"X"}`)}
	if err := s.Complete(ctx, first, resp); err != nil {
		t.Fatal(err)
	}
	c, err := s.Begin(ctx, "alice", "k1", "fp1")
	if err != nil || c.Outcome != idempotency.Replayed {
		t.Fatalf("begin after complete = %+v, %v", c, err)
	}
	if c.Response.Status != 201 || c.Response.ContentType != "application/json" || string(c.Response.Body) != `{"messageId":"X"}` {
		t.Fatalf("replayed response = %+v", c.Response)
	}
	if c, _ := s.Begin(ctx, "alice", "k1", "other"); c.Outcome != idempotency.Mismatch {
		t.Fatalf("completed key with another payload = %+v", c)
	}
}

func TestReleaseKeepsTheSeed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: time.Minute})
	first, err := s.Begin(ctx, "alice", "k", "fp")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, first); err != nil {
		t.Fatal(err)
	}
	again, err := s.Begin(ctx, "alice", "k", "fp")
	if err != nil || again.Outcome != idempotency.Acquired || !again.TakeOver {
		t.Fatalf("begin after release = %+v, %v", again, err)
	}
	if again.Seed != first.Seed {
		t.Fatal("a retry after release must reuse the seed (same message ids)")
	}
	if err := s.Release(ctx, first); !errors.Is(err, idempotency.ErrNotOwner) {
		t.Fatalf("release by the old owner = %v, want ErrNotOwner", err)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: 300 * time.Millisecond})
	first, err := s.Begin(ctx, "alice", "k", "fp")
	if err != nil {
		t.Fatal(err)
	}
	var taken idempotency.Claim
	testenv.Eventually(t, 10*time.Second, func() error {
		c, err := s.Begin(ctx, "alice", "k", "fp")
		if err != nil {
			return err
		}
		if c.Outcome != idempotency.Acquired {
			return errors.New("still running")
		}
		taken = c
		return nil
	})
	if !taken.TakeOver || taken.Seed != first.Seed {
		t.Fatalf("take-over = %+v, want same seed as the dead request", taken)
	}
	err = s.Complete(ctx, first, idempotency.Response{Status: 201})
	if !errors.Is(err, idempotency.ErrNotOwner) {
		t.Fatalf("complete by the expired owner = %v, want ErrNotOwner", err)
	}
	if err := s.Complete(ctx, taken, idempotency.Response{Status: 201, Body: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentBeginAcquiresOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: time.Minute})
	const n = 32
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[idempotency.Outcome]int{}
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Begin(ctx, "alice", "race", "fp")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			outcomes[c.Outcome]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outcomes[idempotency.Acquired] != 1 || outcomes[idempotency.InProgress] != n-1 {
		t.Fatalf("outcomes = %v, want 1 acquired and %d in progress", outcomes, n-1)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  idempotency.Config
		ok   bool
	}{
		{"valid", idempotency.Config{TTL: time.Hour, Lease: time.Minute}, true},
		{"zero ttl", idempotency.Config{Lease: time.Minute}, false},
		{"lease past ttl", idempotency.Config{TTL: time.Minute, Lease: time.Hour}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestConcurrentRequestsShareRoundTrips: many requests with their own keys
// at once each get their own outcome through every phase, in fewer round
// trips to Redis than scripts.
func TestConcurrentRequestsShareRoundTrips(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: time.Minute})
	const n = 64
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	// each runs fn for every key at once and waits for all.
	each := func(fn func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := fn(i); err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	before := s.RoundTrips()
	claims := make([]idempotency.Claim, n)
	each(func(i int) error {
		c, err := s.Begin(ctx, "alice", keys[i], "fp"+keys[i])
		if err == nil && c.Outcome != idempotency.Acquired {
			err = fmt.Errorf("%s: outcome %v, want acquired", keys[i], c.Outcome)
		}
		claims[i] = c
		return err
	})
	each(func(i int) error {
		if i%2 == 1 {
			return s.Release(ctx, claims[i])
		}
		return s.Complete(ctx, claims[i], idempotency.Response{Status: 201, ContentType: "application/json", Body: []byte(keys[i])})
	})
	each(func(i int) error {
		c, err := s.Begin(ctx, "alice", keys[i], "fp"+keys[i])
		switch {
		case err != nil:
			return err
		case i%2 == 0 && (c.Outcome != idempotency.Replayed || string(c.Response.Body) != keys[i]):
			return fmt.Errorf("%s: %+v, want its own answer replayed", keys[i], c)
		case i%2 == 1 && (c.Outcome != idempotency.Acquired || c.Seed != claims[i].Seed):
			return fmt.Errorf("%s: %+v, want acquired again with the same seed", keys[i], c)
		}
		return nil
	})
	trips := s.RoundTrips() - before
	if trips >= 3*n {
		t.Fatalf("%d round trips for %d scripts: not pipelined", trips, 3*n)
	}
	t.Logf("%d scripts in %d round trips", 3*n, trips)
}

func TestQueuedScriptLeavesAtItsDeadline(t *testing.T) {
	s := newStore(t, idempotency.Config{TTL: time.Hour, Lease: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled request never reaches Redis and says why.
	if _, err := s.Begin(ctx, "alice", "late", "fp"); !errors.Is(err, context.Canceled) {
		t.Fatalf("begin with a cancelled context: %v", err)
	}
	c, err := s.Begin(context.Background(), "alice", "late", "fp")
	if err != nil || c.Outcome != idempotency.Acquired {
		t.Fatalf("the key after a cancelled begin: %+v, %v; want acquired", c, err)
	}
}
