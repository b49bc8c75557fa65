package txcallback

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// sharedPipeline sends the Redis commands of concurrent callers together:
// while maxInFlight pipelines are in flight, the commands that arrive
// queue and leave together in the next one, each caller reading its own
// commands' results. Nothing waits when nothing else is in flight. At 16
// or 64 transactions in flight this turns one Redis round trip (two system
// calls on each side) per state change into one per batch of them.
type sharedPipeline struct {
	rdb         redis.UniversalClient
	maxInFlight int
	maxBatch    int
	// observe, when set, gets the number of callers of each pipeline.
	observe func(callers int)

	mu       sync.Mutex
	inFlight int
	queue    []*pipeCall
}

type pipeCall struct {
	fill func(redis.Pipeliner)
	done chan struct{}
}

// pipelineTimeout bounds one shared pipeline (a caller that stops waiting
// earlier gets its context's error; its commands may still run).
const pipelineTimeout = 5 * time.Second

// run adds fill's commands to the next pipeline and returns once it was
// executed (the commands then hold their results and errors), or when ctx
// ends first.
func (p *sharedPipeline) run(ctx context.Context, fill func(redis.Pipeliner)) error {
	c := &pipeCall{fill: fill, done: make(chan struct{})}
	p.mu.Lock()
	if p.inFlight >= p.maxInFlight {
		p.queue = append(p.queue, c)
		p.mu.Unlock()
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.inFlight++
	p.mu.Unlock()
	p.flush([]*pipeCall{c})
	return nil
}

// flush executes batch, answers its callers, then hands what queued
// meanwhile to a new goroutine (so the caller returns at once) or frees
// its slot.
func (p *sharedPipeline) flush(batch []*pipeCall) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	// Each command carries its own error; the first one, returned here,
	// is every caller's to read on its own commands.
	_, _ = p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, c := range batch {
			c.fill(pipe)
		}
		return nil
	})
	cancel()
	if p.observe != nil {
		p.observe(len(batch))
	}
	for _, c := range batch {
		close(c.done)
	}
	p.mu.Lock()
	if len(p.queue) == 0 {
		p.inFlight--
		p.mu.Unlock()
		return
	}
	n := min(len(p.queue), p.maxBatch)
	next := p.queue[:n:n]
	p.queue = append([]*pipeCall(nil), p.queue[n:]...)
	p.mu.Unlock()
	go p.flush(next)
}

// eval runs script in the shared pipeline, and in a round trip of its own
// when Redis has lost its script cache (NOSCRIPT).
func (p *sharedPipeline) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	var cmd *redis.Cmd // written by the pipeline's goroutine: read only after run returned nil
	if err := p.run(ctx, func(pipe redis.Pipeliner) { cmd = script.EvalSha(ctx, pipe, keys, args...) }); err != nil {
		failed := redis.NewCmd(ctx)
		failed.SetErr(err)
		return failed
	}
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		return script.Run(ctx, p.rdb, keys, args...)
	}
	return cmd
}
