package push

import (
	"context"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// maxAckBatch bounds the acks of one BATCH_ACK_MESSAGE request.
const maxAckBatch = 256

// ackLinger is how long an ack that queued behind a request in flight
// waits for more before its batch leaves. The broker writes one revive
// record per popped batch (check point) per request, so fewer, larger
// requests mean fewer records for it to write and revive: on the bench
// (one subscription, dedup on) requests went from ~10 acks to 30–80. No
// endpoint or client waits for an ack's answer; a lingering ack only
// holds its budget a little longer.
const ackLinger = 5 * time.Millisecond

// acker coalesces the acknowledgements of concurrent deliveries into one
// request per broker, as a database's group commit does: an ack whose
// broker has no request in flight is sent at once (alone, as a plain
// ACK_MESSAGE, when nothing else waits); acks that arrive meanwhile
// queue, and when the request in flight is answered the first of them
// sends them all in one BATCH_ACK_MESSAGE, after lingering (ackLinger)
// for more. At low load an ack leaves at once, alone; under load one
// broker request carries many. It has no goroutine of its own: the
// callers take turns sending. Each caller
// returns only once its own ack was answered, with that answer's error,
// so an ack still follows the endpoint's 2xx and nothing is
// acknowledged that the caller does not know about.
type acker struct {
	settler Settler
	max     int
	// linger is how long a caller that got the turn waits for more acks
	// (only under load: an ack with nothing in flight leaves at once).
	linger time.Duration
	sleep  func(time.Duration) // time.Sleep; tests replace it
	// sent, when set, is told the size of each request sent (a metric).
	sent func(acks int)

	mu     sync.Mutex
	queues map[string]*ackQueue // broker name → acks waiting for it
}

// ackQueue is one broker's waiting acks; busy while a request is in flight.
type ackQueue struct {
	busy    bool
	pending []*ackWait
}

// ackWait is one caller's ack; done receives its outcome, or the turn to
// send the queue.
type ackWait struct {
	req  pop.AckRequest
	done chan ackTurn
}

type ackTurn struct {
	err  error
	lead bool // send the queue now (the caller's ack is in it)
}

func newAcker(s Settler, max int) *acker {
	return &acker{settler: s, max: max, linger: ackLinger, sleep: time.Sleep, queues: map[string]*ackQueue{}}
}

// ack acknowledges req's message, batched with whatever else waits for
// the same broker. It returns the error of the request that carried it.
// It does not give up when ctx ends while another caller's request is in
// flight (that request has its own deadline): leaving would lose the turn
// handed to it.
func (a *acker) ack(ctx context.Context, req pop.AckRequest) error {
	name := req.Handle.BrokerName
	w := &ackWait{req: req, done: make(chan ackTurn, 1)}
	a.mu.Lock()
	q := a.queues[name]
	if q == nil {
		q = &ackQueue{}
		a.queues[name] = q
	}
	q.pending = append(q.pending, w)
	if q.busy {
		a.mu.Unlock()
		t := <-w.done
		if !t.lead {
			return t.err
		}
		if a.linger > 0 {
			// Under load: let more acks join this batch (q stays busy,
			// so they queue) unless it is full already.
			a.mu.Lock()
			full := len(q.pending) >= a.max
			a.mu.Unlock()
			if !full {
				a.sleep(a.linger)
			}
		}
		a.mu.Lock()
	}
	q.busy = true
	n := min(len(q.pending), a.max)
	batch := append([]*ackWait(nil), q.pending[:n]...)
	q.pending = append(q.pending[:0:0], q.pending[n:]...)
	a.mu.Unlock()

	if a.sent != nil {
		a.sent(len(batch))
	}
	var err error
	if len(batch) == 1 {
		err = a.settler.Ack(ctx, req.Group, req.Topic, req.Handle)
	} else {
		reqs := make([]pop.AckRequest, len(batch))
		for i, b := range batch {
			reqs[i] = b.req
		}
		err = a.settler.AckBatch(ctx, name, reqs)
	}
	var mine error
	for _, b := range batch {
		if b == w {
			mine = err
			continue
		}
		b.done <- ackTurn{err: err}
	}

	a.mu.Lock()
	if len(q.pending) > 0 {
		q.pending[0].done <- ackTurn{lead: true}
	} else {
		q.busy = false
		delete(a.queues, name)
	}
	a.mu.Unlock()
	return mine
}
