package push

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Topics creates topics and reads consumer lag (broker.Admin).
type Topics interface {
	CreateTopic(ctx context.Context, cluster, topic string, queues int) error
	Lag(ctx context.Context, group, topic string) (int64, error)
}

// Subscriptions is where the manager reads subscriptions and records a
// pause (subscription.Store).
type Subscriptions interface {
	All(ctx context.Context) ([]subscription.Subscription, error)
	SetPaused(ctx context.Context, id, reason string) error
	Watch(ctx context.Context, interval time.Duration, changed func())
}

// Config configures a Manager.
type Config struct {
	NameServers []string
	// Cluster is the RocketMQ cluster whose masters get each subscription's
	// retry and dead-letter topics (default DefaultCluster).
	Cluster string
	// Resync re-reads every subscription this often (besides pub/sub).
	Resync time.Duration
	// DelayLevels is the brokers' messageDelayLevel, used to honour
	// Retry-After; default RocketMQ's "1s 5s 10s 30s 1m 2m … 2h".
	DelayLevels string
	// LeaseWait bounds waiting for another replica's in-flight claim.
	LeaseWait time.Duration
	// DrainTimeout bounds finishing in-flight deliveries on stop.
	DrainTimeout time.Duration
	// PauseHold bounds how long a message whose endpoint answered 410
	// waits, after the pause was stored, for its consumer to stop; after
	// it the message is retried (default 30 s).
	PauseHold time.Duration
}

// Manager keeps one runner per active subscription on this replica.
type Manager struct {
	cfg     Config
	subs    Subscriptions
	topics  Topics
	handle  Handler
	metrics *Metrics
	levels  []time.Duration
	log     *slog.Logger
	mu      sync.Mutex
	runners map[string]*runner
	keys    map[string]string
	closed  bool           // set when Run ends: no runner starts after
	stops   sync.WaitGroup // runners being stopped
}

// NewManager returns a manager; Run starts it.
func NewManager(cfg Config, subs Subscriptions, topics Topics, dd Deduper, hooks Caller, errs ErrorLog,
	tp trace.TracerProvider, prop propagation.TextMapPropagator, log *slog.Logger, m *Metrics) *Manager {
	if cfg.Cluster == "" {
		cfg.Cluster = "DefaultCluster"
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 5 * time.Second
	}
	if cfg.LeaseWait <= 0 {
		cfg.LeaseWait = time.Minute
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 20 * time.Second
	}
	if cfg.PauseHold <= 0 {
		cfg.PauseHold = 30 * time.Second
	}
	if cfg.DelayLevels == "" {
		cfg.DelayLevels = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
	}
	var levels []time.Duration
	for _, f := range strings.Fields(cfg.DelayLevels) {
		if d, err := time.ParseDuration(f); err == nil {
			levels = append(levels, d)
		}
	}
	// The chain of one attempt, outermost first (see the package doc).
	handle := Chain(Post(hooks),
		Count(m),
		Dedup(dd, DedupConfig{LeaseWait: cfg.LeaseWait, OnStoreError: m.DedupErrors.Inc, Log: log}),
		RecordFailures(errs, log),
		Trace(tp.Tracer("github.com/zeroloss/zeroloss/internal/push"), prop),
		Encode(prop, time.Now),
		Latency(m),
	)
	return &Manager{
		cfg: cfg, subs: subs, topics: topics, levels: levels, log: log, runners: map[string]*runner{}, keys: map[string]string{},
		handle: handle, metrics: m,
	}
}

// Run reconciles the runners with the subscriptions until ctx ends, then
// stops every runner (finishing in-flight deliveries).
func (m *Manager) Run(ctx context.Context) {
	lagDone := make(chan struct{})
	go func() { defer close(lagDone); m.measureLag(ctx) }()
	m.subs.Watch(ctx, m.cfg.Resync, func() { m.reconcile(ctx) })
	<-lagDone
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var wg sync.WaitGroup
	for id, r := range m.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(context.Background(), m.cfg.DrainTimeout)
			defer cancel()
			r.stop(sctx)
		}()
		delete(m.runners, id)
	}
	wg.Wait()
	m.stops.Wait()
}

func (m *Manager) reconcile(ctx context.Context) {
	all, err := m.subs.All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("delivery: read subscriptions", slog.Any("error", err))
		}
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ctx.Err() != nil || m.closed {
		return
	}
	want := map[string]bool{}
	for _, s := range all {
		if s.Paused {
			continue
		}
		want[s.ID] = true
		r, ok := m.runners[s.ID]
		if ok && m.keys[s.ID] == consumerKey(s) {
			r.update(s)
			continue
		}
		if ok {
			m.stopLocked(s.ID)
		}
		if err := m.ensureTopics(ctx, s); err != nil {
			m.log.Error("delivery: create retry and dead-letter topics", slog.String("subscription", s.ID), slog.Any("error", err))
			continue
		}
		r, err := startRunner(m.cfg.NameServers, s, runnerDeps{handle: m.handle, pause: m.pause, levels: m.levels,
			metrics: m.metrics, pauseHold: m.cfg.PauseHold, log: m.log})
		if err != nil {
			m.log.Error("delivery: start subscription", slog.String("subscription", s.ID), slog.Any("error", err))
			continue
		}
		m.runners[s.ID], m.keys[s.ID] = r, consumerKey(s)
		m.log.Info("delivery: consuming", slog.String("subscription", s.ID), slog.String("topic", s.Topic), slog.String("group", s.Group()))
	}
	for id := range m.runners {
		if !want[id] {
			m.stopLocked(id)
			m.log.Info("delivery: stopped", slog.String("subscription", id))
		}
	}
}

// measureLag sets the lag gauge of every subscription running here.
func (m *Manager) measureLag(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		subs := make([]subscription.Subscription, 0, len(m.runners))
		for _, r := range m.runners {
			subs = append(subs, *r.sub.Load())
		}
		m.mu.Unlock()
		for _, s := range subs {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			lag, err := m.topics.Lag(lctx, s.Group(), s.Topic)
			cancel()
			if err == nil {
				m.metrics.Lag.WithLabelValues(s.ID).Set(float64(lag))
			}
		}
	}
}

// ensureTopics creates the subscription's retry topic before its consumer
// starts (a consumer learns of a retry topic created later only at its next
// route refresh, 30 s on) and a readable dead-letter topic (the broker's own
// is write-only, so dead letters could not be listed).
func (m *Manager) ensureTopics(ctx context.Context, s subscription.Subscription) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for _, t := range []string{"%RETRY%" + s.Group(), "%DLQ%" + s.Group()} {
		if err := m.topics.CreateTopic(ctx, m.cfg.Cluster, t, 1); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) stopLocked(id string) {
	r := m.runners[id]
	delete(m.runners, id)
	delete(m.keys, id)
	m.stops.Add(1)
	go func() {
		defer m.stops.Done()
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.DrainTimeout)
		defer cancel()
		r.stop(ctx)
	}()
}

// pause records a pause the endpoint asked for (410 Gone); every replica
// stops the subscription on the change notification, this one at once.
// It reports whether the pause was stored.
func (m *Manager) pause(ctx context.Context, s subscription.Subscription, reason string) bool {
	p := pauser{store: m.subs, timeout: 5 * time.Second, log: m.log,
		changed: func() { go m.reconcile(context.WithoutCancel(ctx)) }}
	return p.pause(ctx, s, reason)
}
