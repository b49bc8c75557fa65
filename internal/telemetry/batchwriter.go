package telemetry

import (
	"io"
	"sync"
)

// BatchWriter writes to w from one goroutine of its own: a Write only
// copies into a buffer, so a request's log line never waits for the
// terminal or pipe behind stdout, and the lines written while a write is
// in flight leave together as the next one (one write per batch, not per
// line, under load; at once when idle). Past maxBuffered bytes waiting,
// Write blocks until they are written: nothing is dropped and memory stays
// bounded. Close writes what is left and stops the goroutine.
type BatchWriter struct {
	w   io.Writer
	max int

	mu      sync.Mutex
	drained *sync.Cond // signalled after each write
	buf     []byte
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

// NewBatchWriter starts a BatchWriter over w.
func NewBatchWriter(w io.Writer, maxBuffered int) *BatchWriter {
	b := &BatchWriter{w: w, max: maxBuffered, wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.drained = sync.NewCond(&b.mu)
	go b.loop()
	return b
}

// Write queues a copy of p; it never fails (a failing w loses lines, as
// a log does).
func (b *BatchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	for len(b.buf) > b.max && !b.closed {
		b.drained.Wait()
	}
	if b.closed {
		b.mu.Unlock()
		return b.w.Write(p) // after Close: straight through
	}
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *BatchWriter) loop() {
	defer close(b.done)
	var spare []byte
	for {
		<-b.wake
		b.mu.Lock()
		out, closed := b.buf, b.closed
		b.buf = spare[:0]
		b.mu.Unlock()
		if len(out) > 0 {
			_, _ = b.w.Write(out)
		}
		b.mu.Lock()
		b.drained.Broadcast()
		b.mu.Unlock()
		spare = out
		if closed {
			return
		}
	}
}

// Close writes what is queued and stops; later writes go straight to w.
func (b *BatchWriter) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.drained.Broadcast()
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	<-b.done
	return nil
}
