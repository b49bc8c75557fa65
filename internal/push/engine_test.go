package push

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// These tests run the engine's scheduling, budget and settling against a
// queue in memory (memBroker): what they check is the engine's own
// bookkeeping. POP itself is tested against the real broker in
// internal/broker/pop, the engine end to end in e2e.

// memBroker hands out a fixed list of messages per group, at most
// MaxMessages per pop, and records what was settled.
type memBroker struct {
	mu       sync.Mutex
	queue    map[string][]pop.Message // group → messages not popped yet
	acked    map[string]int           // body → acks
	hidden   map[string]time.Duration // body → last retry delay
	popped   int
	pops     int // Pop calls
	maxBatch int
}

func newMemBroker() *memBroker {
	return &memBroker{queue: map[string][]pop.Message{}, acked: map[string]int{}, hidden: map[string]time.Duration{}}
}

func (b *memBroker) add(group string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i < n; i++ {
		off := int64(len(b.queue[group]))
		m := &primitive.MessageExt{Message: primitive.Message{Body: []byte(group + "-" + strconv.Itoa(i))},
			QueueOffset: off, StoreTimestamp: time.Now().UnixMilli(), BornTimestamp: time.Now().UnixMilli()}
		m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, group+"-"+strconv.Itoa(i))
		b.queue[group] = append(b.queue[group], pop.Message{MessageExt: m,
			Handle: pop.Handle{BrokerName: "b", Offset: off, PopTime: time.Now(), InvisibleTime: time.Minute}})
	}
}

func (b *memBroker) Brokers(context.Context, string) ([]pop.Broker, error) {
	return []pop.Broker{{Name: "b", Addr: "127.0.0.1:1"}}, nil
}

func (b *memBroker) EnsureGroup(context.Context, string, []pop.Broker) error { return nil }

func (b *memBroker) Pop(ctx context.Context, _ pop.Broker, r pop.Request) (pop.Result, error) {
	b.mu.Lock()
	q := b.queue[r.Group]
	n := min(len(q), r.MaxMessages)
	b.maxBatch = max(b.maxBatch, n)
	out := q[:n]
	b.queue[r.Group] = q[n:]
	b.popped += n
	b.pops++
	b.mu.Unlock()
	if n == 0 && r.PollTime > 0 {
		select {
		case <-ctx.Done():
			return pop.Result{}, ctx.Err()
		case <-time.After(min(r.PollTime, 50*time.Millisecond)):
		}
	}
	return pop.Result{Messages: out}, nil
}

func (b *memBroker) Ack(_ context.Context, _, _ string, h pop.Handle) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acked[strconv.FormatInt(h.Offset, 10)+"@"+h.BrokerName]++
	return nil
}

func (b *memBroker) AckBatch(ctx context.Context, _ string, acks []pop.AckRequest) error {
	for _, a := range acks {
		if err := b.Ack(ctx, a.Group, a.Topic, a.Handle); err != nil {
			return err
		}
	}
	return nil
}

func (b *memBroker) ChangeInvisibleTime(_ context.Context, _, _ string, h pop.Handle, d time.Duration) (pop.Handle, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hidden[strconv.FormatInt(h.Offset, 10)] = d
	return h, nil
}

func (b *memBroker) acks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.acked {
		n += c
	}
	return n
}

// memSubs serves a list of subscriptions with a version.
type memSubs struct {
	mu      sync.Mutex
	version int64
	all     []subscription.Subscription
	changed chan struct{}
}

func (m *memSubs) Snapshot(context.Context) (int64, []subscription.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, append([]subscription.Subscription(nil), m.all...), nil
}

func (m *memSubs) SetPaused(context.Context, string, string) error { return errors.New("not here") }

func (m *memSubs) Watch(ctx context.Context, _ time.Duration, changed func()) {
	changed()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.changed:
			changed()
		}
	}
}

