package broker

import (
	"context"
	"errors"
)

// Hooks for the external tests: the public Send refuses oversized
// properties before they reach the broker (brokertext.Encodable), so only a
// message built here can make the real broker refuse one.

// SendUnchecked sends m with extra properties added after the checks,
// coalesced like Send when coalesce is set.
func (p *Producer) SendUnchecked(ctx context.Context, m Message, extra map[string]string, coalesce bool) (Receipt, error) {
	msg, err := toPrimitive(m)
	if err != nil {
		return Receipt{}, err
	}
	for k, v := range extra {
		msg.WithProperty(k, v)
	}
	if coalesce {
		return p.co.Send(ctx, m.ID, msg)
	}
	res, err := p.send(ctx, m.Topic, msg)
	if err != nil {
		return Receipt{}, err
	}
	return receipt(m.ID, m.Topic, res, 0), nil
}

// HeldQueue keeps a topic's coalescing queue busy so that sends to it queue.
type HeldQueue struct {
	c *Coalescer
	q *sendQueue
}

// HoldQueue marks topic busy: coalesced sends to it queue until Release.
func (p *Producer) HoldQueue(topic string) HeldQueue { return p.co.HoldQueue(topic) }

// HoldQueue marks topic busy: sends to it queue until Release.
func (c *Coalescer) HoldQueue(topic string) HeldQueue {
	q := &sendQueue{busy: true}
	c.queues.Store(topic, q)
	return HeldQueue{c: c, q: q}
}

// SendFunc is sendFunc for the external tests.
type SendFunc = sendFunc

// NewCoalescer is newCoalescer for the external tests.
var NewCoalescer = newCoalescer

// Queued returns how many sends wait.
func (h HeldQueue) Queued() int {
	h.q.mu.Lock()
	defer h.q.mu.Unlock()
	return len(h.q.pending)
}

// Release sends one batch of what waits, as the request in flight would on
// its end, and returns how many sends the batch took.
func (h HeldQueue) Release() int {
	h.q.mu.Lock()
	batch := h.c.takeBatch(h.q)
	h.q.mu.Unlock()
	if len(batch) > 0 {
		h.c.sendQueued(h.q, batch)
	}
	return len(batch)
}

// Rejected and MemberFault classify client errors (rejected.go).
var (
	Rejected    = rejected
	MemberFault = memberFault
)

// RemoteCode is the broker's response code err carries, or 0.
func RemoteCode(err error) int {
	var re *remoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}
