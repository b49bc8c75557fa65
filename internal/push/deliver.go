package push

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// maxBatch is the most messages one POP asks for (the broker's limit).
const maxBatch = 32

// poll is one poller: it takes due tasks and pops for them until ctx ends.
func (e *Engine) poll(ctx context.Context) {
	for {
		t, pollTime := e.sched.take(ctx, e.cfg.PollTime)
		if t == nil {
			return
		}
		e.runTask(t, pollTime)
	}
}

// runTask makes one pop for t within its subscription's room and the
// global budget, starts a delivery per message and schedules t again: at
// once after messages, later (backing off up to IdlePoll) after an empty
// pop, later still after an error.
func (e *Engine) runTask(t *task, pollTime time.Duration) {
	r := t.run
	if r.ctx.Err() != nil {
		return
	}
	s := *r.sub.Load()
	want := maxBatch
	if s.Ordered {
		// One message per pop: the broker counts attempts per popped
		// batch, so a bigger batch would count attempts of messages that
		// wait behind a failing one. Other queues are popped meanwhile.
		want = 1
		// A long poll on a locked queue would wait for nothing: the ack
		// that unlocks it expedites the task instead.
		pollTime = 0
	}
	n := r.reserve(t, want)
	if n == 0 {
		e.sched.park(t) // r's release expedites t
		return
	}
	k := e.budget.reserve(n, func() { e.sched.unpark(t) })
	if k < n {
		r.release(n - k)
	}
	if k == 0 {
		e.sched.park(t) // the budget's release unparks t
		return
	}
	res, err := e.src.Pop(r.ctx, t.broker, pop.Request{
		Group: s.Group(), Topic: s.Topic, MaxMessages: k, InvisibleTime: e.invisibleTime(s), PollTime: pollTime,
		// A new group starts at the queues' first message; deliver skips
		// what was stored before the subscription was created.
		InitMode: pop.FromMin, Filter: s.TagFilter, Orderly: s.Ordered,
	})
	switch {
	case err != nil:
		e.metrics.Pops.WithLabelValues("error").Inc()
	case len(res.Messages) == 0:
		e.metrics.Pops.WithLabelValues("empty").Inc()
	default:
		e.metrics.Pops.WithLabelValues("messages").Inc()
		e.metrics.Popped.Add(float64(len(res.Messages)))
	}
	if unused := k - len(res.Messages); unused > 0 {
		e.budget.release(unused, 0)
		r.release(unused)
	}
	if t.helper && (err != nil || len(res.Messages) == 0) {
		r.retire(t) // the backlog is over (or the broker fails: the task backs off alone)
		return
	}
	if err != nil {
		if r.ctx.Err() != nil {
			return
		}
		e.popFailed(r, t, s, err)
		return
	}
	t.errs = 0
	if extra := len(res.Messages) - k; extra > 0 {
		// More than asked for: count them all, the budget is a bound on
		// what is held, not on what was asked.
		e.log.Warn("delivery: broker returned more messages than asked", slog.Int("asked", k), slog.Int("got", len(res.Messages)))
		e.budget.force(extra)
		r.force(extra)
	}
	for _, m := range res.Messages {
		size := int64(len(m.Body))
		e.budget.weigh(size)
		e.deliveries.Add(1)
		e.workers.start(delivery{r: r, m: m, size: size})
	}
	if !s.Ordered && len(res.Messages) == k && res.Rest > 0 {
		// A backlog: one more pop in flight for it (up to
		// maxPopsPerBroker), so that the broker's answer time does not
		// bound the subscription's rate.
		r.addHelper(t.broker)
	}
	switch {
	case len(res.Messages) > 0 || pollTime >= e.cfg.IdlePoll:
		t.idle = 0
		e.sched.put(t, time.Now())
	default:
		t.idle = min(max(2*t.idle, 50*time.Millisecond), e.cfg.IdlePoll)
		e.sched.put(t, time.Now().Add(t.idle))
	}
}

