package rates

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// replicasKey is the Redis hash of snapshots, one field per replica.
const replicasKey = "zl:{ops}:replicas"

// forgetAfter is how long a silent replica's snapshot stays in the hash
// before a reader deletes it.
const forgetAfter = time.Minute

// Recorder samples this replica's counters, publishes its snapshot and
// reads everyone's. Run samples and publishes; Read may be called from any
// goroutine.
type Recorder struct {
	cfg     Config
	gather  prometheus.Gatherer
	rdb     redis.UniversalClient
	log     *slog.Logger
	started time.Time

	// Touched only by Run's goroutine.
	last       map[counterKey]float64
	sends      map[string]Series
	deliveries map[string]Series
}

// NewRecorder returns a Recorder sampling gather and sharing through rdb.
func NewRecorder(cfg Config, gather prometheus.Gatherer, rdb redis.UniversalClient, log *slog.Logger) (*Recorder, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Recorder{cfg: cfg, gather: gather, rdb: rdb, log: log, started: time.Now().UTC(),
		last: map[counterKey]float64{}, sends: map[string]Series{}, deliveries: map[string]Series{}}, nil
}

// Run samples and publishes every heartbeat until ctx ends, then removes
// this replica's snapshot so it stops being seen at once.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Heartbeat)
	defer t.Stop()
	for {
		r.beat(ctx, time.Now())
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := r.rdb.HDel(cctx, replicasKey, r.cfg.Replica).Err(); err != nil {
				r.log.Debug("rates: remove heartbeat", slog.Any("error", err))
			}
			return
		case <-t.C:
		}
	}
}

func (r *Recorder) beat(ctx context.Context, now time.Time) {
	if err := r.sample(now); err != nil {
		r.log.Warn("rates: sample counters", slog.Any("error", err))
	}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.Heartbeat)
	defer cancel()
	if err := r.publish(pctx, now); err != nil {
		r.log.Debug("rates: publish heartbeat", slog.Any("error", err))
	}
}

// counterKey names one counter series, reduced to what rates keep.
type counterKey struct {
	family string // "sends" or "deliveries"
	name   string // topic or subscription id
	failed bool
}

// sample adds each counter's increase since the last sample to the
// interval now falls in, and forgets intervals past the window.
func (r *Recorder) sample(now time.Time) error {
	fams, err := r.gather.Gather()
	if err != nil {
		return fmt.Errorf("rates: gather: %w", err)
	}
	cur := map[counterKey]float64{}
	for _, f := range fams {
		var family, nameLabel string
		switch f.GetName() {
		case "zeroloss_sends_total":
			family, nameLabel = "sends", "topic"
		case "zeroloss_deliveries_total":
			family, nameLabel = "deliveries", "subscription"
		default:
			continue
		}
		for _, m := range f.GetMetric() {
			var name, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case nameLabel:
					name = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			failed, counted := classify(family, outcome)
			if !counted {
				continue
			}
			cur[counterKey{family, name, failed}] += m.GetCounter().GetValue()
		}
	}
	step := int64(r.cfg.Interval / time.Second)
	at := now.Unix() - now.Unix()%step
	for k, v := range cur {
		d := v - r.last[k]
		if d <= 0 {
			continue
		}
		by := r.sends
		if k.family == "deliveries" {
			by = r.deliveries
		}
		s := by[k.name]
		if s == nil {
			s = Series{}
			by[k.name] = s
		}
		c := s[at]
		if k.failed {
			c.Failed += d
		} else {
			c.OK += d
		}
		s[at] = c
	}
	r.last = cur
	oldest := at - int64(r.cfg.Points-1)*step
	for _, by := range []map[string]Series{r.sends, r.deliveries} {
		for name, s := range by {
			for t := range s {
				if t < oldest {
					delete(s, t)
				}
			}
			if len(s) == 0 {
				delete(by, name)
			}
		}
	}
	return nil
}

// classify says whether an outcome counts, and as a failure or not.
// Deliveries: delivered and suppressed are acknowledged; retry, dead and
// gone failed; busy (another replica holds the message) is no attempt.
// Sends: ok or not.
func classify(family, outcome string) (failed, counted bool) {
	if family == "sends" {
		return outcome != "ok", true
	}
	switch outcome {
	case "delivered", "suppressed":
		return false, true
	case "retry", "dead", "gone":
		return true, true
	}
	return false, false
}

func (r *Recorder) publish(ctx context.Context, now time.Time) error {
	b, err := json.Marshal(Snapshot{Replica: r.cfg.Replica, Version: r.cfg.Version, StartedAt: r.started,
		SeenAt: now.UTC(), IntervalSeconds: int64(r.cfg.Interval / time.Second), Sends: r.sends, Deliveries: r.deliveries})
	if err != nil {
		return fmt.Errorf("rates: encode snapshot: %w", err)
	}
	pipe := r.rdb.TxPipeline()
	pipe.HSet(ctx, replicasKey, r.cfg.Replica, b)
	pipe.PExpire(ctx, replicasKey, forgetAfter)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("rates: write heartbeat: %w", err)
	}
	return nil
}

// Read sums the snapshots of the replicas heard from within three
// heartbeats; it deletes the ones silent for a minute.
func (r *Recorder) Read(ctx context.Context) (View, error) {
	fields, err := r.rdb.HGetAll(ctx, replicasKey).Result()
	if err != nil {
		return View{}, fmt.Errorf("rates: read heartbeats: %w", err)
	}
	now := time.Now()
	var snaps []Snapshot
	var gone []string
	for field, raw := range fields {
		var s Snapshot
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			gone = append(gone, field)
			continue
		}
		switch age := now.Sub(s.SeenAt); {
		case age > forgetAfter:
			gone = append(gone, field)
		case age <= 3*r.cfg.Heartbeat:
			snaps = append(snaps, s)
		}
	}
	if len(gone) > 0 {
		if err := r.rdb.HDel(ctx, replicasKey, gone...).Err(); err != nil {
			r.log.Debug("rates: forget silent replicas", slog.Any("error", err))
		}
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].Replica < snaps[j].Replica })
	return newView(snaps, r.cfg.Interval, r.cfg.Points, now), nil
}
