package broker

import (
	"context"
	"sync"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/brokertext"
)

// sendQueue holds the sends to one topic that wait while a broker request
// for that topic is in flight.
type sendQueue struct {
	mu      sync.Mutex
	busy    bool
	pending []*queuedSend
}

type queuedSend struct {
	ctx  context.Context
	m    Message
	msg  *primitive.Message
	size int // body and encoded properties, for Config.MaxBytes
	done chan struct{}
	rc   Receipt
	err  error
}

// coalesced sends m alone if no request to its topic is in flight, or else
// queues it for the next batch; either way it returns m's own outcome.
func (p *Producer) coalesced(ctx context.Context, m Message, msg *primitive.Message) (Receipt, error) {
	v, _ := p.queues.LoadOrStore(m.Topic, &sendQueue{})
	q := v.(*sendQueue)
	s := &queuedSend{ctx: ctx, m: m, msg: msg, done: make(chan struct{}),
		size: len(msg.Body) + brokertext.EncodedSize(msg.GetProperties())}
	q.mu.Lock()
	if q.busy {
		q.pending = append(q.pending, s)
		q.mu.Unlock()
		<-s.done // the batch runs with its own deadline; the outcome is always known
		return s.rc, s.err
	}
	q.busy = true
	q.mu.Unlock()
	p.sendQueued(q, []*queuedSend{s})
	return s.rc, s.err
}

// sendQueued sends batch, answers its members, then hands what queued
// meanwhile to a new goroutine (so the caller returns at once) or marks the
// topic idle.
func (p *Producer) sendQueued(q *sendQueue, batch []*queuedSend) {
	p.sendOne(batch)
	q.mu.Lock()
	next := p.takeBatch(q)
	if len(next) == 0 {
		q.busy = false
	}
	q.mu.Unlock()
	if len(next) > 0 {
		go p.sendQueued(q, next)
	}
}

// takeBatch removes up to CoalesceMax queued sends (and MaxBytes of bodies
// and properties).
func (p *Producer) takeBatch(q *sendQueue) []*queuedSend {
	limit, size, n := max(p.cfg.CoalesceMax, 1), 0, 0
	for n < len(q.pending) && n < limit {
		size += q.pending[n].size + 256
		if n > 0 && p.cfg.MaxBytes > 0 && size > p.cfg.MaxBytes {
			break
		}
		n++
	}
	batch := q.pending[:n:n]
	q.pending = append([]*queuedSend(nil), q.pending[n:]...)
	return batch
}

// sendOne sends batch as one broker request and answers its members. When
// the broker refuses a request of several messages for what one member may
// be (memberFault: the broker answers a batch holding an oversized member
// with SYSTEM_ERROR, not MESSAGE_ILLEGAL), it stored none of them: each
// member is sent again on its own, at once and concurrently, and answered
// with its own outcome, so one bad message never fails the others it was
// coalesced with. Any other failure (the broker busy or unavailable, a
// transport error or timeout after which the batch may be stored) is every
// member's outcome.
func (p *Producer) sendOne(batch []*queuedSend) {
	msgs := make([]*primitive.Message, len(batch))
	for i, s := range batch {
		msgs[i] = s.msg
	}
	// The first member's deadline bounds the request; members share it.
	res, err := p.send(batch[0].ctx, batch[0].m.Topic, msgs...)
	if len(batch) > 1 && memberFault(err) {
		var wg sync.WaitGroup
		for _, s := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.sendAlone(s)
			}()
		}
		wg.Wait()
		return
	}
	for i, s := range batch {
		if err != nil {
			s.err = err
		} else {
			s.rc = Receipt{MessageID: s.m.ID, Topic: s.m.Topic, BrokerName: res.MessageQueue.BrokerName,
				QueueID: res.MessageQueue.QueueId, QueueOffset: res.QueueOffset + int64(i)}
		}
		close(s.done)
	}
}

// sendAlone sends one queued message in a request of its own, within its
// own deadline, and answers it.
func (p *Producer) sendAlone(s *queuedSend) {
	defer close(s.done)
	res, err := p.send(s.ctx, s.m.Topic, s.msg)
	if err != nil {
		s.err = err
		return
	}
	s.rc = Receipt{MessageID: s.m.ID, Topic: s.m.Topic, BrokerName: res.MessageQueue.BrokerName,
		QueueID: res.MessageQueue.QueueId, QueueOffset: res.QueueOffset}
}
