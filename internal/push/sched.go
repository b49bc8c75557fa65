package push

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// task is one subscription's pops from one broker. It is in the
// scheduler's heap while it waits for its due time, running (out of it)
// while a poller has it, and parked (out of the heap) while its
// subscription or the global budget has no room; a release puts it back.
// Only the poller running a task puts it back or parks it, so a task is
// never run by two pollers at once; a wake-up meant for a running task is
// remembered (rewake) and applied when its poller is done with it.
type task struct {
	run     *subRun
	broker  pop.Broker
	due     time.Time
	idx     int           // index in the heap; -1 when not in it
	idle    time.Duration // current wait between empty pops
	errs    time.Duration // current wait after failed pops
	parked  bool
	running bool // a poller has it
	rewake  bool // woken while running: due at once when its poller is done
	dead    bool // its subscription stopped: never scheduled again
	// helper marks a task added while the broker has a backlog for the
	// subscription, so that more than one pop is in flight; it retires
	// at its first pop that finds nothing.
	helper bool
}

// taskHeap orders tasks by due time.
type taskHeap []*task

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h taskHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *taskHeap) Push(x any) {
	t := x.(*task)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}

// scheduler hands due tasks to a fixed set of pollers.
type scheduler struct {
	mu   sync.Mutex
	h    taskHeap
	wake chan struct{} // a task became due earlier than the pollers know
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

// put schedules t at due (again), or at once when it was woken while its
// poller ran it. A dead task is dropped.
func (s *scheduler) put(t *task, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.running = false
	if t.rewake {
		t.rewake = false
		due = time.Now()
	}
	s.putLocked(t, due)
}

func (s *scheduler) putLocked(t *task, due time.Time) {
	if t.dead {
		return
	}
	t.parked = false
	t.due = due
	if t.idx >= 0 {
		heap.Fix(&s.h, t.idx)
	} else {
		heap.Push(&s.h, t)
	}
	if t.idx == 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// park is called by the poller running t when there is no room for a
// pop: t waits out of the schedule until unpark or expedite, unless one
// of them came while it ran (then it is scheduled now).
func (s *scheduler) park(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.running = false
	if t.rewake {
		t.rewake = false
		s.putLocked(t, time.Now())
		return
	}
	t.parked = true
}

// unpark schedules a parked t now; a running t is scheduled now when its
// poller is done with it; a task waiting in the heap is left alone.
func (s *scheduler) unpark(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case t.dead:
	case t.running:
		t.rewake = true
	case t.parked:
		s.putLocked(t, time.Now())
	}
}

// kill removes t for good.
func (s *scheduler) kill(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.dead = true
	if t.idx >= 0 {
		heap.Remove(&s.h, t.idx)
	}
}

// len is the number of tasks scheduled (not running, not parked).
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

// take waits for the earliest due task and returns it with how long its
// pop may long-poll: up to maxPoll, but no longer than until the next
// task is due, so that a long poll never makes another task late. It
// returns nil when ctx ends.
func (s *scheduler) take(ctx context.Context, maxPoll time.Duration) (*task, time.Duration) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			// Stopping: a task due now is not handed out either.
			return nil, 0
		}
		s.mu.Lock()
		var wait time.Duration = time.Hour
		if len(s.h) > 0 {
			now := time.Now()
			if t := s.h[0]; !t.due.After(now) {
				heap.Pop(&s.h)
				t.running, t.rewake = true, false
				poll := maxPoll
				if len(s.h) > 0 {
					poll = min(poll, s.h[0].due.Sub(now))
					if poll <= 0 {
						// The next is due too: wake another poller for it.
						select {
						case s.wake <- struct{}{}:
						default:
						}
					}
				}
				s.mu.Unlock()
				if poll < 200*time.Millisecond {
					poll = 0
				}
				return t, poll
			}
			wait = s.h[0].due.Sub(now)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil, 0
		case <-s.wake:
			// Another poller may also be waiting: pass the news on.
		case <-timer.C:
		}
	}
}

// expedite makes t due now: a parked task is scheduled again, a task
// waiting in the heap for later moves to the front, a running task is due
// again as soon as its poller is done with it.
func (s *scheduler) expedite(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch {
	case t.dead:
	case t.running:
		t.rewake = true
	case t.parked || (t.idx >= 0 && t.due.After(now)):
		s.putLocked(t, now)
	}
}
