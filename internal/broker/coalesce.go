package broker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/brokertext"
)

// sendFunc sends msgs (one topic) as one broker request and reports SEND_OK
// (nil error) or why not; Producer.send is the real one.
type sendFunc func(ctx context.Context, topic string, msgs ...*primitive.Message) (*primitive.SendResult, error)

// Coalescer lets concurrent sends to one topic share broker requests: the
// first send to an idle topic leaves at once, alone (nothing waits when
// there is no queue); while its request is in flight, the next ones queue
// and leave together when it ends, at most max messages and maxBytes of
// bodies and properties per request. Each member keeps its own id, receipt
// and outcome:
//   - a member never waits past its own deadline: one that expires while
//     queued leaves the queue unsent (ErrUnconfirmed wrapping the context's
//     error: nothing was sent, a retry is safe), and a request runs within
//     the earliest deadline of its members, so no member's answer comes
//     after its deadline and no member's time is spent by another's
//     (the request is cancelled by none of them);
//   - a broker refusal that one member may have caused (memberFault) is
//     never the others' outcome: each member is sent again on its own.
//
// It is safe for concurrent use; the transaction producer may reuse it with
// its own sendFunc.
type Coalescer struct {
	send     sendFunc
	max      int
	maxBytes int
	queues   sync.Map // topic → *sendQueue
}

// newCoalescer returns a Coalescer over send. max < 1 counts as 1;
// maxBytes <= 0 is no byte cap beyond max.
func newCoalescer(send sendFunc, max, maxBytes int) *Coalescer {
	return &Coalescer{send: send, max: max, maxBytes: maxBytes}
}

// sendQueue holds the sends to one topic that wait while a broker request
// for that topic is in flight.
type sendQueue struct {
	mu      sync.Mutex
	busy    bool
	pending []*queuedSend
}

type queuedSend struct {
	ctx  context.Context
	id   string
	msg  *primitive.Message
	size int // body and encoded properties, for the byte cap
	done chan struct{}
	rc   Receipt
	err  error
}

// memberOverhead estimates a batch member's encoded size beyond its body
// and properties.
const memberOverhead = 256

// Send sends msg (whose UNIQ_KEY is id) alone if no request to its topic is
// in flight, or else queues it for the next request; either way it returns
// msg's own outcome, by ctx's deadline.
func (c *Coalescer) Send(ctx context.Context, id string, msg *primitive.Message) (Receipt, error) {
	v, _ := c.queues.LoadOrStore(msg.Topic, &sendQueue{})
	q := v.(*sendQueue)
	s := &queuedSend{ctx: ctx, id: id, msg: msg, done: make(chan struct{}),
		size: len(msg.Body) + brokertext.EncodedSize(msg.GetProperties())}
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		c.sendQueued(q, []*queuedSend{s})
		return s.rc, s.err
	}
	q.pending = append(q.pending, s)
	q.mu.Unlock()
	select {
	case <-s.done:
		return s.rc, s.err
	case <-ctx.Done():
	}
	// Out of time: leave the queue if still in it. A member already taken
	// into a request waits for it: the request ends by this member's
	// deadline, which bounds it.
	q.mu.Lock()
	removed := q.remove(s)
	q.mu.Unlock()
	if removed {
		return Receipt{}, notSent(msg.Topic, ctx.Err())
	}
	<-s.done
	return s.rc, s.err
}

func notSent(topic string, cause error) error {
	return fmt.Errorf("%w: send to %s: its deadline passed while queued, nothing was sent: %w", ErrUnconfirmed, topic, cause)
}

// remove takes s out of the queue; false if a request took it already.
func (q *sendQueue) remove(s *queuedSend) bool {
	for i, p := range q.pending {
		if p == s {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			return true
		}
	}
	return false
}

// sendQueued sends batch, answers its members, then hands what queued
// meanwhile to a new goroutine (so the caller returns at once) or marks the
// topic idle.
func (c *Coalescer) sendQueued(q *sendQueue, batch []*queuedSend) {
	c.sendOne(batch)
	q.mu.Lock()
	next := c.takeBatch(q)
	if len(next) == 0 {
		q.busy = false
	}
	q.mu.Unlock()
	if len(next) > 0 {
		go c.sendQueued(q, next)
	}
}

// takeBatch removes up to max queued sends (and maxBytes of bodies and
// properties; the first is taken whatever its size). Members whose deadline
// already passed are answered as not sent and not counted.
func (c *Coalescer) takeBatch(q *sendQueue) []*queuedSend {
	limit, size := max(c.max, 1), 0
	var batch []*queuedSend
	n := 0
	for ; n < len(q.pending) && len(batch) < limit; n++ {
		s := q.pending[n]
		if err := s.ctx.Err(); err != nil {
			s.err = notSent(s.msg.Topic, err)
			close(s.done)
			continue
		}
		size += s.size + memberOverhead
		if len(batch) > 0 && c.maxBytes > 0 && size > c.maxBytes {
			break
		}
		batch = append(batch, s)
	}
	q.pending = append([]*queuedSend(nil), q.pending[n:]...)
	return batch
}

// batchContext bounds a request by the earliest deadline of its members and
// is cancelled by none of them (a member's cancellation must not spend the
// others' request). Values (trace context) come from the first member.
func batchContext(batch []*queuedSend) (context.Context, context.CancelFunc) {
	var earliest time.Time
	for _, s := range batch {
		if d, ok := s.ctx.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
			earliest = d
		}
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	if earliest.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, earliest)
}

// sendOne sends batch as one broker request and answers its members. When
// the broker refuses a request of several messages for what one member may
// be (memberFault: the broker answers a batch holding an oversized member
// with SYSTEM_ERROR, not MESSAGE_ILLEGAL), it stored none of them: each
// member is sent again on its own, at once and concurrently, within its own
// deadline, and answered with its own outcome, so one bad message never
// fails the others it was coalesced with. Any other failure (the broker
// busy or unavailable, a transport error or timeout after which the batch
// may be stored) is every member's outcome.
func (c *Coalescer) sendOne(batch []*queuedSend) {
	if len(batch) == 1 {
		c.sendAlone(batch[0])
		return
	}
	msgs := make([]*primitive.Message, len(batch))
	for i, s := range batch {
		msgs[i] = s.msg
	}
	ctx, cancel := batchContext(batch)
	res, err := c.send(ctx, batch[0].msg.Topic, msgs...)
	cancel()
	if memberFault(err) {
		var wg sync.WaitGroup
		for _, s := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.sendAlone(s)
			}()
		}
		wg.Wait()
		return
	}
	for i, s := range batch {
		if err != nil {
			s.err = err
		} else {
			s.rc = receipt(s.id, s.msg.Topic, res, i)
		}
		close(s.done)
	}
}

// sendAlone sends one message in a request of its own, within its own
// deadline, and answers it.
func (c *Coalescer) sendAlone(s *queuedSend) {
	defer close(s.done)
	res, err := c.send(s.ctx, s.msg.Topic, s.msg)
	if err != nil {
		s.err = err
		return
	}
	s.rc = receipt(s.id, s.msg.Topic, res, 0)
}

// receipt is where the broker stored the i-th message of a request.
func receipt(id, topic string, res *primitive.SendResult, i int) Receipt {
	rc := Receipt{MessageID: id, Topic: topic, QueueOffset: res.QueueOffset + int64(i)}
	if res.MessageQueue != nil {
		rc.BrokerName, rc.QueueID = res.MessageQueue.BrokerName, res.MessageQueue.QueueId
	}
	return rc
}
