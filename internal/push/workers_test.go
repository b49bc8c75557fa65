package push

import (
	"errors"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// Deliveries one after another reuse their goroutine; concurrent ones run
// on as many as run at once; idle goroutines end, and stop ends them at
// once.
func TestWorkersReuseGoroutinesAndEndWhenIdle(t *testing.T) {
	done := make(chan int64)
	block := make(chan struct{})
	w := newWorkers(func(d delivery) {
		if d.size < 0 {
			<-block
		}
		done <- d.size
	}, 500*time.Millisecond)

	const n = 50
	for i := range n {
		w.start(delivery{size: int64(i)})
		if got := <-done; got != int64(i) {
			t.Fatalf("delivery %d ran as %d", i, got)
		}
		testenv.Eventually(t, 5*time.Second, func() error {
			if w.waiting.Load() != w.running.Load() {
				return errors.New("a goroutine is not back waiting for work yet")
			}
			return nil
		})
	}
	// A goroutine per delivery would leave 50 running (each lives for its
	// idle time); one waiting between deliveries is reused. A few more
	// only if one was seen waiting before it reached its select.
	if got := w.running.Load(); got < 1 || got > 3 {
		t.Fatalf("%d goroutines ran %d deliveries one after another, want 1", got, n)
	}

	before := w.running.Load()
	for range 3 {
		w.start(delivery{size: -1})
	}
	// Three blocked at once: the waiting goroutines took what they could
	// and new ones the rest.
	if got := w.running.Load(); got < 3 || got > before+3 {
		t.Fatalf("%d goroutines for 3 concurrent deliveries (%d before)", got, before)
	}
	close(block)
	for range 3 {
		<-done
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := w.running.Load(); n != 0 {
			return errors.New("goroutines still running after their idle time")
		}
		return nil
	})
}

func TestWorkersStopEndsWaitingGoroutines(t *testing.T) {
	done := make(chan struct{})
	w := newWorkers(func(delivery) { done <- struct{}{} }, time.Hour)
	w.start(delivery{})
	<-done
	w.stop()
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := w.running.Load(); n != 0 {
			return errors.New("a goroutine waiting for work outlived stop")
		}
		return nil
	})
	// After stop a delivery still runs, on a goroutine of its own.
	w.start(delivery{})
	<-done
}
