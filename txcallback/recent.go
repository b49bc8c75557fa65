package txcallback

import "sync"

// recentTxs remembers the last transactions begun on this replica, so
// that deciding one does not read its record first. Only the fixed part
// is used (tenant, topic, broker coordinates); the state always comes from
// Redis. It holds at most size entries (oldest evicted first).
type recentTxs struct {
	mu    sync.Mutex
	byID  map[string]Transaction
	order []string // ring of ids, oldest at next
	next  int
}

func newRecentTxs(size int) *recentTxs {
	return &recentTxs{byID: make(map[string]Transaction, size), order: make([]string, size)}
}

func (r *recentTxs) put(tx Transaction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[tx.ID]; ok {
		r.byID[tx.ID] = tx
		return
	}
	if old := r.order[r.next]; old != "" {
		delete(r.byID, old)
	}
	r.order[r.next] = tx.ID
	r.next = (r.next + 1) % len(r.order)
	r.byID[tx.ID] = tx
}

func (r *recentTxs) get(id string) (Transaction, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tx, ok := r.byID[id]
	return tx, ok
}
