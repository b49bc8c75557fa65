package push

import (
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// Deliveries one after another reuse their goroutines; concurrent ones run
// on as many as run at once; idle goroutines end.
func TestWorkersReuseGoroutinesAndEndWhenIdle(t *testing.T) {
	done := make(chan int64)
	block := make(chan struct{})
	w := newWorkers(func(d delivery) {
		if d.size < 0 {
			<-block
		}
		done <- d.size
	}, time.Second)

	const n = 50
	for i := range n {
		w.start(delivery{size: int64(i)})
		if got := <-done; got != int64(i) {
			t.Fatalf("delivery %d ran as %d", i, got)
		}
		time.Sleep(time.Millisecond) // the goroutine gets back to waiting
	}
	// Each goroutine lives for its idle time after its last delivery: a
	// goroutine per delivery would leave 50 running.
	if got := w.running.Load(); got < 1 || got > 5 {
		t.Fatalf("%d goroutines ran %d deliveries one after another, want 1 (a few at most)", got, n)
	}

	before := w.running.Load()
	for range 3 {
		w.start(delivery{size: -1})
	}
	// Three blocked at once: the idle goroutines took what they could and
	// new ones the rest.
	if got := w.running.Load(); got < 3 || got > before+3 {
		t.Fatalf("%d goroutines for 3 concurrent deliveries (%d idle before)", got, before)
	}
	close(block)
	for range 3 {
		<-done
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := w.running.Load(); n != 0 {
			return errString("goroutines still running after their idle time")
		}
		return nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }
