package push

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Source pops messages from the brokers (pop.Client).
type Source interface {
	// Brokers returns the masters serving topic's queues.
	Brokers(ctx context.Context, topic string) ([]pop.Broker, error)
	// Pop pops up to r.MaxMessages from b, long-polling up to r.PollTime.
	Pop(ctx context.Context, b pop.Broker, r pop.Request) (pop.Result, error)
	// EnsureGroup creates the consumer group on the brokers.
	EnsureGroup(ctx context.Context, group string, brokers []pop.Broker) error
}

// Settler acknowledges popped messages or hides them for a while
// (pop.Client). A handle whose invisible time was changed is dead: use
// the new one. AckBatch acknowledges messages of one broker (non-orderly
// handles) in one request.
type Settler interface {
	Ack(ctx context.Context, group, topic string, h pop.Handle) error
	AckBatch(ctx context.Context, brokerName string, acks []pop.AckRequest) error
	ChangeInvisibleTime(ctx context.Context, group, topic string, h pop.Handle, d time.Duration) (pop.Handle, error)
}

// IdleCloser closes the webhook client's idle keep-alive connections
// (webhook.Client): the engine does so when subscriptions stop, so that
// what they held (connections, and their goroutines) goes with them.
type IdleCloser interface {
	CloseIdleConnections()
}

// DeadLetterStore keeps a copy of a message that will not be delivered
// (DeadLetters.Store); the message is acknowledged only after it answered.
type DeadLetterStore interface {
	Store(ctx context.Context, s subscription.Subscription, m *primitive.MessageExt) error
}

// Lagger reads a consumer group's lag on a topic (broker.Admin).
type Lagger interface {
	Lag(ctx context.Context, group, topic string) (int64, error)
}

// Subscriptions is where the engine reads subscriptions and records a
// pause (subscription.Store).
type Subscriptions interface {
	// Snapshot returns every subscription and the store's version they
	// are the state of; a later snapshot never has a lower version.
	Snapshot(ctx context.Context) (int64, []subscription.Subscription, error)
	SetPaused(ctx context.Context, id, reason string) error
	Watch(ctx context.Context, interval time.Duration, changed func())
}

// Config configures an Engine. Zero values take the defaults in
// parentheses.
type Config struct {
	// Resync re-reads every subscription this often, besides change
	// notices (5 s).
	Resync time.Duration
	// LeaseWait bounds waiting for another replica's in-flight claim (1 min).
	LeaseWait time.Duration
	// DrainTimeout bounds finishing in-flight deliveries on shutdown (20 s).
	DrainTimeout time.Duration
	// MaxInFlight is the global budget of messages popped and not yet
	// settled on this replica (1024); MaxInFlightBytes weighs them (64 MiB).
	MaxInFlight      int
	MaxInFlightBytes int64
	// Pollers is the number of goroutines that pop, whatever the number
	// of subscriptions (8).
	Pollers int
	// PollTime is the longest long poll (10 s); a poll is shorter when
	// another subscription is due sooner.
	PollTime time.Duration
	// IdlePoll is the longest wait between two pops of a subscription
	// that found nothing (1 s): the delivery latency of a quiet
	// subscription when more subscriptions than pollers wait.
	IdlePoll time.Duration
	// InvisibleTime is how long a popped message stays hidden from other
	// replicas (30 s, at least the subscription's timeout + 3 s); a
	// delivery that takes longer renews it. A replica that dies holding
	// messages hands them over after it.
	InvisibleTime time.Duration
	// RetryAfterMax caps an endpoint's Retry-After (1 h).
	RetryAfterMax time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Resync, 5*time.Second)
	def(&c.LeaseWait, time.Minute)
	def(&c.DrainTimeout, 20*time.Second)
	def(&c.PollTime, 10*time.Second)
	def(&c.IdlePoll, time.Second)
	def(&c.InvisibleTime, 30*time.Second)
	def(&c.RetryAfterMax, time.Hour)
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1024
	}
	if c.MaxInFlightBytes <= 0 {
		c.MaxInFlightBytes = 64 << 20
	}
	if c.Pollers <= 0 {
		c.Pollers = 8
	}
	return c
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	if c.InvisibleTime != 0 && c.InvisibleTime < 2*time.Second {
		return errors.New("delivery: InvisibleTime below 2s")
	}
	if c.MaxInFlight < 0 || c.MaxInFlightBytes < 0 || c.Pollers < 0 {
		return errors.New("delivery: negative budget or pollers")
	}
	return nil
}

