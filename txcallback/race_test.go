package txcallback

// Races between replicas over one real RocketMQ and Redis. The test is in
// the package so that one replica's check webhook path (callCheck) can be
// started at the same instant as another replica's API decision; each
// replica is a full Service with its own transactional producer, as in a
// gateway process.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// countingBroker is the real transactional producer, counting the
// END_TRANSACTION requests sent per message id; gate, when it holds a
// fault for a message, injects it into that message's next END.
type countingBroker struct {
	*broker.TxProducer
	mu   *sync.Mutex
	ends map[string]int
	gate *endGate
}

func (c countingBroker) End(ctx context.Context, h broker.Half, d broker.Decision) error {
	c.mu.Lock()
	c.ends[h.MessageID]++
	c.mu.Unlock()
	return c.gate.end(ctx, h, d, c.TxProducer.End)
}

// raceEnv is two replicas (a, b) sharing one Redis and one broker.
type raceEnv struct {
	a, b     *Service
	producer string
	topic    string
	recv     *testenv.Received
	mu       sync.Mutex
	ends     map[string]int
	answer   atomic.Value // string: the check webhook's body
	calls    atomic.Int64
	gate     *endGate
	begins   atomic.Int64
}

func newRaceEnv(t *testing.T, s testenv.Stack, cfg Config, hook http.Handler) *raceEnv {
	t.Helper()
	e := &raceEnv{ends: map[string]int{}, gate: &endGate{faults: map[string]endFault{}}}
	e.answer.Store(`{"decision":"unknown"}`)
	if hook == nil {
		hook = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			e.calls.Add(1)
			_, _ = io.WriteString(w, e.answer.Load().(string))
		})
	}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	e.topic = s.Topic(t, "race", 1)
	e.recv = s.Consume(t, e.topic)
	// Database 2: no other package's gateway resolves these transactions.
	rdb := s.RedisDB(t, 2)
	group := "test-race-" + msgid.New(time.Now()).String()[:16]
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if cfg.CheckMax == 0 {
		cfg.CheckMax = 5
	}
	cfg.AllowPrivateWebhooks = true
	replica := func(name string) *Service {
		return startReplica(t, s, group, name, rdb, cfg, log, func(p *broker.TxProducer) Broker {
			return countingBroker{TxProducer: p, mu: &e.mu, ends: e.ends, gate: e.gate}
		})
	}
	e.a, e.b = replica("a"), replica("b")
	name, u := "race", srv.URL+"/check"
	timeout := 2 * time.Second
	prd, err := e.a.CreateProducer(context.Background(), "t", ProducerInput{Name: &name, CheckURL: &u, Timeout: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	e.producer = prd.ID
	return e
}

// startReplica starts one gateway replica on s: a Service with a
// transactional producer of its own in group, its store on rdb and its
// broker calls going through wrap; both stop when the test ends.
func startReplica(t *testing.T, s testenv.Stack, group, name string, rdb redis.UniversalClient, cfg Config, log *slog.Logger,
	wrap func(*broker.TxProducer) Broker) *Service {
	t.Helper()
	var svc *Service
	p, err := broker.NewTxProducer(broker.TxConfig{
		NameServers: []string{s.NameServer}, Group: group, InstanceName: group + "-" + name,
		SendTimeout: 3 * time.Second, Retries: 1, MaxConcurrentChecks: cfg.MaxConcurrentChecks,
	}, func(ctx context.Context, req broker.CheckRequest) { svc.Check(ctx, req) })
	if err != nil {
		t.Fatal(err)
	}
	svc = New(NewStore(rdb, time.Hour), wrap(p), webhook.NewClient(true, "zeroloss-test-"+name), cfg, log, NewMetrics(prometheus.NewRegistry()))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Close(ctx)
		_ = p.Shutdown()
	})
	return svc
}

func (e *raceEnv) begin(t *testing.T, body string) Transaction {
	t.Helper()
	seed := msgid.New(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		tx  Transaction
		err error
	)
	// Every other begin has an Idempotency-Key (the record is written
	// before the send and completed after it); the others have none (the
	// record is written once, after the send).
	keyed := e.begins.Add(1)%2 == 0
	// A client retries an unconfirmed begin with the same Idempotency-Key
	// (the same seed), or anew without one: a new topic may not be routed
	// yet.
	for attempt := 0; attempt < 10; attempt++ {
		in := BeginInput{Tenant: "t", ProducerID: e.producer, MessageID: seed.ID(0), Topic: e.topic, Body: []byte(body)}
		if keyed {
			in.ID = IDFromSeed(seed)
		} else {
			in.MessageID = msgid.New(time.Now()).ID(0)
		}
		tx, err = e.a.Begin(ctx, in)
		if !errors.Is(err, broker.ErrUnconfirmed) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("begin: %v", err)
	}
	return tx
}

func (e *raceEnv) endsOf(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ends[id]
}

