package push

import (
	"context"
	"log/slog"
	"time"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Deduper suppresses duplicate deliveries (dedup.Store, dedup.Batcher).
// ClaimFor marks an id in flight for the caller for a lease; Delivered
// records the endpoint's 2xx; Release gives an undelivered claim back.
// Errors mean "unknown": never deliver.
type Deduper interface {
	ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (dedup.Claim, error)
	Delivered(ctx context.Context, c dedup.Claim) error
	Release(ctx context.Context, c dedup.Claim) error
}

// DedupConfig configures Dedup.
type DedupConfig struct {
	// LeaseWait bounds waiting for another replica's in-flight claim
	// (default 1 minute); after it the message is retried later (Busy).
	LeaseWait time.Duration
	// LeaseMargin is added to the subscription's timeout for a claim's
	// lease (default 5 s): an attempt ends, and marks or releases its
	// claim, well within its lease.
	LeaseMargin time.Duration
	// Backoff is the first wait after the store failed (default 100 ms);
	// it doubles up to MaxBackoff (default 2 s).
	Backoff, MaxBackoff time.Duration
	// SettleTimeout bounds marking or releasing a claim (default 5 s).
	SettleTimeout time.Duration
	// OnStoreError is called on each failure of the store (a metric).
	OnStoreError func()
	Log          *slog.Logger
}

func (c DedupConfig) withDefaults() DedupConfig {
	if c.LeaseWait <= 0 {
		c.LeaseWait = time.Minute
	}
	if c.LeaseMargin <= 0 {
		c.LeaseMargin = 5 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 2 * time.Second
	}
	if c.SettleTimeout <= 0 {
		c.SettleTimeout = 5 * time.Second
	}
	if c.OnStoreError == nil {
		c.OnStoreError = func() {}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Dedup sends each dedup id to the endpoint at most once per window: it
// claims the id before the attempt, marks it delivered after a 2xx and
// releases it after anything else. An id delivered before is Suppressed
// (acknowledged, not sent); one in flight elsewhere past LeaseWait is
// Busy (retried later, not sent). It fails closed: while the store does
// not answer it holds the message (never sends it, never answers RocketMQ,
// so no attempt is burnt) until the store answers or d.Stop closes.
// Subscriptions with dedup source none pass straight through.
func Dedup(store Deduper, cfg DedupConfig) Middleware {
	cfg = cfg.withDefaults()
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			if d.Sub.DedupSource == subscription.DedupNone {
				return next(ctx, d)
			}
			id := d.DedupID()
			claim, err := claim(ctx, store, cfg, d.Sub.ID, id, d.Sub.Timeout+cfg.LeaseMargin, d.Stop)
			if err != nil {
				return Result{Err: err}
			}
			switch claim.Status {
			case dedup.Delivered:
				return Result{Outcome: Suppressed}
			case dedup.Busy:
				// Still in flight elsewhere after waiting: never send it
				// twice; RocketMQ brings it back later.
				return Result{Outcome: Retry, Wait: claim.RetryAfter, Busy: true, Reason: "in flight on another replica"}
			}
			r := next(ctx, d)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.SettleTimeout)
			defer cancel()
			if r.Outcome == Delivered {
				if err := store.Delivered(sctx, claim); err != nil {
					// The endpoint has it; without the mark a re-delivery may
					// reach it again with the same webhook-id.
					cfg.Log.Warn("delivery: mark delivered", slog.String("subscription", d.Sub.ID), slog.String("dedupId", id), slog.Any("error", err))
				}
				return r
			}
			if err := store.Release(sctx, claim); err != nil {
				cfg.Log.Warn("delivery: release claim", slog.String("subscription", d.Sub.ID), slog.String("dedupId", id), slog.Any("error", err))
			}
			return r
		}
	}
}

// claim asks the store, waiting while it does not answer (fail closed) or
// another replica holds the message (up to LeaseWait), until stop.
func claim(ctx context.Context, store Deduper, cfg DedupConfig, sub, id string, lease time.Duration, stop <-chan struct{}) (dedup.Claim, error) {
	deadline := time.Now().Add(cfg.LeaseWait)
	backoff := cfg.Backoff
	for {
		c, err := store.ClaimFor(ctx, sub, id, lease)
		var wait time.Duration
		switch {
		case err != nil:
			cfg.OnStoreError()
			cfg.Log.Warn("delivery: dedup store unreachable; holding the message", slog.String("subscription", sub), slog.Any("error", err))
			wait = backoff
			backoff = min(2*backoff, cfg.MaxBackoff)
		case c.Status == dedup.Busy && time.Now().Before(deadline):
			wait = min(max(c.RetryAfter, 50*time.Millisecond), time.Second)
		default:
			return c, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return dedup.Claim{}, ErrStopping
		case <-ctx.Done():
			t.Stop()
			return dedup.Claim{}, ctx.Err()
		case <-t.C:
		}
	}
}
