package dedup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/internal/rscript"
)

// Batcher gives concurrent callers of ClaimFor and Delivered one Redis round
// trip per batch instead of one per call: a caller's request joins the
// requests that arrived while the previous pipeline was in flight, so at
// low load nothing waits and under load batches grow by themselves (up to
// MaxBatch). Each caller gets its own answer and error. Run it with Run.
type Batcher struct {
	s        *Store
	maxBatch int
	claims   chan *claimReq
	marks    chan *markReq
	stopped  chan struct{} // closed when Run returns
}

type claimReq struct {
	sub, id string
	lease   time.Duration
	c       Claim
	err     error
	done    chan struct{}
}

type markReq struct {
	c    Claim
	err  error
	done chan struct{}
}

// NewBatcher returns a batcher over s with batches of at most maxBatch.
func NewBatcher(s *Store, maxBatch int) *Batcher {
	if maxBatch < 1 {
		maxBatch = 64
	}
	return &Batcher{s: s, maxBatch: maxBatch, claims: make(chan *claimReq, maxBatch), marks: make(chan *markReq, maxBatch),
		stopped: make(chan struct{})}
}

// Run sends the batches until ctx ends; requests waiting then fail.
func (b *Batcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); loop(ctx, b.claims, b.maxBatch, b.claimBatch, failClaim) }()
	go func() { defer wg.Done(); loop(ctx, b.marks, b.maxBatch, b.markBatch, failMark) }()
	wg.Wait()
	close(b.stopped)
}

// loop takes one request, then whatever else is queued (up to max), and
// runs them as one batch.
func loop[T any](ctx context.Context, ch chan T, max int, run func(context.Context, []T), fail func(T, error)) {
	for {
		var batch []T
		select {
		case <-ctx.Done():
			for {
				select {
				case r := <-ch:
					fail(r, ctx.Err())
				default:
					return
				}
			}
		case r := <-ch:
			batch = append(batch, r)
		}
	more:
		for len(batch) < max {
			select {
			case r := <-ch:
				batch = append(batch, r)
			default:
				break more
			}
		}
		run(context.WithoutCancel(ctx), batch)
	}
}

func failClaim(r *claimReq, err error) { r.err = fmt.Errorf("dedup: claim: %w", err); close(r.done) }
func failMark(r *markReq, err error) {
	r.err = fmt.Errorf("dedup: mark delivered: %w", err)
	close(r.done)
}

func (b *Batcher) claimBatch(ctx context.Context, reqs []*claimReq) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	keys := make([]string, 0, len(reqs))
	args := make([][]any, 0, len(reqs))
	live := reqs[:0:0]
	for _, r := range reqs {
		c, err := b.s.newClaim(r.sub, r.id)
		if err != nil {
			r.err = err
			close(r.done)
			continue
		}
		ms := b.s.leaseMS
		if r.lease > 0 {
			ms = max(r.lease.Milliseconds(), 1)
		}
		r.c = c
		keys, args, live = append(keys, c.key), append(args, []any{c.token, ms}), append(live, r)
	}
	if len(live) == 0 {
		return
	}
	for i, cmd := range rscript.RunMany(ctx, b.s.rdb, claimScript, keys, args) {
		r := live[i]
		res, err := cmd.Int64Slice()
		if err == nil {
			r.c, err = r.c.answer(res)
		}
		if err != nil {
			r.c, r.err = Claim{}, fmt.Errorf("dedup: claim: %w", err)
		}
		close(r.done)
	}
}

func (b *Batcher) markBatch(ctx context.Context, reqs []*markReq) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p := b.s.rdb.Pipeline()
	var live []*markReq
	for _, r := range reqs {
		switch {
		case r.c.key == "":
			r.err = ErrNotClaimed
			close(r.done)
		case r.c.Status == Delivered:
			close(r.done)
		default:
			p.Set(ctx, r.c.key, deliveredValue, b.s.cfg.Window)
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	cmds, _ := p.Exec(ctx)
	for i, r := range live {
		if i >= len(cmds) {
			r.err = fmt.Errorf("dedup: mark delivered: no answer")
		} else if err := cmds[i].Err(); err != nil {
			r.err = fmt.Errorf("dedup: mark delivered: %w", err)
		}
		close(r.done)
	}
}

// ClaimFor is Store.ClaimFor through the batch pipeline.
func (b *Batcher) ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (Claim, error) {
	r := &claimReq{sub: subscription, id: id, lease: lease, done: make(chan struct{})}
	select {
	case b.claims <- r:
	case <-ctx.Done():
		return Claim{}, fmt.Errorf("dedup: claim: %w", ctx.Err())
	}
	select {
	case <-r.done:
		return r.c, r.err
	case <-b.stopped:
		return Claim{}, fmt.Errorf("dedup: claim: %w", errStopped)
	}
}

// Delivered is Store.Delivered through the batch pipeline.
func (b *Batcher) Delivered(ctx context.Context, c Claim) error {
	r := &markReq{c: c, done: make(chan struct{})}
	select {
	case b.marks <- r:
	case <-ctx.Done():
		return fmt.Errorf("dedup: mark delivered: %w", ctx.Err())
	}
	select {
	case <-r.done:
		return r.err
	case <-b.stopped:
		return fmt.Errorf("dedup: mark delivered: %w", errStopped)
	}
}

var errStopped = errors.New("dedup: batcher stopped")

// Release is Store.Release (failures are rare: no batching).
func (b *Batcher) Release(ctx context.Context, c Claim) error { return b.s.Release(ctx, c) }