// Engine delivers every active push subscription from RocketMQ with POP
// consumption. Its memory is bounded by the messages in flight, not by
// the number of subscriptions: a fixed set of pollers pops for every
// subscription in turn, within a global budget of messages and bytes;
// each popped message is one delivery goroutine until it is settled. The
// broker keeps the offsets, the invisibility timers and the redelivery,
// so any replica serves any queue and a dead replica's messages come back
// to the others after their invisible time.
type Engine struct {
	cfg     Config
	src     Source
	settler Settler
	subs    Subscriptions
	dls     DeadLetterStore
	lag     Lagger
	handle  Handler
	idle    IdleCloser // nil when the Caller has no idle connections to close
	metrics *Metrics
	log     *slog.Logger

	budget *budget
	sched  *scheduler
	held   heldSet
	acks   *acker

	// deliverCtx is the context of endpoint calls and settling; it ends
	// only when a shutdown's drain times out.
	deliverCtx    context.Context
	cancelDeliver context.CancelFunc
	deliveries    sync.WaitGroup
	workers       *workers // run deliver

	recMu    sync.Mutex // one reconcile at a time
	mu       sync.Mutex
	runs     map[string]*subRun
	closed   bool
	seen     int64            // the store's version of the newest snapshot acted on
	staleRun int              // snapshots older than seen read in a row
	routes   map[string]route // topic → its brokers
	lagNext  int              // where the next lag round starts
}

type route struct {
	brokers []pop.Broker
	at      time.Time
}

// NewEngine returns an engine; Run starts it.
func NewEngine(cfg Config, subs Subscriptions, src Source, settler Settler, dls DeadLetterStore, lag Lagger,
	dd Deduper, hooks Caller, errs ErrorLog, tp trace.TracerProvider, prop propagation.TextMapPropagator,
	log *slog.Logger, m *Metrics) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// The chain of one attempt, outermost first (see the package doc).
	handle := Chain(Post(hooks),
		Count(m),
		Dedup(dd, DedupConfig{LeaseWait: cfg.LeaseWait, OnStoreError: m.DedupErrors.Inc, Log: log}),
		RecordFailures(errs, log),
		Trace(tp.Tracer("github.com/zeroloss/zeroloss/internal/push"), prop),
		Encode(prop, time.Now),
		Latency(m),
	)
	dctx, cancel := context.WithCancel(context.Background())
	idle, _ := hooks.(IdleCloser)
	acks := newAcker(settler, maxAckBatch)
	acks.sent = func(n int) {
		m.AckRequests.Inc()
		m.Acks.Add(float64(n))
	}
	e := &Engine{
		cfg: cfg, src: src, settler: settler, subs: subs, dls: dls, lag: lag, handle: handle, idle: idle, metrics: m, log: log,
		budget: newBudget(cfg.MaxInFlight, cfg.MaxInFlightBytes), sched: newScheduler(),
		held: heldSet{m: map[*heldMsg]struct{}{}}, acks: acks, deliverCtx: dctx, cancelDeliver: cancel,
		runs: map[string]*subRun{}, routes: map[string]route{},
	}
	e.initWorkers()
	return e, nil
}

// initWorkers gives e its delivery goroutines.
func (e *Engine) initWorkers() {
	e.workers = newWorkers(func(d delivery) { e.deliver(d.r, d.m, d.size) }, workerIdle)
}

// Stats are the engine's own counts, for tests and the metrics.
type Stats struct {
	Subscriptions int   // subscriptions delivered by this replica
	Tasks         int   // (subscription, broker) pop tasks scheduled
	InFlight      int   // messages popped and not settled
	InFlightBytes int64 // their bytes
}

// Stats returns the engine's counts now.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	n := len(e.runs)
	e.mu.Unlock()
	msgs, bytes := e.budget.inUse()
	return Stats{Subscriptions: n, Tasks: e.sched.len(), InFlight: msgs, InFlightBytes: bytes}
}

