package push

import (
	"context"
	"log/slog"
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Pauser records a subscription's pause (subscription.Store); every
// replica stops the subscription when it learns of the change.
type Pauser interface {
	SetPaused(ctx context.Context, id, reason string) error
}

// pauser pauses a subscription whose endpoint answered 410 Gone.
type pauser struct {
	store   Pauser
	timeout time.Duration // bounds the store's answer
	// changed is called after a stored pause: this replica reconciles
	// at once rather than at its next resync.
	changed func()
	log     *slog.Logger
}

// pause records the pause and reports whether it was stored.
func (p pauser) pause(ctx context.Context, s subscription.Subscription, reason string) bool {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	if err := p.store.SetPaused(pctx, s.ID, reason); err != nil {
		p.log.Error("delivery: pause subscription", slog.String("subscription", s.ID), slog.Any("error", err))
		return false
	}
	p.log.Warn("delivery: subscription paused", slog.String("subscription", s.ID), slog.String("reason", reason))
	if p.changed != nil {
		p.changed()
	}
	return true
}

// park holds the callback of a message whose subscription was just paused
// until the runner is stopped (its answer is then ignored and the message
// is delivered after the resume) or hold fires. The hold keeps a callback
// (and, for an ordered subscription, its queue) from waiting forever when
// the runner is not stopped: the pause was undone before this replica
// read it, or reading it kept failing. It reports whether the runner
// stopped.
func park(stopped <-chan struct{}, hold <-chan time.Time) bool {
	select {
	case <-stopped:
		return true
	case <-hold:
		return false
	}
}
