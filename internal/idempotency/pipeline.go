package idempotency

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// pipeliner runs the Store's scripts of concurrent requests together: the
// first script while no round trip is in flight runs at once, alone
// (nothing waits when idle); the ones that arrive meanwhile leave together,
// as one pipeline (one write and one read on one connection, for Redis as
// for the gateway), when it ends. Each call keeps its own answer and never
// waits past its own deadline: one that expires while queued leaves the
// queue unrun, and a pipeline runs within the earliest deadline of its
// calls, cancelled by none of them. Each script stays one atomic step.
type pipeliner struct {
	rdb  redis.UniversalClient
	max  int
	trip atomic.Int64 // round trips, for the tests

	mu      sync.Mutex
	busy    bool
	pending []*evalCall
}

type evalCall struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
}

// eval runs script like script.Run (EVALSHA, then EVAL if Redis does not
// know it yet), with the concurrent calls' scripts in one round trip.
func (p *pipeliner) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	c := &evalCall{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	p.mu.Lock()
	if !p.busy {
		p.busy = true
		p.mu.Unlock()
		p.run([]*evalCall{c})
		return c.cmd
	}
	p.pending = append(p.pending, c)
	p.mu.Unlock()
	select {
	case <-c.done:
		return c.cmd
	case <-ctx.Done():
	}
	p.mu.Lock()
	removed := false
	for i, q := range p.pending {
		if q == c {
			p.pending = append(p.pending[:i], p.pending[i+1:]...)
			removed = true
			break
		}
	}
	p.mu.Unlock()
	if removed {
		return failed(ctx, ctx.Err())
	}
	<-c.done // taken into a pipeline, which ends by this call's deadline
	return c.cmd
}

func failed(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// run executes batch, answers it, then hands what queued meanwhile to a
// new goroutine (so the caller returns at once) or marks the pipeliner idle.
func (p *pipeliner) run(batch []*evalCall) {
	p.exec(batch)
	p.mu.Lock()
	var next []*evalCall
	n := 0
	for ; n < len(p.pending) && len(next) < max(p.max, 1); n++ {
		c := p.pending[n]
		if err := c.ctx.Err(); err != nil {
			c.cmd = failed(c.ctx, err)
			close(c.done)
			continue
		}
		next = append(next, c)
	}
	p.pending = append([]*evalCall(nil), p.pending[n:]...)
	if len(next) == 0 {
		p.busy = false
	}
	p.mu.Unlock()
	if len(next) > 0 {
		go p.run(next)
	}
}

func (p *pipeliner) exec(batch []*evalCall) {
	p.trip.Add(1)
	if len(batch) == 1 {
		c := batch[0]
		c.cmd = c.script.Run(c.ctx, p.rdb, c.keys, c.args...)
		close(c.done)
		return
	}
	ctx, cancel := earliestDeadline(batch)
	defer cancel()
	pipe := p.rdb.Pipeline()
	for _, c := range batch {
		c.cmd = pipe.EvalSha(ctx, c.script.Hash(), c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command holds its own error
	for _, c := range batch {
		if redis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
			// Redis restarted or flushed its scripts: EVAL loads it.
			c.cmd = c.script.Run(ctx, p.rdb, c.keys, c.args...)
		}
		close(c.done)
	}
}

// earliestDeadline is a context with the earliest deadline of batch,
// cancelled by none of its calls.
func earliestDeadline(batch []*evalCall) (context.Context, context.CancelFunc) {
	var earliest time.Time
	for _, c := range batch {
		if d, ok := c.ctx.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
			earliest = d
		}
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	if earliest.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, earliest)
}
