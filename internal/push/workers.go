package push

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// delivery is one popped message on its way to a delivery goroutine.
type delivery struct {
	r    *subRun
	m    pop.Message
	size int64
}

// workerIdle is how long a delivery goroutine waits for another message
// before it ends.
const workerIdle = 2 * time.Second

// workers runs deliveries on goroutines that are reused while messages
// keep coming: a new goroutine's stack grows (is copied) several times
// along the delivery path, which cost about a tenth of the gateway's CPU
// when every message had a goroutine of its own. Their number is bounded
// as the deliveries in progress are (by the in-flight budget); one that
// waited idle for idle ends, and stop ends the idle ones at once.
type workers struct {
	run      func(delivery)
	idle     time.Duration
	work     chan delivery
	quit     chan struct{}
	stopOnce sync.Once
	running  atomic.Int64 // goroutines alive (tests)
	waiting  atomic.Int64 // goroutines waiting for work (tests)
}

func newWorkers(run func(delivery), idle time.Duration) *workers {
	return &workers{run: run, idle: idle, work: make(chan delivery), quit: make(chan struct{})}
}

// start runs d on a goroutine waiting for work, or on a new one (also
// after stop: a delivery is never dropped).
func (w *workers) start(d delivery) {
	select {
	case w.work <- d:
	default:
		w.running.Add(1)
		go w.loop(d)
	}
}

// stop ends the goroutines waiting for work, and each busy one once its
// delivery is over.
func (w *workers) stop() { w.stopOnce.Do(func() { close(w.quit) }) }

// loop runs d, then what start hands it, until it waited w.idle for
// nothing or stop was called.
func (w *workers) loop(d delivery) {
	defer w.running.Add(-1)
	idle := time.NewTimer(w.idle)
	defer idle.Stop()
	for {
		w.run(d)
		idle.Reset(w.idle)
		w.waiting.Add(1)
		select {
		case d = <-w.work:
			w.waiting.Add(-1)
		case <-idle.C:
			w.waiting.Add(-1)
			return
		case <-w.quit:
			w.waiting.Add(-1)
			return
		}
	}
}
