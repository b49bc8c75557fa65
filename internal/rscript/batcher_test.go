package rscript_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/rscript"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func redisFor(t *testing.T) redis.UniversalClient {
	t.Helper()
	return testenv.Shared(t).RedisDB(t, 2)
}

// newScript returns a script Redis has never seen (the run id is in its
// body), so its first EVALSHA meets NOSCRIPT: SET KEYS[1] ARGV[1], then
// INCR it and return the result.
func newScript() *redis.Script {
	return redis.NewScript(fmt.Sprintf(`-- %d
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[1])`, time.Now().UnixNano()))
}

// TestBatcherAnswersEachCallerItsOwn: concurrent callers share pipelines
// (fewer round trips than callers), each reads its own commands' results,
// on a single node and on a Redis Cluster (keys of many slots in one
// batch), with scripts Redis does not know yet (NOSCRIPT, then EVAL).
func TestBatcherAnswersEachCallerItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis (run without -short)")
	}
	for _, tc := range []struct {
		name  string
		rdb   func(t *testing.T) redis.UniversalClient
		yield bool
	}{
		{"single node", redisFor, false},
		{"single node, yielding", redisFor, true},
		{"cluster", func(t *testing.T) redis.UniversalClient { return testenv.RedisCluster(t) }, false},
		{"cluster, yielding", func(t *testing.T) redis.UniversalClient { return testenv.RedisCluster(t) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := tc.rdb(t)
			var (
				mu      sync.Mutex
				callers int
			)
			b := rscript.NewBatcher(rdb, rscript.Config{MaxBatch: 16, Yield: tc.yield, Observe: func(n int) {
				mu.Lock()
				callers += n
				mu.Unlock()
			}})
			script := newScript()
			ctx := context.Background()
			run := strconv.FormatInt(time.Now().UnixNano(), 10)
			const n = 200
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					key := "zl:test:batch:{" + run + ":" + strconv.Itoa(i) + "}"
					var (
						eval *redis.Cmd
						get  *redis.StringCmd
					)
					if err := b.Do(ctx, func(p rscript.Pipe) {
						eval = p.Eval(script, []string{key}, i*10)
						p.Expire(ctx, key, time.Minute)
					}); err != nil {
						t.Error(err)
						return
					}
					if err := b.Do(ctx, func(p rscript.Pipe) { get = p.Get(ctx, key) }); err != nil {
						t.Error(err)
						return
					}
					if v, err := eval.Int(); err != nil || v != i*10+1 || get.Val() != strconv.Itoa(i*10+1) {
						t.Errorf("caller %d read %v (%v), %q", i, eval.Val(), err, get.Val())
					}
				}()
			}
			close(start)
			wg.Wait()
			if trips := b.RoundTrips(); trips >= 2*n {
				t.Errorf("%d round trips for %d calls: not batched", trips, 2*n)
			}
			mu.Lock()
			defer mu.Unlock()
			if callers != 2*n {
				t.Errorf("observed %d callers, want %d", callers, 2*n)
			}
			t.Logf("%d calls in %d round trips", 2*n, b.RoundTrips())
		})
	}
}

// TestBatcherQueuedCallLeavesAtItsDeadline: a call queued behind a
// pipeline in flight returns its context's error when that ends, and its
// commands never run; the next call runs.
func TestBatcherQueuedCallLeavesAtItsDeadline(t *testing.T) {
	rdb := redisFor(t)
	b := rscript.NewBatcher(rdb, rscript.Config{})
	ctx := context.Background()
	key := "zl:test:batch:late:" + strconv.FormatInt(time.Now().UnixNano(), 10)
	t.Cleanup(func() { rdb.Del(context.Background(), key) })

	hold, holding := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- b.Do(ctx, func(p rscript.Pipe) {
			close(holding)
			<-hold // the only pipeline slot stays taken
			p.Ping(ctx)
		})
	}()
	<-holding
	late, cancel := context.WithCancel(ctx)
	queued := make(chan error, 1)
	go func() {
		queued <- b.Do(late, func(p rscript.Pipe) { p.Set(ctx, key, "ran", time.Minute) })
	}()
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued call after its context ended: %v, want context.Canceled", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if cmd := b.Eval(ctx, newScript(), []string{key}, 1); cmd.Err() != nil || cmd.Val() != int64(2) {
		t.Fatalf("the next call: %v, %v; want 2", cmd.Val(), cmd.Err())
	}
	// An already ended context never reaches Redis.
	if err := b.Do(late, func(p rscript.Pipe) { t.Error("fill ran for an ended context") }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with an ended context: %v", err)
	}
}

// TestBatcherPipelineOutlivesACallersCancel: a caller whose context is
// cancelled once its commands are in a pipeline cancels nobody's commands,
// its own included.
func TestBatcherPipelineOutlivesACallersCancel(t *testing.T) {
	rdb := redisFor(t)
	b := rscript.NewBatcher(rdb, rscript.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var ping *redis.StatusCmd
	if err := b.Do(ctx, func(p rscript.Pipe) {
		ping = p.Ping(ctx)
		cancel()
	}); err != nil {
		t.Fatal(err)
	}
	if ping.Err() != nil || ping.Val() != "PONG" {
		t.Fatalf("ping: %q, %v", ping.Val(), ping.Err())
	}
}

// writer counts the scripts it runs.
type writer struct {
	waits bool
	runs  int
}

func (w *writer) Run(ctx context.Context, s *redis.Script, keys []string, args ...any) *redis.Cmd {
	w.runs++
	cmd := redis.NewCmd(ctx)
	cmd.SetVal(int64(42))
	return cmd
}
func (w *writer) Waits() bool { return w.waits }

func TestBatcherWriteGoesThroughAWaitingWriter(t *testing.T) {
	rdb := redisFor(t)
	b := rscript.NewBatcher(rdb, rscript.Config{})
	key := "zl:test:batch:w:" + strconv.FormatInt(time.Now().UnixNano(), 10)
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	for _, tc := range []struct {
		name      string
		w         *writer
		want      int64
		wantWrite int
	}{
		{"waiting writer", &writer{waits: true}, 42, 1},
		{"writer without WAIT", &writer{}, 8, 0},
		{"no writer", nil, 8, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w rscript.Writer
			if tc.w != nil {
				w = tc.w
			}
			v, err := b.Write(context.Background(), w, newScript(), []string{key}, 7).Int64()
			if err != nil || v != tc.want {
				t.Fatalf("Write = %d, %v; want %d", v, err, tc.want)
			}
			if tc.w != nil && tc.w.runs != tc.wantWrite {
				t.Fatalf("the writer ran %d scripts, want %d", tc.w.runs, tc.wantWrite)
			}
		})
	}
}