// settle waits until every id in committed was consumed, lets a few of
// the broker's check rounds pass (a wrong check-back answer would deliver a
// second copy then), and asserts each committed message was consumed once
// and no other one at all.
func (e *raceEnv) settle(t *testing.T, committed, rolledBack []string) {
	t.Helper()
	testenv.Eventually(t, 120*time.Second, func() error {
		for _, id := range committed {
			if e.recv.Count(id) == 0 {
				return fmt.Errorf("committed message %s not consumed yet", id)
			}
		}
		return nil
	})
	// The test broker checks every second from 2 s after a half message
	// was stored; this waits for the absence of duplicates, not for speed.
	time.Sleep(5 * time.Second)
	sentinel := e.begin(t, "sentinel")
	if _, err := e.a.Decide(context.Background(), "t", sentinel.ID, broker.Commit, allowAll); err != nil {
		t.Fatal(err)
	}
	e.recv.WaitForID(t, sentinel.MessageID, 60*time.Second)
	for _, id := range committed {
		if n := e.recv.Count(id); n != 1 {
			t.Errorf("committed message %s consumed %d times", id, n)
		}
	}
	for _, id := range rolledBack {
		if n := e.recv.Count(id); n != 0 {
			t.Errorf("rolled-back message %s consumed %d times", id, n)
		}
	}
}

func allowAll(string) error { return nil }

// run runs n iterations of f, concurrently at most par.
func run(n, par int, f func(i int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

// together starts fs at the same instant and waits for all of them.
func together(fs ...func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	close(start)
	wg.Wait()
}

const raceIterations, raceParallel = 500, 24

func TestRacingDecisionsEndOnceAndDeliverOnce(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()

	type outcome struct {
		committed bool
		err       error
	}
	tests := []struct {
		name   string
		answer string
		// race decides tx on two replicas at once; it reports whether the
		// transaction ended committed.
		race func(e *raceEnv, tx Transaction) outcome
	}{
		{"commit x commit on two replicas", `{"decision":"unknown"}`, func(e *raceEnv, tx Transaction) outcome {
			var errA, errB error
			together(
				func() { _, errA = e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll) },
				func() { _, errB = e.b.Decide(ctx, "t", tx.ID, broker.Commit, allowAll) },
			)
			return outcome{true, errors.Join(errA, errB)}
		}},
		{"commit x check webhook decision on another replica", `{"decision":"commit"}`, func(e *raceEnv, tx Transaction) outcome {
			var errA error
			together(
				func() { _, errA = e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll) },
				func() { e.b.callCheck(tx, 1) },
			)
			return outcome{true, errA}
		}},
		{"commit x broker check-back on another replica", `{"decision":"unknown"}`, func(e *raceEnv, tx Transaction) outcome {
			var errA error
			req := broker.CheckRequest{MessageID: tx.MessageID, Topic: tx.Topic, Properties: map[string]string{TxPropertyKey: tx.ID},
				CheckTimes: 1, Half: tx.Half}
			together(
				func() { _, errA = e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll) },
				func() { e.b.Check(ctx, req) },
				func() { e.a.Check(ctx, req) },
			)
			return outcome{true, errA}
		}},
		{"commit x rollback on two replicas", `{"decision":"unknown"}`, func(e *raceEnv, tx Transaction) outcome {
			var errA, errB error
			together(
				func() { _, errA = e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll) },
				func() { _, errB = e.b.Decide(ctx, "t", tx.ID, broker.Rollback, allowAll) },
			)
			switch {
			case errA == nil && errors.Is(errB, ErrConflict):
				return outcome{true, nil}
			case errB == nil && errors.Is(errA, ErrConflict):
				return outcome{false, nil}
			}
			return outcome{false, fmt.Errorf("commit: %v, rollback: %v; want exactly one conflict", errA, errB)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newRaceEnv(t, s, Config{}, nil)
			e.answer.Store(tc.answer)
			var (
				mu                    sync.Mutex
				committed, rolledBack []string
				txs                   []Transaction
			)
			run(raceIterations, raceParallel, func(i int) {
				tx := e.begin(t, fmt.Sprintf("race %d", i))
				if tx.ID == "" {
					return
				}
				o := tc.race(e, tx)
				if o.err != nil {
					t.Errorf("%s: %v", tx.ID, o.err)
					return
				}
				got, err := e.a.Get(ctx, "t", tx.ID)
				want := RolledBack
				if o.committed {
					want = Committed
				}
				if err != nil || got.State != want {
					t.Errorf("%s: state %s (%v), want %s", tx.ID, got.State, err, want)
				}
				mu.Lock()
				defer mu.Unlock()
				txs = append(txs, tx)
				if o.committed {
					committed = append(committed, tx.MessageID)
				} else {
					rolledBack = append(rolledBack, tx.MessageID)
				}
			})
			if t.Failed() {
				return
			}
			e.settle(t, committed, rolledBack)
			for _, tx := range txs {
				if n := e.endsOf(tx.MessageID); n != 1 {
					t.Errorf("%s: %d END_TRANSACTION requests, want 1", tx.ID, n)
				}
			}
			t.Logf("%d committed, %d rolled back, check webhook called %d times", len(committed), len(rolledBack), e.calls.Load())
		})
	}
}
