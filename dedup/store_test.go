package dedup_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// redisFor returns a client of the shared stack's Redis, or skips under
// -short. A missing stack fails the test (testenv).
func redisFor(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	return testenv.Shared(tb).Redis(tb)
}

// newStore returns a Store on rdb under a prefix of its own, whose keys are
// deleted when the test ends.
func newStore(tb testing.TB, rdb redis.UniversalClient, cfg dedup.Config) *dedup.Store {
	tb.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = "zl:test:dedup:" + rand.Text() + ":"
	}
	s, err := dedup.NewStore(rdb, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { deleteKeys(tb, rdb, cfg.Prefix) })
	return s
}

func deleteKeys(tb testing.TB, rdb redis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
	if err := iter.Err(); err != nil {
		tb.Logf("delete test keys %s*: %v", prefix, err)
	}
}

func claim(t *testing.T, s *dedup.Store, sub, id string, want dedup.Status) dedup.Claim {
	t.Helper()
	c, err := s.Claim(context.Background(), sub, id)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", sub, id, err)
	}
	if c.Status != want {
		t.Fatalf("Claim(%s, %s) = %v, want %v", sub, id, c.Status, want)
	}
	return c
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})

	first := claim(t, s, "sub-a", "m1", dedup.Claimed)
	busy := claim(t, s, "sub-a", "m1", dedup.Busy)
	if busy.RetryAfter <= 0 || busy.RetryAfter > time.Minute {
		t.Fatalf("busy RetryAfter = %s, want (0, 1m]", busy.RetryAfter)
	}
	if err := s.Delivered(ctx, first); err != nil {
		t.Fatal(err)
	}
	dup := claim(t, s, "sub-a", "m1", dedup.Delivered)
	if err := s.Delivered(ctx, dup); err != nil {
		t.Fatalf("Delivered on a Delivered claim = %v, want nil (nothing to do)", err)
	}
	if err := s.Release(ctx, first); !errors.Is(err, dedup.ErrNotOwner) {
		t.Fatalf("Release after Delivered = %v, want ErrNotOwner", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Delivered)
}

func TestReleaseLetsARetryClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})

	first := claim(t, s, "sub-a", "m1", dedup.Claimed)
	if err := s.Release(ctx, first); err != nil {
		t.Fatal(err)
	}
	retry := claim(t, s, "sub-a", "m1", dedup.Claimed)
	if err := s.Release(ctx, first); !errors.Is(err, dedup.ErrNotOwner) {
		t.Fatalf("second Release by the first owner = %v, want ErrNotOwner", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Busy) // the retry still holds it
	if err := s.Delivered(ctx, retry); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "sub-a", "m1", dedup.Delivered)
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: lease})

	dead := claim(t, s, "sub-a", "m1", dedup.Claimed) // its replica dies now
	var taken dedup.Claim
	testenv.Eventually(t, 10*time.Second, func() error {
		c, err := s.Claim(ctx, "sub-a", "m1")
		if err != nil {
			return err
		}
		if c.Status != dedup.Claimed {
			if c.Status != dedup.Busy || c.RetryAfter <= 0 || c.RetryAfter > lease {
				t.Fatalf("claim under a live lease = %+v, want Busy with RetryAfter in (0, %s]", c, lease)
			}
			return fmt.Errorf("still %v", c.Status)
		}
		taken = c
		return nil
	})
	if err := s.Release(ctx, dead); !errors.Is(err, dedup.ErrNotOwner) {
		t.Fatalf("Release by the expired owner = %v, want ErrNotOwner", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Busy) // still the new owner's

	// The expired owner's webhook call did succeed after all: the endpoint
	// has the message, so it is delivered, whoever holds the lease.
	if err := s.Delivered(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, taken); !errors.Is(err, dedup.ErrNotOwner) {
		t.Fatalf("Release by the new owner after Delivered = %v, want ErrNotOwner", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Delivered)
}

func TestConcurrentClaimsClaimOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})
	const n = 32
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[dedup.Status]int{}
	)
	for range n {
		wg.Go(func() {
			c, err := s.Claim(ctx, "sub-a", "race")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			statuses[c.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[dedup.Claimed] != 1 || statuses[dedup.Busy] != n-1 {
		t.Fatalf("statuses = %v, want 1 claimed and %d busy", statuses, n-1)
	}
}

func TestConcurrentClaimManyClaimsEachOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})
	ids := make([]string, 32)
	for i := range ids {
		ids[i] = "m" + strconv.Itoa(i)
	}
	const replicas = 8
	var (
		wg      sync.WaitGroup
		claimed [32]atomic.Int32
	)
	for range replicas {
		wg.Go(func() {
			cs, err := s.ClaimMany(ctx, "sub-a", ids)
			if err != nil {
				t.Error(err)
				return
			}
			for i, c := range cs {
				if c.Status == dedup.Claimed {
					claimed[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range claimed {
		if n := claimed[i].Load(); n != 1 {
			t.Errorf("%s claimed %d times by %d batches, want once", ids[i], n, replicas)
		}
	}
}

// TestBatchesMatchSingleCalls runs the same history through two stores:
// one asked a message at a time, the other in batches.
func TestBatchesMatchSingleCalls(t *testing.T) {
	ctx := context.Background()
	rdb := redisFor(t)
	cfg := dedup.Config{Window: time.Hour, Lease: time.Minute}
	single, batch := newStore(t, rdb, cfg), newStore(t, rdb, cfg)
	for _, s := range []*dedup.Store{single, batch} {
		if err := s.Delivered(ctx, claim(t, s, "sub-a", "delivered", dedup.Claimed)); err != nil {
			t.Fatal(err)
		}
		claim(t, s, "sub-a", "busy", dedup.Claimed) // held by another replica
		if err := s.Release(ctx, claim(t, s, "sub-a", "released", dedup.Claimed)); err != nil {
			t.Fatal(err)
		}
	}

	ids := []string{"new", "delivered", "busy", "released", "new"}
	want := []dedup.Status{dedup.Claimed, dedup.Delivered, dedup.Busy, dedup.Claimed, dedup.Busy}
	var one []dedup.Claim
	for _, id := range ids {
		c, err := single.Claim(ctx, "sub-a", id)
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, c)
	}
	many, err := batch.ClaimMany(ctx, "sub-a", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(many) != len(ids) {
		t.Fatalf("ClaimMany returned %d claims for %d ids", len(many), len(ids))
	}
	for i := range ids {
		if one[i].Status != want[i] || many[i].Status != want[i] {
			t.Errorf("%s: Claim = %v, ClaimMany = %v, want %v", ids[i], one[i].Status, many[i].Status, want[i])
		}
		if want[i] == dedup.Busy && (many[i].RetryAfter <= 0 || many[i].RetryAfter > cfg.Lease) {
			t.Errorf("%s: ClaimMany RetryAfter = %s, want (0, %s]", ids[i], many[i].RetryAfter, cfg.Lease)
		}
	}

	var oneClaimed, manyClaimed []dedup.Claim
	for i := range ids {
		if one[i].Status == dedup.Claimed {
			if err := single.Delivered(ctx, one[i]); err != nil {
				t.Fatal(err)
			}
			oneClaimed = append(oneClaimed, one[i])
		}
		if many[i].Status == dedup.Claimed {
			manyClaimed = append(manyClaimed, many[i])
		}
	}
	if err := batch.DeliveredMany(ctx, manyClaimed); err != nil {
		t.Fatal(err)
	}
	if len(oneClaimed) != 2 || len(manyClaimed) != 2 {
		t.Fatalf("claimed %d (single) and %d (batch), want 2", len(oneClaimed), len(manyClaimed))
	}

	want = []dedup.Status{dedup.Delivered, dedup.Delivered, dedup.Busy, dedup.Delivered, dedup.Delivered}
	many, err = batch.ClaimMany(ctx, "sub-a", ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		c, err := single.Claim(ctx, "sub-a", id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != want[i] || many[i].Status != want[i] {
			t.Errorf("after delivery, %s: Claim = %v, ClaimMany = %v, want %v", id, c.Status, many[i].Status, want[i])
		}
	}
}

func TestEmptyBatches(t *testing.T) {
	s := newStore(t, redisFor(t), dedup.Config{})
	cs, err := s.ClaimMany(context.Background(), "sub-a", nil)
	if err != nil || cs != nil {
		t.Fatalf("ClaimMany(nil) = %v, %v; want nil, nil", cs, err)
	}
	if err := s.DeliveredMany(context.Background(), nil); err != nil {
		t.Fatalf("DeliveredMany(nil) = %v", err)
	}
}

// roundTrips counts the commands and pipelines a client sends.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

func countRoundTrips(rdb redis.UniversalClient) *roundTrips {
	rt := &roundTrips{}
	rdb.AddHook(rt)
	return rt
}

func TestBatchesTakeOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb := redisFor(t)
	rt := countRoundTrips(rdb)
	s := newStore(t, rdb, dedup.Config{Window: time.Hour, Lease: time.Minute})
	if _, err := s.ClaimMany(ctx, "sub-a", []string{"warm-up"}); err != nil { // loads the script
		t.Fatal(err)
	}
	ids := make([]string, 32)
	for i := range ids {
		ids[i] = "m" + strconv.Itoa(i)
	}

	rt.n.Store(0)
	cs, err := s.ClaimMany(ctx, "sub-a", ids)
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n != 1 {
		t.Errorf("ClaimMany of %d took %d round trips, want 1", len(ids), n)
	}
	rt.n.Store(0)
	if err := s.DeliveredMany(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n != 1 {
		t.Errorf("DeliveredMany of %d took %d round trips, want 1", len(cs), n)
	}
}

// TestScriptCacheFlushed: after a restart or failover a node has no
// scripts; EVALSHA answers NOSCRIPT and the store falls back to EVAL. (The
// flush is harmless to other packages sharing this Redis: every script user
// in the repo goes through Script.Run or this fallback.)
func TestScriptCacheFlushed(t *testing.T) {
	ctx := context.Background()
	rdb := redisFor(t)
	s := newStore(t, rdb, dedup.Config{Window: time.Hour, Lease: time.Minute})

	flush := func() {
		t.Helper()
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	cs, err := s.ClaimMany(ctx, "sub-a", []string{"m1", "m2", "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Status != dedup.Claimed || cs[1].Status != dedup.Claimed || cs[2].Status != dedup.Busy {
		t.Fatalf("ClaimMany after SCRIPT FLUSH = %v %v %v, want claimed claimed busy", cs[0].Status, cs[1].Status, cs[2].Status)
	}
	flush()
	if err := s.Release(ctx, cs[1]); err != nil {
		t.Fatal(err)
	}
	flush()
	claim(t, s, "sub-a", "m2", dedup.Claimed)
	flush()
	if err := s.Forget(ctx, "sub-a", "m2"); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionsAreIsolated(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})

	a := claim(t, s, "sub-a", "m1", dedup.Claimed)
	claim(t, s, "sub-b", "m1", dedup.Claimed) // same id, another subscription
	if err := s.Delivered(ctx, a); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "sub-a", "m1", dedup.Delivered)
	claim(t, s, "sub-b", "m1", dedup.Busy)
	// Concatenations that read alike must not share a record.
	claim(t, s, "sub-am", "1", dedup.Claimed)
	claim(t, s, "sub-", "am1", dedup.Claimed)
}

func TestWindowExpires(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Second, Lease: 500 * time.Millisecond})

	if err := s.Delivered(ctx, claim(t, s, "sub-a", "m1", dedup.Claimed)); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "sub-a", "m1", dedup.Delivered)
	testenv.Eventually(t, 10*time.Second, func() error {
		c, err := s.Claim(ctx, "sub-a", "m1")
		if err != nil {
			return err
		}
		if c.Status != dedup.Claimed {
			return fmt.Errorf("still %v", c.Status)
		}
		return nil
	})
}

func TestForget(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})

	if err := s.Forget(ctx, "sub-a", "absent"); err != nil {
		t.Fatalf("Forget of an absent record = %v", err)
	}

	claim(t, s, "sub-a", "stuck", dedup.Claimed) // its replica died; the lease still runs
	if err := s.Forget(ctx, "sub-a", "stuck"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "sub-a", "stuck", dedup.Claimed)

	if err := s.Delivered(ctx, claim(t, s, "sub-a", "done", dedup.Claimed)); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "sub-a", "done"); !errors.Is(err, dedup.ErrAlreadyDelivered) {
		t.Fatalf("Forget of a delivered record = %v, want ErrAlreadyDelivered", err)
	}
	claim(t, s, "sub-a", "done", dedup.Delivered)
}

func TestClaimsTheMethodCannotUse(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, redisFor(t), dedup.Config{Window: time.Hour, Lease: time.Minute})

	if err := s.Delivered(ctx, dedup.Claim{}); !errors.Is(err, dedup.ErrNotClaimed) {
		t.Errorf("Delivered(zero Claim) = %v, want ErrNotClaimed", err)
	}
	if err := s.Release(ctx, dedup.Claim{}); !errors.Is(err, dedup.ErrNotClaimed) {
		t.Errorf("Release(zero Claim) = %v, want ErrNotClaimed", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Claimed)
	busy := claim(t, s, "sub-a", "m1", dedup.Busy)
	if err := s.Release(ctx, busy); !errors.Is(err, dedup.ErrNotClaimed) {
		t.Errorf("Release(Busy claim) = %v, want ErrNotClaimed", err)
	}
	claim(t, s, "sub-a", "m1", dedup.Busy) // untouched

	// A batch with a zero Claim in it still marks the others.
	ok := claim(t, s, "sub-a", "m2", dedup.Claimed)
	if err := s.DeliveredMany(ctx, []dedup.Claim{ok, {}}); !errors.Is(err, dedup.ErrNotClaimed) {
		t.Errorf("DeliveredMany with a zero Claim = %v, want ErrNotClaimed", err)
	}
	claim(t, s, "sub-a", "m2", dedup.Delivered)

	for _, args := range [][2]string{{"", "m1"}, {"sub-a", ""}} {
		if _, err := s.Claim(ctx, args[0], args[1]); err == nil {
			t.Errorf("Claim(%q, %q) = nil error, want one", args[0], args[1])
		}
	}
	if _, err := s.ClaimMany(ctx, "sub-a", []string{"m3", ""}); err == nil {
		t.Error("ClaimMany with an empty id = nil error, want one")
	}
}

// TestRedisDownFailsClosed: with Redis unreachable every call is an error
// (never a claim that says Claimed or Delivered), so nothing is delivered.
func TestRedisDownFailsClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1})
	t.Cleanup(func() { rdb.Close() })
	s, err := dedup.NewStore(rdb, dedup.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	c, err := s.Claim(ctx, "sub-a", "m1")
	if err == nil || c.Status != 0 {
		t.Errorf("Claim = %+v, %v; want the zero Claim and an error", c, err)
	}
	cs, err := s.ClaimMany(ctx, "sub-a", []string{"m1", "m2"})
	if err == nil || cs != nil {
		t.Errorf("ClaimMany = %v, %v; want no claims and an error", cs, err)
	}
	if err := s.Forget(ctx, "sub-a", "m1"); err == nil {
		t.Error("Forget = nil, want an error")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  dedup.Config
		ok   bool
	}{
		{"defaults", dedup.Config{}, true},
		{"set", dedup.Config{Window: time.Hour, Lease: time.Minute, Prefix: "app:dedup:"}, true},
		{"default window, short lease", dedup.Config{Lease: time.Second}, true},
		{"negative window", dedup.Config{Window: -time.Hour}, false},
		{"negative lease", dedup.Config{Lease: -time.Second}, false},
		{"window under 1ms", dedup.Config{Window: time.Microsecond, Lease: time.Microsecond / 2}, false},
		{"lease as long as window", dedup.Config{Window: time.Minute, Lease: time.Minute}, false},
		{"lease past default window", dedup.Config{Lease: 25 * time.Hour}, false},
		{"hash tag in prefix", dedup.Config{Prefix: "zl:{dedup}:"}, false},
	}
	rdb := redis.NewClient(&redis.Options{}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			_, err := dedup.NewStore(rdb, tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewStore() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := dedup.NewStore(nil, dedup.Config{}); err == nil {
		t.Fatal("NewStore(nil client) = nil error, want one")
	}
}

func BenchmarkClaimDelivered(b *testing.B) {
	ctx := context.Background()
	rdb := redisFor(b)
	rt := countRoundTrips(rdb)
	s := newStore(b, rdb, dedup.Config{Window: time.Minute, Lease: 30 * time.Second})
	rt.n.Store(0)
	msgs := 0
	for b.Loop() {
		c, err := s.Claim(ctx, "sub-bench", strconv.Itoa(msgs))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Delivered(ctx, c); err != nil {
			b.Fatal(err)
		}
		msgs++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(msgs), "ns/msg")
	b.ReportMetric(float64(rt.n.Load())/float64(msgs), "roundtrips/msg")
}

func BenchmarkClaimDeliveredMany(b *testing.B) {
	const batch = 32
	ctx := context.Background()
	rdb := redisFor(b)
	rt := countRoundTrips(rdb)
	s := newStore(b, rdb, dedup.Config{Window: time.Minute, Lease: 30 * time.Second})
	ids := make([]string, batch)
	rt.n.Store(0)
	msgs := 0
	for b.Loop() {
		for i := range ids {
			ids[i] = strconv.Itoa(msgs + i)
		}
		cs, err := s.ClaimMany(ctx, "sub-bench", ids)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.DeliveredMany(ctx, cs); err != nil {
			b.Fatal(err)
		}
		msgs += batch
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(msgs), "ns/msg")
	b.ReportMetric(float64(rt.n.Load())/float64(msgs), "roundtrips/msg")
}