func (m *memSubs) set(all ...subscription.Subscription) {
	m.mu.Lock()
	v := m.version + 1
	m.mu.Unlock()
	m.setAt(v, all...)
}

// setAt serves all as the state of version v (which may go back).
func (m *memSubs) setAt(v int64, all ...subscription.Subscription) {
	m.mu.Lock()
	m.version = v
	m.all = all
	m.mu.Unlock()
	m.changed <- struct{}{}
}

type noDeadLetters struct{}

func (noDeadLetters) Store(context.Context, subscription.Subscription, *primitive.MessageExt) error {
	return nil
}

// testEngine is an engine whose every attempt is handle.
func testEngine(t *testing.T, cfg Config, b *memBroker, subs *memSubs, handle Handler) *Engine {
	t.Helper()
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg: cfg, src: b, settler: b, subs: subs, dls: noDeadLetters{}, handle: handle,
		metrics: NewMetrics(prometheus.NewRegistry()), log: slog.New(slog.DiscardHandler),
		budget: newBudget(cfg.MaxInFlight, cfg.MaxInFlightBytes), sched: newScheduler(),
		held: heldSet{m: map[*heldMsg]struct{}{}}, acks: newAcker(b, maxAckBatch), deliverCtx: context.Background(), cancelDeliver: func() {},
		runs: map[string]*subRun{}, routes: map[string]route{},
	}
	e.initWorkers()
	return e
}

func eventually(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEngineKeepsWithinItsBudgets: with many subscriptions and a small
// global budget, deliveries in progress never exceed the budget nor any
// subscription's concurrency; every message is delivered and acked; once
// the subscriptions are gone nothing is held.
func TestEngineKeepsWithinItsBudgets(t *testing.T) {
	const (
		subsN   = 20
		perSub  = 50
		budget  = 16
		conc    = 3
		pollers = 4
	)
	b := newMemBroker()
	subs := &memSubs{changed: make(chan struct{}, 1)}
	var all []subscription.Subscription
	for i := 0; i < subsN; i++ {
		s := subscription.Subscription{ID: "s" + strconv.Itoa(i), Topic: "t", Concurrency: conc, MaxAttempts: 3,
			CreatedAt: time.Now().Add(-time.Hour)}
		all = append(all, s)
		b.add(s.Group(), perSub)
	}
	subs.all, subs.version = all, 1
	var inProgress, peak atomic.Int64
	perSubNow := make([]atomic.Int64, subsN)
	var perSubPeak atomic.Int64
	handle := func(_ context.Context, d *Delivery) Result {
		i, _ := strconv.Atoi(d.Sub.ID[1:])
		n := inProgress.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		k := perSubNow[i].Add(1)
		for p := perSubPeak.Load(); k > p && !perSubPeak.CompareAndSwap(p, k); p = perSubPeak.Load() {
		}
		time.Sleep(time.Millisecond)
		perSubNow[i].Add(-1)
		inProgress.Add(-1)
		return Result{Outcome: Delivered}
	}
	e := testEngine(t, Config{MaxInFlight: budget, Pollers: pollers, IdlePoll: 20 * time.Millisecond}, b, subs, handle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()

	eventually(t, 30*time.Second, func() bool { return b.acks() == subsN*perSub })
	if p := peak.Load(); p > budget {
		t.Errorf("%d deliveries at once, budget %d", p, budget)
	}
	if p := perSubPeak.Load(); p > conc {
		t.Errorf("%d deliveries of one subscription at once, concurrency %d", p, conc)
	}
	// A delivery gives its room back once its ack was answered, just
	// after the broker counted it.
	eventually(t, 10*time.Second, func() bool { st := e.Stats(); return st.InFlight == 0 && st.InFlightBytes == 0 })
	subs.set() // every subscription deleted
	eventually(t, 10*time.Second, func() bool { st := e.Stats(); return st.Subscriptions == 0 && st.Tasks == 0 })
	cancel()
	<-done
	if st := e.Stats(); st != (Stats{}) {
		t.Errorf("after Run: %+v", st)
	}
}

// TestEngineRetriesOnTheSchedule: a failed attempt hides the message for
// the schedule's delay (or the endpoint's longer Retry-After) and does not
// ack it; a dead one is acked after its copy is stored.
func TestEngineRetriesOnTheSchedule(t *testing.T) {
	tests := []struct {
		name   string
		result Result
		delay  time.Duration // 0: acked
	}{
		{"delivered", Result{Outcome: Delivered}, 0},
		{"retry", Result{Outcome: Retry}, 7 * time.Second},
		{"retry after", Result{Outcome: Retry, Wait: time.Minute}, time.Minute},
		{"dead", Result{Outcome: Dead}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newMemBroker()
			s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 1, MaxAttempts: 3,
				RetryDelays: []time.Duration{7 * time.Second}, CreatedAt: time.Now().Add(-time.Hour)}
			b.add(s.Group(), 1)
			subs := &memSubs{all: []subscription.Subscription{s}, version: 1, changed: make(chan struct{}, 1)}
			e := testEngine(t, Config{}, b, subs, func(context.Context, *Delivery) Result { return tc.result })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); e.Run(ctx) }()
			eventually(t, 10*time.Second, func() bool {
				b.mu.Lock()
				defer b.mu.Unlock()
				return len(b.acked)+len(b.hidden) > 0
			})
			cancel()
			<-done
			b.mu.Lock()
			defer b.mu.Unlock()
			if tc.delay == 0 && (len(b.acked) != 1 || len(b.hidden) != 0) {
				t.Fatalf("acked %v, hidden %v; want one ack", b.acked, b.hidden)
			}
			if tc.delay > 0 && (len(b.acked) != 0 || b.hidden["0"] != tc.delay) {
				t.Fatalf("acked %v, hidden %v; want hidden for %v", b.acked, b.hidden, tc.delay)
			}
		})
	}
}

