package rscript

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config tunes a Batcher. Zero fields take the defaults.
type Config struct {
	// MaxBatch is the most callers sharing one pipeline; default 64.
	MaxBatch int
	// MaxInFlight is how many pipelines may be in flight at once; default 1.
	MaxInFlight int
	// Timeout bounds one pipeline whose callers have no earlier deadline;
	// default 5 s.
	Timeout time.Duration
	// Observe, when set, gets the number of callers of each pipeline.
	Observe func(callers int)
	// Yield makes a caller that finds a pipeline slot free yield the
	// processor once before sending, so that callers already runnable
	// join its pipeline (see Do).
	Yield bool
}

func (c Config) withDefaults() Config {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 64
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

// Batcher sends the Redis commands of concurrent callers together. While
// fewer than MaxInFlight pipelines are in flight a caller's commands leave
// at once, alone (nothing waits when idle); the ones that arrive meanwhile
// queue and leave together, as one pipeline (one write and one read per
// connection, for Redis as for the gateway), when one ends. At 16 or 64
// requests in flight this turns one round trip per script into one per
// batch of them.
//
// With Yield, a caller that finds a slot free first yields the processor
// once: callers already runnable (woken together, as the members of one
// broker batch are by its answer) then queue behind it and share its
// pipeline, instead of the first going alone and the rest after it.
//
// Each caller reads its own commands' results and never waits past its
// own deadline: a call whose context ends while queued leaves the queue
// unrun, and a pipeline runs within the earliest deadline of its callers
// (and Timeout), cancelled by none of them. Each script stays one atomic
// step. It works on any redis.UniversalClient: on Redis Cluster the
// client splits each pipeline by node. It is safe for concurrent use.
type Batcher struct {
	rdb   redis.UniversalClient
	cfg   Config
	trips atomic.Int64

	mu       sync.Mutex
	inFlight int
	queue    []*batchCall
}

type batchCall struct {
	ctx  context.Context
	fill func(Pipe)
	err  error // set when the call left the queue unrun
	done chan struct{}
}

// NewBatcher returns a Batcher on rdb.
func NewBatcher(rdb redis.UniversalClient, cfg Config) *Batcher {
	return &Batcher{rdb: rdb, cfg: cfg.withDefaults()}
}

// RoundTrips reports how many pipelines the batcher sent (retries after
// NOSCRIPT not counted).
func (b *Batcher) RoundTrips() int64 { return b.trips.Load() }

// Do queues fill's commands in the next pipeline and returns once it ran:
// the commands then hold their results and errors. It returns an error
// only when ctx ended before the commands were sent (none of them ran).
// fill runs once, maybe on another goroutine, and must only queue
// commands on the Pipe.
func (b *Batcher) Do(ctx context.Context, fill func(Pipe)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.inFlight < b.cfg.MaxInFlight {
		b.inFlight++
		if b.cfg.Yield {
			// Requests woken together (the members of one broker batch,
			// a burst of HTTP requests) reach here one after another:
			// those already runnable queue behind this call and share
			// its pipeline. Nothing runnable: Gosched returns at once.
			b.mu.Unlock()
			runtime.Gosched()
			b.mu.Lock()
		}
		if len(b.queue) > 0 {
			c := &batchCall{ctx: ctx, fill: fill, done: make(chan struct{})}
			batch := append([]*batchCall{c}, b.take()...)
			b.mu.Unlock()
			b.run(batch)
		} else {
			b.mu.Unlock()
			b.runAlone(ctx, fill)
		}
		if next := b.next(); len(next) > 0 {
			go b.drain(next)
		}
		return nil
	}
	c := &batchCall{ctx: ctx, fill: fill, done: make(chan struct{})}
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			b.mu.Unlock()
			return ctx.Err()
		}
	}
	b.mu.Unlock()
	<-c.done // taken into a pipeline, which ends by this call's deadline
	return c.err
}

// Eval runs script in the next pipeline, like script.Run (EVALSHA, then
// EVAL on NOSCRIPT). The command's error is ctx's when ctx ended first.
func (b *Batcher) Eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	var cmd *redis.Cmd
	if err := b.Do(ctx, func(p Pipe) { cmd = p.Eval(script, keys, args...) }); err != nil {
		cmd = redis.NewCmd(ctx)
		cmd.SetErr(err)
	}
	return cmd
}

// Writer runs a script whose write must reach Redis's replicas before it
// counts (durable.Writer); Waits reports whether it waits at all.
type Writer interface {
	Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd
	Waits() bool
}

// Write runs a script that backs an answer to a client: through w when w
// waits for replicas (each script then carries its own WAIT on its own
// connection, which a shared pipeline cannot give), else like Eval. w may
// be nil.
func (b *Batcher) Write(ctx context.Context, w Writer, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if w != nil && w.Waits() {
		return w.Run(ctx, script, keys, args...)
	}
	return b.Eval(ctx, script, keys, args...)
}

// runAlone runs one caller's commands, found the batcher idle, on the
// caller's goroutine, within the caller's deadline (and Timeout),
// cancelled by none of it. What queued meanwhile then goes to a goroutine
// (so the caller returns at once).
func (b *Batcher) runAlone(ctx context.Context, fill func(Pipe)) {
	b.trips.Add(1)
	deadline := time.Now().Add(b.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	pctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	execute(pctx, b.rdb, fill)
	cancel()
	if b.cfg.Observe != nil {
		b.cfg.Observe(1)
	}
}

// drain runs batches until the queue is empty.
func (b *Batcher) drain(batch []*batchCall) {
	for len(batch) > 0 {
		b.run(batch)
		batch = b.next()
	}
}

// next takes the next batch from the queue, or frees the slot of the
// pipeline that just ended when nothing is queued.
func (b *Batcher) next() []*batchCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	batch := b.take()
	if len(batch) == 0 {
		b.inFlight--
	}
	return batch
}

// take removes the next batch from the queue, answering the calls whose
// context ended meanwhile. b.mu is held.
func (b *Batcher) take() []*batchCall {
	var next []*batchCall
	n := 0
	for ; n < len(b.queue) && len(next) < b.cfg.MaxBatch; n++ {
		c := b.queue[n]
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		next = append(next, c)
	}
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return next
}

// run executes batch as one pipeline within the earliest deadline of its
// callers and answers them.
func (b *Batcher) run(batch []*batchCall) {
	b.trips.Add(1)
	ctx, cancel := b.pipelineContext(batch)
	execute(ctx, b.rdb, func(p Pipe) {
		for _, c := range batch {
			c.fill(p)
		}
	})
	cancel()
	if b.cfg.Observe != nil {
		b.cfg.Observe(len(batch))
	}
	for _, c := range batch {
		close(c.done)
	}
}

// pipelineContext is a context with the earliest deadline of batch (and
// Timeout), cancelled by none of its calls.
func (b *Batcher) pipelineContext(batch []*batchCall) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(b.cfg.Timeout)
	for _, c := range batch {
		if d, ok := c.ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), deadline)
}
