package push

import (
	"context"
	"log/slog"
	"time"
)

// ErrorLog remembers each failed message's last error for the dead-letter
// listing (DeadLetters).
type ErrorLog interface {
	RecordFailure(ctx context.Context, sub, messageID, reason string, attempt int) error
}

// RecordFailures records every attempt that did not deliver (its reason
// and number) in errs, for the dead-letter listing. A failure to record is
// logged: the listing then shows an older reason, nothing is lost.
func RecordFailures(errs ErrorLog, log *slog.Logger) Middleware {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) Result {
			r := next(ctx, d)
			if r.Err != nil || r.Outcome == Delivered || r.Outcome == Suppressed {
				return r
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := errs.RecordFailure(rctx, d.Sub.ID, MessageID(d.Msg), r.Reason, d.Attempt()); err != nil {
				log.Debug("delivery: record failure", slog.String("subscription", d.Sub.ID), slog.Any("error", err))
			}
			return r
		}
	}
}