// TestStaleMessagesAreSkipped: a new group starts at the queue's first
// message; what was stored before the subscription was created is acked
// without a delivery.
func TestStaleMessagesAreSkipped(t *testing.T) {
	created := time.Now()
	msg := func(stored time.Time, reconsumed int32, kind pop.TopicKind) pop.Message {
		return pop.Message{MessageExt: &primitive.MessageExt{StoreTimestamp: stored.UnixMilli(), ReconsumeTimes: reconsumed},
			Handle: pop.Handle{Kind: kind}}
	}
	s := subscription.Subscription{CreatedAt: created}
	tests := []struct {
		name string
		m    pop.Message
		want bool
	}{
		{"stored before", msg(created.Add(-time.Minute), 0, pop.TopicNormal), true},
		{"within the skew", msg(created.Add(-500*time.Millisecond), 0, pop.TopicNormal), false},
		{"stored after", msg(created.Add(time.Second), 0, pop.TopicNormal), false},
		{"a retry", msg(created.Add(-time.Minute), 1, pop.TopicRetryV1), false},
		{"a redrive", msg(created.Add(-time.Minute), 0, pop.TopicRetryV1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stale(s, tc.m); got != tc.want {
				t.Errorf("stale = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRateLimitDelaysAndNeverFails: a subscription limited to 20
// deliveries a second delivers all of its backlog, none failed for the
// limit, and no sooner than the limit allows (a lower bound: a slow
// machine only makes it later).
func TestRateLimitDelaysAndNeverFails(t *testing.T) {
	const (
		n     = 30
		limit = 20.0
	)
	b := newMemBroker()
	s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 8, MaxAttempts: 3, RateLimit: limit,
		CreatedAt: time.Now().Add(-time.Hour)}
	b.add(s.Group(), n)
	subs := &memSubs{all: []subscription.Subscription{s}, version: 1, changed: make(chan struct{}, 1)}
	var delivered atomic.Int64
	e := testEngine(t, Config{}, b, subs, func(context.Context, *Delivery) Result {
		delivered.Add(1)
		return Result{Outcome: Delivered}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); e.Run(ctx) }()
	eventually(t, 30*time.Second, func() bool { return b.acks() == n })
	elapsed := time.Since(start)
	cancel()
	<-done
	if delivered.Load() != n {
		t.Fatalf("%d attempts for %d messages", delivered.Load(), n)
	}
	burst := max(1, int(limit/10))
	if min := time.Duration(float64(n-burst) / limit * float64(time.Second)); elapsed < min {
		t.Fatalf("%d deliveries in %v at %v/s: faster than the limit (at least %v)", n, elapsed, limit, min)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.hidden) != 0 {
		t.Fatalf("messages sent back for the limit: %v", b.hidden)
	}
}

// TestReconcileIgnoresOlderSnapshots: a snapshot older than the last one
// acted on (a lagging Redis replica) neither stops a subscription it does
// not show nor restarts one it shows; a newer one is acted on.
func TestReconcileIgnoresOlderSnapshots(t *testing.T) {
	b := newMemBroker()
	s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 1, MaxAttempts: 3, CreatedAt: time.Now()}
	subs := &memSubs{all: []subscription.Subscription{s}, version: 5, changed: make(chan struct{})}
	e := testEngine(t, Config{}, b, subs, func(context.Context, *Delivery) Result { return Result{Outcome: Delivered} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	eventually(t, 5*time.Second, func() bool { return e.Stats().Subscriptions == 1 })

	subs.setAt(3) // older, without s: s stays
	subs.setAt(4) // the change notices are handled one at a time: 3 was read
	if n := e.Stats().Subscriptions; n != 1 {
		t.Fatalf("an older snapshot stopped the subscription: %d running", n)
	}
	subs.setAt(6) // newer, without s: s stops
	eventually(t, 5*time.Second, func() bool { return e.Stats().Subscriptions == 0 })
	subs.setAt(5, s) // older again, with s: not restarted
	subs.setAt(5, s)
	if n := e.Stats().Subscriptions; n != 0 {
		t.Fatalf("an older snapshot restarted a deleted subscription: %d running", n)
	}
}

// idleCounter counts CloseIdleConnections calls.
type idleCounter struct{ n atomic.Int64 }

func (c *idleCounter) CloseIdleConnections() { c.n.Add(1) }

// TestStoppedSubscriptionsCloseIdleConnections: the webhook client's idle
// keep-alive connections (two goroutines each) are closed when
// subscriptions stop, not left to their idle timeout; a reconcile that
// stops nothing leaves them.
func TestStoppedSubscriptionsCloseIdleConnections(t *testing.T) {
	b := newMemBroker()
	s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 1, MaxAttempts: 3, CreatedAt: time.Now()}
	subs := &memSubs{all: []subscription.Subscription{s}, version: 1, changed: make(chan struct{}, 1)}
	e := testEngine(t, Config{}, b, subs, func(context.Context, *Delivery) Result { return Result{Outcome: Delivered} })
	idle := &idleCounter{}
	e.idle = idle
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, 10*time.Second, func() bool { return e.Stats().Subscriptions == 1 })
	subs.set(s) // a new version, nothing stopped
	subs.set()  // deleted
	eventually(t, 10*time.Second, func() bool { return e.Stats().Subscriptions == 0 && idle.n.Load() > 0 })
	if n := idle.n.Load(); n != 1 {
		t.Fatalf("idle connections closed %d times, want once", n)
	}
}

// TestChangedSubscriptionRestartsOnce: a change that restarts a
// subscription's run (here its concurrency) leaves exactly one run with
// one task per broker, and deleting the subscription then leaves none: an
// earlier reconcile started the new run twice and never stopped the first
// (it kept popping after the delete and held the pollers at shutdown).
func TestChangedSubscriptionRestartsOnce(t *testing.T) {
	b := newMemBroker()
	s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 1, MaxAttempts: 3, CreatedAt: time.Now()}
	subs := &memSubs{all: []subscription.Subscription{s}, version: 1, changed: make(chan struct{}, 1)}
	e := testEngine(t, Config{IdlePoll: 20 * time.Millisecond}, b, subs, func(context.Context, *Delivery) Result { return Result{Outcome: Delivered} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	eventually(t, 10*time.Second, func() bool { return e.Stats().Subscriptions == 1 })
	changed := s
	changed.Concurrency = 4
	subs.set(changed)
	eventually(t, 10*time.Second, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		r := e.runs["s"]
		return r != nil && r.key == runKey(changed)
	})
	subs.set()
	// Every task gone for good: none scheduled, none running or parked
	// (a running one comes back to the heap unless it is dead).
	eventually(t, 10*time.Second, func() bool { return e.Stats().Subscriptions == 0 && e.Stats().Tasks == 0 })
	popped := func() int { b.mu.Lock(); defer b.mu.Unlock(); return b.pops }
	before := popped()
	time.Sleep(200 * time.Millisecond) // a negative check has to wait: 10 idle polls
	if after := popped(); after != before {
		t.Fatalf("%d pops after the subscription was deleted", after-before)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the engine did not stop")
	}
}

// blockedAcks is a memBroker whose acks wait until release is closed.
type blockedAcks struct {
	*memBroker
	release chan struct{}
}

func (b blockedAcks) Ack(ctx context.Context, g, t string, h pop.Handle) error {
	<-b.release
	return b.memBroker.Ack(ctx, g, t, h)
}

func (b blockedAcks) AckBatch(ctx context.Context, name string, acks []pop.AckRequest) error {
	<-b.release
	return b.memBroker.AckBatch(ctx, name, acks)
}

// TestPendingAcksDoNotHoldTheRoom: a message whose endpoint answered no
// longer holds its subscription's room while its ack waits for the broker,
// so slow ack answers do not stop the pops; an ordered subscription's
// message does (its ack unlocks its queue), and only the global budget
// counts the others until they are settled.
func TestPendingAcksDoNotHoldTheRoom(t *testing.T) {
	const msgs = 200
	tests := []struct {
		name    string
		ordered bool
		want    func(delivered, room int) bool
	}{
		{"unordered goes past its room", false, func(d, room int) bool { return d == msgs }},
		{"ordered stops at its room", true, func(d, room int) bool { return d <= room }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := blockedAcks{memBroker: newMemBroker(), release: make(chan struct{})}
			s := subscription.Subscription{ID: "s", Topic: "t", Concurrency: 1, MaxAttempts: 3, Ordered: tc.ordered,
				CreatedAt: time.Now().Add(-time.Hour)}
			b.add(s.Group(), msgs)
			subs := &memSubs{all: []subscription.Subscription{s}, version: 1, changed: make(chan struct{}, 1)}
			var delivered atomic.Int64
			e := testEngine(t, Config{IdlePoll: 20 * time.Millisecond}, b.memBroker, subs, func(context.Context, *Delivery) Result {
				delivered.Add(1)
				return Result{Outcome: Delivered}
			})
			e.settler, e.acks = b, newAcker(b, maxAckBatch)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); e.Run(ctx) }()
			room := newSubRun(e, s).room
			if tc.ordered {
				// Nothing acked: the run can only fill its room.
				eventually(t, 10*time.Second, func() bool { return delivered.Load() >= 1 })
				time.Sleep(300 * time.Millisecond)
			} else {
				eventually(t, 10*time.Second, func() bool { return delivered.Load() == msgs })
			}
			if d := int(delivered.Load()); !tc.want(d, room) {
				t.Errorf("%d delivered with every ack pending (room %d)", d, room)
			}
			if acked := b.acks(); acked != 0 {
				t.Errorf("%d acked before the broker answered", acked)
			}
			close(b.release)
			eventually(t, 10*time.Second, func() bool { return b.acks() == int(delivered.Load()) })
			cancel()
			<-done
		})
	}
}
