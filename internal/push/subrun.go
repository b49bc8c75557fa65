package push

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// subRun is one subscription delivered on this replica: its pop tasks
// (one per broker), its concurrency slots, its rate limiter and the count
// of its messages in flight. It owns no goroutine: pollers pop for it and
// each popped message is one delivery goroutine until settled.
type subRun struct {
	e   *Engine
	id  string
	key string
	sub atomic.Pointer[subscription.Subscription]

	ctx    context.Context // ends when the run stops: cancels its pops
	cancel context.CancelFunc
	done   chan struct{} // closed when the run stops
	slots  chan struct{} // one per delivery in progress (Concurrency)

	mu      sync.Mutex
	tasks   []*task
	held    int     // messages popped and not settled
	room    int     // most messages it may hold
	minPop  int     // a pop waits until at least this much room is free
	waiting []*task // tasks parked until it holds fewer
	limiter *rate.Limiter
}

// runKey is what a run is built from: a change restarts the run.
func runKey(s subscription.Subscription) string {
	return fmt.Sprintf("%s|%s|%v|%d", s.Topic, s.TagFilter, s.Ordered, s.Concurrency)
}

func newSubRun(e *Engine, s subscription.Subscription) *subRun {
	ctx, cancel := context.WithCancel(context.Background())
	conc := max(s.Concurrency, 1)
	r := &subRun{e: e, id: s.ID, key: runKey(s), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		slots: make(chan struct{}, conc),
		// Messages waiting for a slot are popped ahead, so that a delivery
		// never waits for a pop, with one batch more for those of an
		// ordered subscription whose endpoint call is over: they count
		// until acked (the ack unlocks their queue). Other messages give
		// their room back once the endpoint answered (deliver).
		room: 2*conc + maxBatch}
	// Pop in batches: waking for every single ack would make a pop per
	// message. An ordered subscription pops one message at a time anyway.
	r.minPop = max(1, min(maxBatch, r.room/3))
	if s.Ordered {
		r.minPop = 1
	}
	r.sub.Store(&s)
	r.setRate(s.RateLimit)
	return r
}

// update swaps in a subscription whose changes need no restart.
func (r *subRun) update(s subscription.Subscription) {
	r.sub.Store(&s)
	r.setRate(s.RateLimit)
}

func (r *subRun) setRate(perSecond float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case perSecond <= 0:
		r.limiter = nil
	case r.limiter == nil:
		r.limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10)))
	case float64(r.limiter.Limit()) != perSecond:
		r.limiter.SetLimit(rate.Limit(perSecond))
		r.limiter.SetBurst(max(1, int(perSecond/10)))
	}
}

func (r *subRun) rateLimiter() *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limiter
}

func (r *subRun) stop() {
	r.cancel()
	close(r.done)
}

// addTasks gives r a task for each broker it has none for and schedules
// them now. Called with e.mu held.
func (r *subRun) addTasks(brokers []pop.Broker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	for _, b := range brokers {
		found := false
		for _, t := range r.tasks {
			found = found || t.broker.Name == b.Name
		}
		if found {
			continue
		}
		t := &task{run: r, broker: b, idx: -1}
		r.tasks = append(r.tasks, t)
		r.e.sched.put(t, time.Now())
	}
}

// maxPopsPerBroker bounds the pops in flight for one subscription on one
// broker: its task and the helpers a backlog adds.
const maxPopsPerBroker = 4

// addHelper gives r one more task for b when b has a backlog for it,
// unless it already has maxPopsPerBroker. It reports whether it did.
func (r *subRun) addHelper(b pop.Broker) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil || r.room-r.held < r.minPop {
		return false
	}
	n := 0
	for _, t := range r.tasks {
		if t.broker.Name == b.Name {
			n++
		}
	}
	if n >= maxPopsPerBroker {
		return false
	}
	t := &task{run: r, broker: b, idx: -1, helper: true}
	r.tasks = append(r.tasks, t)
	r.e.sched.put(t, time.Now())
	return true
}

// retire removes helper t: its broker has no backlog left.
func (r *subRun) retire(t *task) {
	r.mu.Lock()
	for i, x := range r.tasks {
		if x == t {
			r.tasks = append(r.tasks[:i:i], r.tasks[i+1:]...)
			break
		}
	}
	r.mu.Unlock()
	r.e.sched.kill(t)
}

func (r *subRun) taskCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tasks)
}

func (r *subRun) takeTasks() []*task {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.tasks
	r.tasks, r.waiting = nil, nil
	return ts
}

// reserve returns how many more messages r may hold (up to n); with none,
// t waits (parked) until r releases one.
func (r *subRun) reserve(t *task, n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := min(n, r.room-r.held)
	if k < min(n, r.minPop) {
		r.waiting = append(r.waiting, t)
		return 0
	}
	r.held += k
	return k
}

// force counts n more messages held, over its room if need be.
func (r *subRun) force(n int) {
	r.mu.Lock()
	r.held += n
	r.mu.Unlock()
}

// release gives back n messages of r's room and wakes r's tasks: a
// parked task may pop again, a task waiting for its next idle pop pops
// now (an orderly queue is unlocked by the ack just made).
func (r *subRun) release(n int) {
	r.mu.Lock()
	r.held -= n
	if r.room-r.held < r.minPop {
		r.mu.Unlock()
		return
	}
	ts := append([]*task(nil), r.tasks...)
	r.waiting = nil
	r.mu.Unlock()
	for _, t := range ts {
		r.e.sched.expedite(t)
	}
}