// Run delivers until ctx ends, then stops every subscription and waits
// (up to DrainTimeout) for the deliveries in flight to be settled.
func (e *Engine) Run(ctx context.Context) {
	pctx, stopPollers := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for range e.cfg.Pollers {
		workers.Add(1)
		go func() { defer workers.Done(); e.poll(pctx) }()
	}
	workers.Add(1)
	go func() { defer workers.Done(); e.maintain(pctx) }()

	e.subs.Watch(ctx, e.cfg.Resync, func() { e.reconcile(ctx) })

	e.recMu.Lock()
	e.mu.Lock()
	e.closed = true
	for _, r := range e.runs {
		e.stopLocked(r)
	}
	e.mu.Unlock()
	e.recMu.Unlock()
	done := make(chan struct{})
	go func() { e.deliveries.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.DrainTimeout):
		e.log.Warn("delivery: in-flight deliveries did not finish in time; they come back after their invisible time")
		e.cancelDeliver()
		<-done
	}
	e.cancelDeliver()
	stopPollers()
	workers.Wait()
	e.workers.stop() // nothing is popped any more: the idle delivery goroutines end
}

// reconcile runs the active push subscriptions and stops the others.
func (e *Engine) reconcile(ctx context.Context) {
	e.recMu.Lock()
	defer e.recMu.Unlock()
	version, all, err := e.subs.Snapshot(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("delivery: read subscriptions", slog.Any("error", err))
		}
		return
	}
	if version < e.seen && e.staleRun < maxStaleSnapshots {
		// Older than what was acted on (a Redis replica behind its
		// master): acting on it could restart a paused or deleted
		// subscription. Only a store whose version went back for good
		// (its data lost) is accepted, after several reads in a row.
		e.staleRun++
		e.log.Warn("delivery: stale subscriptions ignored", slog.Int64("version", version), slog.Int64("seen", e.seen))
		return
	}
	e.staleRun = 0
	e.seen = version
	want := map[string]subscription.Subscription{}
	for _, s := range all {
		if !s.Paused && s.Push() {
			want[s.ID] = s
		}
	}
	e.mu.Lock()
	if e.closed || ctx.Err() != nil {
		e.mu.Unlock()
		return
	}
	var start []subscription.Subscription
	stopped := 0
	for id, r := range e.runs {
		s, ok := want[id]
		switch {
		case !ok:
			e.stopLocked(r)
			stopped++
			e.log.Info("delivery: stopped", slog.String("subscription", id))
		case r.key != runKey(s):
			// Restarted below, with the subscriptions not running: it
			// is no longer in e.runs. (Appending it here too started it
			// twice, and the first of the two was never stopped.)
			e.stopLocked(r)
			stopped++
		default:
			r.update(s)
		}
	}
	for id, s := range want {
		if _, ok := e.runs[id]; !ok {
			start = append(start, s)
		}
	}
	e.mu.Unlock()
	if stopped > 0 && e.idle != nil {
		// Keep-alive connections to the stopped subscriptions' endpoints
		// would stay open (two goroutines each) until their idle timeout;
		// the running subscriptions' next calls open new ones if needed.
		e.idle.CloseIdleConnections()
	}
	for _, s := range start {
		brokers := e.brokersOf(ctx, s.Topic, false)
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		r := newSubRun(e, s)
		e.runs[s.ID] = r
		r.addTasks(brokers)
		e.mu.Unlock()
		e.log.Info("delivery: delivering", slog.String("subscription", s.ID), slog.String("topic", s.Topic),
			slog.String("group", s.Group()), slog.Int("brokers", len(brokers)))
	}
}

