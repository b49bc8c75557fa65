package txcallback

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// Resolve runs the resolver until ctx ends: every interval it takes the
// transactions whose next look is due (any replica may; the check URL
// lease keeps one caller per transaction) and settles what it can:
//
//   - pending past ResolveAfter: asks the producer's check URL and, on
//     commit or rollback, stores the decision and ends the transaction;
//   - pending past CheckWindow: the broker has discarded the half message,
//     so it becomes unknown_after_max_checks (terminal, logged, counted);
//   - sending past SendBudget: its sender vanished; aborted;
//   - decided without an acknowledged END_TRANSACTION: sends it again.
//
// Check URL calls share the bound of MaxConcurrentChecks with check-backs.
// The pass interval is half of ResolveAfter, between 100 ms and 1 s.
func (s *Service) Resolve(ctx context.Context) {
	interval := min(max(s.cfg.ResolveAfter/2, 100*time.Millisecond), time.Second)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.resolveDue(ctx)
	}
}

// resolveDue handles one batch of due transactions.
func (s *Service) resolveDue(ctx context.Context) {
	now := time.Now()
	ids, err := s.store.Due(ctx, now, 256)
	if err != nil {
		s.log.Warn("txcallback: resolver: list due transactions", slog.Any("error", err))
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		// Look again later whatever happens now; another replica's pass
		// meanwhile skips it.
		_ = s.store.Reschedule(ctx, id, now.Add(s.cfg.ResolveRetry))
		s.resolveOne(ctx, id, now)
	}
}

func (s *Service) resolveOne(ctx context.Context, id string, now time.Time) {
	tx, err := s.store.GetTx(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		_ = s.store.Settled(ctx, id)
		return
	case err != nil:
		s.log.Warn("txcallback: resolver: read transaction", slog.String("transaction", id), slog.Any("error", err))
		return
	}
	age := now.Sub(tx.CreatedAt)
	switch tx.State {
	case Sending:
		since := tx.SendingAt
		if since.IsZero() { // a record written before sendingAt existed
			since = tx.CreatedAt
		}
		if now.Sub(since) > s.cfg.SendBudget {
			if moved, err := s.store.Abort(ctx, id); err == nil && moved {
				_ = s.store.Settled(ctx, id)
				s.metrics.Transactions.WithLabelValues(string(Aborted)).Inc()
				s.log.Warn("txcallback: begin never finished (its replica stopped); aborted, any stored copy is rolled back",
					slog.String("transaction", id))
			}
		}
	case Pending:
		if age > s.cfg.CheckWindow+tx.CheckAfter {
			s.expire(tx, tx.CheckCount)
			return
		}
		if s.cfg.ResolveAfter > 0 && age >= s.resolveAge(tx) {
			s.callLater(tx, tx.CheckCount, false)
		}
	case Committed, RolledBack:
		if tx.Ended {
			_ = s.store.Settled(ctx, id)
			return
		}
		claimed, state, err := s.store.ClaimEnd(ctx, id, s.endLease())
		if err != nil || !claimed {
			return
		}
		d := broker.Commit
		if state == RolledBack {
			d = broker.Rollback
		}
		s.end(ctx, id, tx.Half, d)
	default:
		_ = s.store.Settled(ctx, id)
	}
}
