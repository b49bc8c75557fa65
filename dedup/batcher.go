package dedup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/rscript"
)

// Batcher gives concurrent callers of ClaimFor and Delivered one Redis round
// trip per batch instead of one per call (rscript.Batcher): a caller's
// command joins those that arrived while the previous pipeline was in
// flight, so at low load nothing waits and under load batches grow by
// themselves (up to MaxBatch). Each caller gets its own answer and error.
// A call runs to its answer within callTimeout whatever its context (as a
// claim or mark once asked for must be known); calls after Run returned
// fail.
type Batcher struct {
	s       *Store
	pipe    *rscript.Batcher
	stopped chan struct{} // closed when Run returns
}

// NewBatcher returns a batcher over s with batches of at most maxBatch.
func NewBatcher(s *Store, maxBatch int) *Batcher {
	if maxBatch < 1 {
		maxBatch = 64
	}
	// Two pipelines in flight, as claims and marks had one each.
	pipe := rscript.NewBatcher(s.rdb, rscript.Config{MaxBatch: maxBatch, MaxInFlight: 2, Yield: true})
	return &Batcher{s: s, pipe: pipe, stopped: make(chan struct{})}
}

// Run returns when ctx ends; calls made after that fail (those in flight
// finish). The batches themselves run on their callers' goroutines and the
// pipelines', not on Run's.
func (b *Batcher) Run(ctx context.Context) {
	<-ctx.Done()
	close(b.stopped)
}

var errStopped = errors.New("dedup: batcher stopped")

func (b *Batcher) stop() error {
	select {
	case <-b.stopped:
		return errStopped
	default:
		return nil
	}
}

// callTimeout bounds a batched call, which runs to its answer whatever
// its caller's context says: a claim a delivery asked for is then known
// (claimed, busy or delivered) and a mark is written, even when the
// delivery is being cancelled (a stop), as the batches always did.
const callTimeout = 5 * time.Second

// detached is ctx without its cancellation, within callTimeout.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
}

// ClaimFor is Store.ClaimFor through the batch pipeline.
func (b *Batcher) ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (Claim, error) {
	if err := b.stop(); err != nil {
		return Claim{}, fmt.Errorf("dedup: claim: %w", err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	return b.s.claimWith(ctx, subscription, id, lease, b.do, b.pipe.Eval)
}

// do is Store.do in the batch pipeline (a doFunc).
func (b *Batcher) do(ctx context.Context, fill func(redis.Cmdable)) error {
	return b.pipe.Do(ctx, func(p rscript.Pipe) { fill(p.Pipeliner) })
}

// Delivered is Store.Delivered through the batch pipeline.
func (b *Batcher) Delivered(ctx context.Context, c Claim) error {
	if err := b.stop(); err != nil {
		return fmt.Errorf("dedup: mark delivered: %w", err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	return b.s.markWith(ctx, c, func(ctx context.Context, key string) error {
		var set *redis.StatusCmd
		if err := b.pipe.Do(ctx, func(p rscript.Pipe) { set = p.Set(ctx, key, deliveredValue, b.s.cfg.Window) }); err != nil {
			return err
		}
		return set.Err()
	})
}

// Release is Store.Release (failures are rare: no batching).
func (b *Batcher) Release(ctx context.Context, c Claim) error { return b.s.Release(ctx, c) }
