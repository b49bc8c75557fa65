package broker

import "context"

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
		return p.coalesced(ctx, m, msg)
	}
	res, err := p.send(ctx, m.Topic, msg)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{MessageID: m.ID, Topic: m.Topic, BrokerName: res.MessageQueue.BrokerName,
		QueueID: res.MessageQueue.QueueId, QueueOffset: res.QueueOffset}, nil
}

// HeldQueue keeps a topic's coalescing queue busy so that sends to it queue.
type HeldQueue struct {
	p *Producer
	q *sendQueue
}

// HoldQueue marks topic busy: coalesced sends to it queue until Release.
func (p *Producer) HoldQueue(topic string) HeldQueue {
	q := &sendQueue{busy: true}
	p.queues.Store(topic, q)
	return HeldQueue{p: p, q: q}
}

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
	batch := h.p.takeBatch(h.q)
	h.q.mu.Unlock()
	if len(batch) > 0 {
		h.p.sendQueued(h.q, batch)
	}
	return len(batch)
}

// Rejected and MemberFault classify client errors (rejected.go).
var (
	Rejected    = rejected
	MemberFault = memberFault
)