// brokersOf returns topic's masters, from a cache refreshed every 30 s
// (or at once with refresh); nil when the route is unknown.
func (e *Engine) brokersOf(ctx context.Context, topic string, refresh bool) []pop.Broker {
	e.mu.Lock()
	rt, ok := e.routes[topic]
	e.mu.Unlock()
	if ok && !refresh && time.Since(rt.at) < 30*time.Second {
		return rt.brokers
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	bs, err := e.src.Brokers(lctx, topic)
	if err != nil {
		if ok {
			e.log.Warn("delivery: route of topic", slog.String("topic", topic), slog.Any("error", err))
			return rt.brokers
		}
		// A subscription to a topic not created yet: asked again every 5 s,
		// not worth a warning each time.
		e.log.Debug("delivery: route of topic", slog.String("topic", topic), slog.Any("error", err))
		return nil
	}
	e.mu.Lock()
	e.routes[topic] = route{brokers: bs, at: time.Now()}
	e.mu.Unlock()
	return bs
}

// stopLocked stops r: its pops are cancelled, its tasks leave the
// schedule, deliveries that have not reached the endpoint give up (their
// messages come back after their invisible time), the others finish and
// settle. Nothing of r stays behind.
func (e *Engine) stopLocked(r *subRun) {
	delete(e.runs, r.id)
	r.stop()
	for _, t := range r.takeTasks() {
		e.sched.kill(t)
	}
	e.metrics.forget(r.id)
}

// maintain renews the invisible time of long deliveries every second,
// refreshes routes and gives new brokers their tasks every 30 s, updates
// the gauges, and measures lag every 15 s.
func (e *Engine) maintain(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var n int
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n++
		e.renew(ctx)
		st := e.Stats()
		e.metrics.InFlight.Set(float64(st.InFlight))
		e.metrics.InFlightBytes.Set(float64(st.InFlightBytes))
		e.metrics.Running.Set(float64(st.Subscriptions))
		e.metrics.Tasks.Set(float64(st.Tasks))
		if n%30 == 0 {
			e.refreshRoutes(ctx)
		} else if n%5 == 0 {
			e.retryUnrouted(ctx)
		}
		if n%15 == 0 {
			e.measureLag(ctx)
		}
	}
}

// refreshRoutes looks every delivered topic up again and adds tasks for
// brokers that appeared (tasks of vanished brokers keep failing softly,
// with backoff, until the broker is back or the subscription stops).
func (e *Engine) refreshRoutes(ctx context.Context) {
	e.mu.Lock()
	topics := map[string]bool{}
	for _, r := range e.runs {
		topics[r.sub.Load().Topic] = true
	}
	e.mu.Unlock()
	for t := range topics {
		bs := e.brokersOf(ctx, t, true)
		e.mu.Lock()
		for _, r := range e.runs {
			if r.sub.Load().Topic == t {
				r.addTasks(bs)
			}
		}
		e.mu.Unlock()
	}
}

// retryUnrouted gives tasks to subscriptions whose topic had no route.
func (e *Engine) retryUnrouted(ctx context.Context) {
	e.mu.Lock()
	var topics []string
	for _, r := range e.runs {
		if r.taskCount() == 0 {
			topics = append(topics, r.sub.Load().Topic)
		}
	}
	e.mu.Unlock()
	for _, t := range topics {
		bs := e.brokersOf(ctx, t, true)
		e.mu.Lock()
		for _, r := range e.runs {
			if r.sub.Load().Topic == t {
				r.addTasks(bs)
			}
		}
		e.mu.Unlock()
	}
}

// measureLag sets the lag gauge of up to 50 subscriptions per round, in
// turn, so that many subscriptions do not flood the brokers.
func (e *Engine) measureLag(ctx context.Context) {
	if e.lag == nil {
		return
	}
	e.mu.Lock()
	subs := make([]subscription.Subscription, 0, len(e.runs))
	for _, r := range e.runs {
		subs = append(subs, *r.sub.Load())
	}
	start := e.lagNext
	e.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	const perRound = 50
	for i := 0; i < min(perRound, len(subs)); i++ {
		s := subs[(start+i)%len(subs)]
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		lag, err := e.lag.Lag(lctx, s.Group(), s.Topic)
		cancel()
		if err == nil && e.running(s.ID) {
			e.metrics.Lag.WithLabelValues(s.ID).Set(float64(lag))
		}
	}
	e.mu.Lock()
	e.lagNext = (start + perRound) % max(len(subs), 1)
	e.mu.Unlock()
}

func (e *Engine) running(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.runs[id]
	return ok
}

// pause records a pause the endpoint asked for (410 Gone); every replica
// stops the subscription on the change notice, this one at once. It
// reports whether the pause was stored.
func (e *Engine) pause(ctx context.Context, s subscription.Subscription, reason string) bool {
	p := pauser{store: e.subs, timeout: 5 * time.Second, log: e.log,
		changed: func() { go e.reconcile(context.WithoutCancel(ctx)) }}
	return p.pause(ctx, s, reason)
}

// maxStaleSnapshots is how many snapshots older than the last acted on
// are ignored in a row before the store is believed to have gone back.
const maxStaleSnapshots = 5
