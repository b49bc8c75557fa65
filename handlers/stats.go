package handlers

import (
	"context"
	"sort"
	"time"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/rates"
)

// RateReader reads the send and delivery rates every replica published
// (rates.Recorder).
type RateReader interface {
	Read(ctx context.Context) (rates.View, error)
}

// LagReader reads how many messages of topic a consumer group has not
// acknowledged (broker.Admin).
type LagReader interface {
	Lag(ctx context.Context, group, topic string) (int64, error)
}

// Stats implements the endpoints the console's charts and overview read:
// a subscription's lag and rates, and the gateway summary.
type Stats struct {
	subs   *Subscriptions
	lag    LagReader
	rates  RateReader
	health *Health
}

// NewStats returns the stats endpoints; subs scopes subscriptions as their
// own endpoints do, health gives the readiness shown in the summary.
func NewStats(subs *Subscriptions, lag LagReader, r RateReader, health *Health) *Stats {
	return &Stats{subs: subs, lag: lag, rates: r, health: health}
}

// lagTimeout bounds the broker round trips of one lag reading.
const lagTimeout = 3 * time.Second

// GetSubscriptionStats returns a subscription's lag (read from the broker
// now) and its delivery rates over the last minutes.
func (h *Stats) GetSubscriptionStats(ctx context.Context, req api.GetSubscriptionStatsRequestObject) (api.GetSubscriptionStatsResponseObject, error) {
	s, err := h.subs.get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	v, err := h.rates.Read(ctx)
	if err != nil {
		return nil, problem.Wrap(problem.DependencyUnavailable, "Redis could not be reached; retry later", err).WithRetryAfter(1)
	}
	out := api.GetSubscriptionStats200JSONResponse{SubscriptionId: s.ID, IntervalSeconds: int(v.Interval / time.Second),
		Deliveries: ratePoints(v.Deliveries(func(id string) bool { return id == s.ID }))}
	lctx, cancel := context.WithTimeout(ctx, lagTimeout)
	defer cancel()
	if lag, err := h.lag.Lag(lctx, s.Group(), s.Topic); err == nil {
		out.Lag = &lag
	}
	return out, nil
}

// maxSummarySubscriptions bounds the subscriptions whose deliveries the
// summary adds up.
const maxSummarySubscriptions = 5000

// GetOpsSummary returns the replicas seen, this replica's readiness, and
// the send and delivery rates the caller may see: sends on topics it may
// publish to, deliveries of its tenant's subscriptions it may see.
func (h *Stats) GetOpsSummary(ctx context.Context, _ api.GetOpsSummaryRequestObject) (api.GetOpsSummaryResponseObject, error) {
	p := principal(ctx)
	v, err := h.rates.Read(ctx)
	if err != nil {
		return nil, problem.Wrap(problem.DependencyUnavailable, "Redis could not be reached; retry later", err).WithRetryAfter(1)
	}
	mine := map[string]bool{}
	if p.HasAction("subscribe") {
		cursor := ""
		for len(mine) < maxSummarySubscriptions {
			ss, next, err := h.subs.svc.List(ctx, p.Tenant, cursor, 500)
			if err != nil {
				return nil, subProblem(err)
			}
			for _, s := range ss {
				if p.Allows("subscribe", s.Topic) {
					mine[s.ID] = true
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	out := api.GetOpsSummary200JSONResponse{
		Replicas:        make([]api.Replica, 0, len(v.Replicas)),
		Readiness:       []api.Readiness{},
		IntervalSeconds: int(v.Interval / time.Second),
		Sends:           ratePoints(v.Sends(func(topic string) bool { return p.Allows("publish", topic) })),
		Deliveries:      ratePoints(v.Deliveries(func(id string) bool { return mine[id] })),
	}
	for _, r := range v.Replicas {
		out.Replicas = append(out.Replicas, api.Replica{Id: r.Replica, Version: r.Version, StartedAt: r.StartedAt, LastSeenAt: r.SeenAt})
	}
	results := h.health.run(ctx)
	for part, err := range results {
		out.Readiness = append(out.Readiness, api.Readiness{Part: part, Ready: err == nil})
	}
	sort.Slice(out.Readiness, func(i, j int) bool { return out.Readiness[i].Part < out.Readiness[j].Part })
	return out, nil
}

func ratePoints(ps []rates.Point) []api.RatePoint {
	out := make([]api.RatePoint, len(ps))
	for i, p := range ps {
		out[i] = api.RatePoint{At: p.At, OkPerSecond: p.OK, FailedPerSecond: p.Failed}
	}
	return out
}
