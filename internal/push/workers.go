package push

import (
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
// as the deliveries in progress are (by the in-flight budget), and one
// that waited idle for idle ends.
type workers struct {
	run     func(delivery)
	idle    time.Duration
	work    chan delivery
	running atomic.Int64 // goroutines alive (tests)
}

func newWorkers(run func(delivery), idle time.Duration) *workers {
	return &workers{run: run, idle: idle, work: make(chan delivery)}
}

// start runs d on a goroutine waiting for work, or on a new one.
func (w *workers) start(d delivery) {
	select {
	case w.work <- d:
	default:
		w.running.Add(1)
		go w.loop(d)
	}
}

// loop runs d, then what start hands it, until it waited w.idle for
// nothing.
func (w *workers) loop(d delivery) {
	defer w.running.Add(-1)
	idle := time.NewTimer(w.idle)
	defer idle.Stop()
	for {
		w.run(d)
		idle.Reset(w.idle)
		select {
		case d = <-w.work:
		case <-idle.C:
			return
		}
	}
}