// popFailed schedules t again after a failed pop, with a backoff from
// 500 ms to 10 s; a group the broker does not know is created first.
func (e *Engine) popFailed(r *subRun, t *task, s subscription.Subscription, err error) {
	if errors.Is(err, pop.ErrGroupNotFound) {
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		gerr := e.src.EnsureGroup(ctx, s.Group(), []pop.Broker{t.broker})
		cancel()
		if gerr == nil {
			e.sched.put(t, time.Now())
			return
		}
		err = errors.Join(err, gerr)
	}
	t.errs = min(max(2*t.errs, 500*time.Millisecond), 10*time.Second)
	if !errors.Is(err, pop.ErrPollingFull) {
		e.log.Warn("delivery: pop", slog.String("subscription", s.ID), slog.String("broker", t.broker.Name),
			slog.Duration("retryIn", t.errs), slog.Any("error", err))
	}
	if t.errs >= 2*time.Second {
		// The broker may have moved: look its address up again.
		if bs := e.brokersOf(r.ctx, s.Topic, true); len(bs) > 0 {
			for _, b := range bs {
				if b.Name == t.broker.Name {
					t.broker = b
				}
			}
		}
	}
	e.sched.put(t, time.Now().Add(t.errs))
}

// invisibleTime is how long s's popped messages stay hidden: the
// configured time, and at least the endpoint's timeout plus 3 s.
func (e *Engine) invisibleTime(s subscription.Subscription) time.Duration {
	return max(e.cfg.InvisibleTime, s.Timeout+3*time.Second)
}

// deliver takes one popped message to its end: acknowledged after a 2xx
// (or a suppressed duplicate, or the dead-letter copy stored), hidden for
// the retry delay after a failure, or left to come back after its
// invisible time when the subscription stops first. A panic leaves it
// unacknowledged too.
func (e *Engine) deliver(r *subRun, m pop.Message, size int64) {
	s := *r.sub.Load()
	h := &heldMsg{handle: m.Handle, group: s.Group(), topic: s.Topic, invisible: e.invisibleTime(s)}
	e.held.add(h)
	roomHeld := true
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("delivery: panic", slog.String("subscription", r.id), slog.Any("panic", p))
		}
		e.held.remove(h)
		e.budget.release(1, size)
		if roomHeld {
			r.release(1)
		}
		e.deliveries.Done()
	}()
	if stale(s, m) {
		e.settle(r, s, h, m, Decision{Ack: true})
		return
	}
	select {
	case r.slots <- struct{}{}:
	case <-r.done:
		return
	}
	// The slot bounds the endpoint calls in progress (with their dedup
	// claims): it is freed once the endpoint answered, so that the next
	// attempt does not wait for this one's dedup mark and ack. So is the
	// room of an unordered subscription: what is left (the dedup mark, one
	// ack or hide, each batched) must not hold the next pop back; the
	// global budget still counts the message until it is settled. An
	// orderly queue is unlocked only by the ack itself: its room waits
	// for it.
	slot := true
	freeSlot := func() {
		if slot {
			slot = false
			<-r.slots
		}
		if roomHeld && !s.Ordered {
			roomHeld = false
			r.release(1)
		}
	}
	defer freeSlot()
	if l := r.rateLimiter(); l != nil {
		if err := l.Wait(r.ctx); err != nil {
			return
		}
	}
	s = *r.sub.Load()
	res := e.handle(e.deliverCtx, &Delivery{Sub: s, Msg: m.MessageExt, Stop: r.done, Posted: freeSlot})
	freeSlot()
	if res.Err != nil {
		return // stopping: nothing was sent
	}
	attempt := int(m.ReconsumeTimes) + 1
	d := Decide(s, ScheduleOf(s, e.cfg.RetryAfterMax), attempt, res)
	if d.Pause {
		if e.pause(e.deliverCtx, s, "endpoint answered 410 Gone") {
			return // it comes back after its invisible time, delivered after the resume
		}
		delay, _ := ScheduleOf(s, e.cfg.RetryAfterMax).Next(attempt, 0)
		d = Decision{Delay: max(delay, MinRetryDelay)}
	}
	e.settle(r, s, h, m, d)
}

