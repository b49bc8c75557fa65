package pull

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Result is the outcome of settling one receipt handle.
type Result struct {
	Receipt string // as given
	// NewReceipt replaces Receipt (Extend).
	NewReceipt string
	// InvisibleUntil is when the message becomes visible again (Nack,
	// Extend).
	InvisibleUntil time.Time
	// Err is nil on success, else ErrInvalidReceipt, ErrReceiptExpired or
	// a dependency's error (wrapping ErrUnavailable).
	Err error
}

// parse returns the receipt if it is s's, not replaced by a nack or an
// extend, and still within its invisibility at now.
func (c *Consumer) parse(ctx context.Context, s subscription.Subscription, receipt string, now time.Time) (Receipt, error) {
	r, err := ParseReceipt(receipt)
	if err != nil {
		return Receipt{}, err
	}
	if r.Subscription != s.ID {
		return Receipt{}, fmt.Errorf("%w: not a receipt of this subscription", ErrInvalidReceipt)
	}
	replaced, err := c.replaced.Is(ctx, s.ID, r.Handle)
	if err != nil {
		// Unknown: go on; the broker takes a replaced handle without effect.
		c.cfg.Log.Warn("pull: read replaced handles", slog.Any("error", err))
	}
	if replaced {
		return Receipt{}, fmt.Errorf("%w: replaced by a nack or an extend", ErrInvalidReceipt)
	}
	if now.After(r.Handle.VisibleAt()) {
		return r, ErrReceiptExpired
	}
	return r, nil
}

// Ack settles each receipt as processed: its dedup id is marked delivered
// (so a redelivery is dropped), then the broker acks the message. An
// expired receipt is marked and acked too (a redelivery not yet made is
// then dropped) and reported as ErrReceiptExpired.
func (c *Consumer) Ack(ctx context.Context, s subscription.Subscription, receipts []string) []Result {
	out := make([]Result, len(receipts))
	now := time.Now()
	for i, rs := range receipts {
		out[i].Receipt = rs
		r, err := c.parse(ctx, s, rs, now)
		if r.Subscription == "" {
			out[i].Err = err
			continue
		}
		log := c.cfg.Log.With(slog.String("subscription", s.ID), slog.String("messageId", r.MessageID))
		if r.DedupID != "" {
			if merr := c.markDelivered(ctx, s.ID, r.DedupID); merr != nil {
				// The broker ack still ends the message; only a duplicate
				// copy could get through.
				log.Warn("pull: mark delivered", slog.Any("error", merr))
			}
		}
		if aerr := c.settle.Ack(ctx, s.Group(), s.Topic, r.Handle); aerr != nil && err == nil {
			err = fmt.Errorf("%w: %w", ErrUnavailable, aerr)
		}
		out[i].Err = err
	}
	return out
}

// markDelivered marks id delivered whoever holds its claim: a claim with
// the shortest lease gives the record's key, Delivered overwrites it.
func (c *Consumer) markDelivered(ctx context.Context, sub, id string) error {
	cl, err := c.dd.ClaimFor(ctx, sub, id, time.Millisecond)
	if err != nil {
		return err
	}
	if cl.Status == dedup.Delivered {
		return nil
	}
	return c.dd.Delivered(ctx, cl)
}

// Nack gives each message back: it becomes visible again after delay and
// is received again with its attempt + 1. The receipts are dead after.
func (c *Consumer) Nack(ctx context.Context, s subscription.Subscription, receipts []string, delay time.Duration) []Result {
	return c.rehide(ctx, s, receipts, delay, func(r Receipt, h pop.Handle, out *Result) {
		out.InvisibleUntil = h.VisibleAt()
		// The redelivery must be claimable: drop this receipt's claim.
		c.forget(ctx, s, r.DedupID, c.cfg.Log.With(slog.String("subscription", s.ID)))
	})
}

// Extend keeps each message hidden for d from now and gives it a new
// receipt; the old one is dead.
func (c *Consumer) Extend(ctx context.Context, s subscription.Subscription, receipts []string, d time.Duration) []Result {
	return c.rehide(ctx, s, receipts, d, func(r Receipt, h pop.Handle, out *Result) {
		r.Handle = h
		out.NewReceipt, out.InvisibleUntil = r.String(), h.VisibleAt()
		if r.DedupID != "" {
			// The claim's lease follows the invisibility (best effort: a
			// duplicate copy could slip in between the two steps).
			c.forget(ctx, s, r.DedupID, c.cfg.Log.With(slog.String("subscription", s.ID)))
			if _, err := c.dd.ClaimFor(ctx, s.ID, r.DedupID, d); err != nil {
				c.cfg.Log.Warn("pull: renew dedup claim", slog.String("subscription", s.ID), slog.Any("error", err))
			}
		}
	})
}

// rehide hides each receipt's message for d from now (CHANGE_INVISIBLETIME),
// marks the old handle dead, and lets then finish the result with the new
// handle. A receipt that does not parse or a broker that does not answer
// is that receipt's error; the others go on.
func (c *Consumer) rehide(ctx context.Context, s subscription.Subscription, receipts []string, d time.Duration,
	then func(r Receipt, h pop.Handle, out *Result)) []Result {
	out := make([]Result, len(receipts))
	now := time.Now()
	for i, rs := range receipts {
		out[i].Receipt = rs
		r, err := c.parse(ctx, s, rs, now)
		if err != nil {
			out[i].Err = err
			continue
		}
		h, err := c.settle.ChangeInvisibleTime(ctx, s.Group(), s.Topic, r.Handle, d)
		if err != nil {
			out[i].Err = fmt.Errorf("%w: %w", ErrUnavailable, err)
			continue
		}
		c.markReplaced(ctx, s, r.Handle)
		then(r, h, &out[i])
	}
	return out
}

// markReplaced records that h is dead until a minute past its
// invisibility (after which it is refused as expired anyway).
func (c *Consumer) markReplaced(ctx context.Context, s subscription.Subscription, h pop.Handle) {
	if err := c.replaced.Mark(ctx, s.ID, h, time.Until(h.VisibleAt())+time.Minute); err != nil {
		c.cfg.Log.Warn("pull: mark handle replaced", slog.String("subscription", s.ID), slog.Any("error", err))
	}
}
