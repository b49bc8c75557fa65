package push

import (
	"context"
	"fmt"
	"sync"
)

// inflight counts callbacks in flight so a stop can wait for them.
type inflight struct {
	mu       sync.Mutex
	wg       sync.WaitGroup
	stopping bool
}

func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inflight) leave() { f.wg.Done() }

// drain stops new entries and waits for the current ones until ctx ends.
func (f *inflight) drain(ctx context.Context) error {
	f.mu.Lock()
	f.stopping = true
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("delivery: in-flight deliveries did not finish: %w", ctx.Err())
	}
}
