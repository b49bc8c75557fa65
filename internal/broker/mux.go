package broker

import (
	"context"
	"errors"
	"sync"
)

// errNotSent marks a request that failed before any byte of it was
// written: the broker cannot have acted on it.
var errNotSent = errors.New("broker: request not sent")

// muxConns keeps one connection per broker address for the requests many
// goroutines make at once (END_TRANSACTION, half messages): each request
// is written as it comes (or with the others that queued during a write)
// and waits for its own answer, matched by its opaque, so none waits
// behind another's round trip. A connection that
// fails is replaced on the next request; a request is never retried here.
type muxConns struct {
	mu     sync.Mutex
	links  map[string]*link
	closed bool
}

// get returns the live connection to addr, dialing one if needed. A dial
// failure wraps errNotSent.
func (m *muxConns) get(ctx context.Context, name, addr string) (*link, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.Join(errNotSent, errors.New("broker: connections closed"))
	}
	if l := m.links[addr]; l != nil && !l.dead() {
		m.mu.Unlock()
		return l, nil
	}
	m.mu.Unlock()
	l, err := dialLink(ctx, name, addr, nil)
	if err != nil {
		return nil, errors.Join(errNotSent, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.links[addr]; cur != nil && !cur.dead() {
		l.close(errors.New("broker: duplicate connection"))
		return cur, nil
	}
	if m.closed {
		l.close(errors.New("broker: connections closed"))
		return nil, errors.Join(errNotSent, errors.New("broker: connections closed"))
	}
	if m.links == nil {
		m.links = map[string]*link{}
	}
	m.links[addr] = l
	return l, nil
}

// drop closes the connection to addr if it is l (after l failed).
func (m *muxConns) drop(addr string, l *link, err error) {
	l.close(err)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.links[addr] == l {
		delete(m.links, addr)
	}
}

// close closes every connection; requests in flight end unanswered.
func (m *muxConns) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for addr, l := range m.links {
		l.close(errors.New("broker: shutting down"))
		delete(m.links, addr)
	}
}