// stale reports whether m was stored before s was created (a second
// earlier, for clock skew): a new group starts at the queues' first
// message, and a subscription gets only what comes after it. Messages
// that come back (retries, redrives) are never stale.
func stale(s subscription.Subscription, m pop.Message) bool {
	return m.ReconsumeTimes == 0 && m.Handle.Kind == pop.TopicNormal && m.StoreTimestamp > 0 &&
		time.UnixMilli(m.StoreTimestamp).Before(s.CreatedAt.Add(-time.Second))
}

// settle applies d to the broker.
func (e *Engine) settle(r *subRun, s subscription.Subscription, h *heldMsg, m pop.Message, d Decision) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.deliverCtx), 30*time.Second)
	defer cancel()
	// Built only when something is logged: With costs allocations on
	// every message otherwise.
	log := func() *slog.Logger {
		return e.log.With(slog.String("subscription", s.ID), slog.String("messageId", MessageID(m.MessageExt)))
	}
	if d.DeadLetter {
		e.metrics.DeadLetters.WithLabelValues(s.ID).Inc()
		if err := e.dls.Store(ctx, s, m.MessageExt); err != nil {
			// Not acknowledged: it comes back and is dead-lettered again.
			log().Error("delivery: store dead letter; the message is kept", slog.Any("error", err))
			d = Decision{Delay: 5 * time.Second}
		} else {
			d = Decision{Ack: true}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	if d.Ack {
		var err error
		for i := 0; i < 3; i++ {
			if h.handle.Orderly() {
				// Alone: an orderly ack's answer says whether the broker
				// took it (a batch's does not), and it unlocks the queue.
				err = e.settler.Ack(ctx, h.group, h.topic, h.handle)
			} else {
				err = e.acks.ack(ctx, pop.AckRequest{Group: h.group, Topic: h.topic, Handle: h.handle})
			}
			if err == nil {
				return
			}
		}
		// It comes back after its invisible time; dedup suppresses it.
		log().Warn("delivery: ack", slog.Any("error", err))
		return
	}
	if _, err := e.settler.ChangeInvisibleTime(ctx, h.group, h.topic, h.handle, d.Delay); err != nil {
		// It comes back after its current invisible time instead.
		log().Warn("delivery: hide for retry", slog.Duration("delay", d.Delay), slog.Any("error", err))
	}
}

// heldMsg is a popped message being delivered: its current receipt
// handle, renewed (under mu) while the delivery outlasts it.
type heldMsg struct {
	mu        sync.Mutex
	handle    pop.Handle
	group     string
	topic     string
	invisible time.Duration
	done      bool // settled: renew no more
}

// heldSet is every message being delivered.
type heldSet struct {
	mu sync.Mutex
	m  map[*heldMsg]struct{}
}

func (hs *heldSet) add(h *heldMsg) {
	hs.mu.Lock()
	hs.m[h] = struct{}{}
	hs.mu.Unlock()
}

func (hs *heldSet) remove(h *heldMsg) {
	hs.mu.Lock()
	delete(hs.m, h)
	hs.mu.Unlock()
}

// renew extends the invisible time of every message whose delivery is
// still going when less than a third of its invisible time is left, so
// that no other replica gets it meanwhile.
func (e *Engine) renew(ctx context.Context) {
	e.held.mu.Lock()
	var due []*heldMsg
	now := time.Now()
	for h := range e.held.m {
		h.mu.Lock()
		if !h.done && h.handle.VisibleAt().Sub(now) < h.handle.InvisibleTime/3 {
			due = append(due, h)
		}
		h.mu.Unlock()
	}
	e.held.mu.Unlock()
	for _, h := range due {
		h.mu.Lock()
		if !h.done {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			nh, err := e.settler.ChangeInvisibleTime(rctx, h.group, h.topic, h.handle, h.invisible)
			cancel()
			if err == nil {
				h.handle = nh
			} else {
				e.log.Warn("delivery: renew invisible time", slog.String("group", h.group), slog.Any("error", err))
			}
		}
		h.mu.Unlock()
	}
}
