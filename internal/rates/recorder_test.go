package rates_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zeroloss/zeroloss/internal/rates"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// Two replicas publish through the stack's Redis; either reads both, and a
// stopped one is no longer seen.
func TestReplicasShareRatesThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis (run without -short)")
	}
	// A database of its own: the gateways of other tests publish to the
	// stack's.
	rdb := testenv.Shared(t).RedisDB(t, 3)
	if err := rdb.Del(context.Background(), "zl:{ops}:replicas").Err(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	type replica struct {
		rec   *rates.Recorder
		sends *prometheus.CounterVec
		stop  func()
	}
	start := func(name string) replica {
		reg := prometheus.NewRegistry()
		sends := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zeroloss_sends_total"}, []string{"topic", "outcome"})
		reg.MustRegister(sends)
		rec, err := rates.NewRecorder(rates.Config{Replica: name, Version: "test", Heartbeat: 200 * time.Millisecond}, reg, rdb, log)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); rec.Run(ctx) }()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return replica{rec, sends, stop}
	}
	a, b := start("a"), start("b")
	a.sends.WithLabelValues("orders", "ok").Add(30)
	b.sends.WithLabelValues("orders", "ok").Add(20)
	b.sends.WithLabelValues("orders", "error").Add(10)

	total := func(v rates.View) (ok, failed float64) {
		for _, p := range v.Sends(func(string) bool { return true }) {
			secs := v.Interval.Seconds()
			ok += p.OK * secs
			failed += p.Failed * secs
		}
		return ok, failed
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		v, err := b.rec.Read(context.Background())
		if err != nil {
			return err
		}
		// The last point is a rate over the part of its interval that
		// passed, so its count is at least what was sent.
		if ok, failed := total(v); len(v.Replicas) != 2 || ok < 50 || failed < 10 {
			return fmt.Errorf("%d replicas, %v ok, %v failed", len(v.Replicas), ok, failed)
		}
		return nil
	})

	a.stop()
	v, err := b.rec.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Replicas) != 1 || v.Replicas[0].Replica != "b" || v.Replicas[0].Version != "test" {
		t.Errorf("after a stopped, replicas seen = %+v, want b only", v.Replicas)
	}
}
