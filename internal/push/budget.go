package push

import "sync"

// budget is the gateway's global in-flight budget: messages popped and
// not yet settled (acknowledged, sent back or dead-lettered), counted and
// weighed. A pop reserves message slots before it asks the broker, so the
// count is never exceeded; bytes are known only after the pop, so a pop is
// made only while the bytes held are under the limit (it may exceed it by
// one batch).
type budget struct {
	mu        sync.Mutex
	maxMsgs   int
	maxBytes  int64
	msgs      int
	bytes     int64
	waiters   []func() // called once when something is released
	peakMsgs  int
	peakBytes int64
}

func newBudget(maxMsgs int, maxBytes int64) *budget {
	return &budget{maxMsgs: maxMsgs, maxBytes: maxBytes}
}

// reserve takes up to n message slots and returns how many it took: 0
// when the budget is spent (then wake is called once, at the next
// release, unless wake is nil).
func (b *budget) reserve(n int, wake func()) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := min(n, b.maxMsgs-b.msgs)
	if k <= 0 || b.bytes >= b.maxBytes {
		if wake != nil {
			b.waiters = append(b.waiters, wake)
		}
		return 0
	}
	b.msgs += k
	b.peakMsgs = max(b.peakMsgs, b.msgs)
	return k
}

// force takes n more message slots, over the limit if need be.
func (b *budget) force(n int) {
	b.mu.Lock()
	b.msgs += n
	b.peakMsgs = max(b.peakMsgs, b.msgs)
	b.mu.Unlock()
}

// weigh adds the bytes of popped messages.
func (b *budget) weigh(bytes int64) {
	b.mu.Lock()
	b.bytes += bytes
	b.peakBytes = max(b.peakBytes, b.bytes)
	b.mu.Unlock()
}

// release gives back msgs slots and bytes and wakes the waiters.
func (b *budget) release(msgs int, bytes int64) {
	b.mu.Lock()
	b.msgs -= msgs
	b.bytes -= bytes
	w := b.waiters
	b.waiters = nil
	b.mu.Unlock()
	for _, f := range w {
		f()
	}
}

// inUse returns the messages and bytes held now.
func (b *budget) inUse() (int, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.msgs, b.bytes
}
