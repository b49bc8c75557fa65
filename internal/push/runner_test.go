package push

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// testRunner is a runner without a consumer: consume is all it runs.
func testRunner(t *testing.T, s subscription.Subscription, handle Handler, pause func(context.Context, subscription.Subscription, string) bool, hold time.Duration) *runner {
	t.Helper()
	return newRunner(s, runnerDeps{handle: handle, pause: pause, levels: []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, time.Minute},
		metrics: NewMetrics(prometheus.NewRegistry()), pauseHold: hold, log: slog.New(slog.DiscardHandler)})
}

func answer(r Result) Handler {
	return func(context.Context, *Delivery) Result { return r }
}

func deadLetters(t *testing.T, r *runner, sub string) float64 {
	t.Helper()
	pb := &dto.Metric{}
	if err := r.metrics.DeadLetters.WithLabelValues(sub).Write(pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetCounter().GetValue()
}

func TestConsumeAnswersRocketMQ(t *testing.T) {
	unordered := subscription.Subscription{ID: "s1", MaxAttempts: 3}
	ordered := subscription.Subscription{ID: "s1", MaxAttempts: 3, Ordered: true}
	tests := []struct {
		name        string
		sub         subscription.Subscription
		result      Result
		reconsumed  int32
		want        consumer.ConsumeResult
		delayLevel  int   // left in the concurrent context (unordered)
		reconsumeTo int32 // the message's count afterwards
		dead        float64
	}{
		{"delivered", unordered, Result{Outcome: Delivered}, 0, consumer.ConsumeSuccess, 0, 0, 0},
		{"suppressed", unordered, Result{Outcome: Suppressed}, 0, consumer.ConsumeSuccess, 0, 0, 0},
		{"retry", unordered, Result{Outcome: Retry}, 0, consumer.ConsumeRetryLater, 0, 0, 0},
		{"retry with Retry-After", unordered, Result{Outcome: Retry, Wait: time.Minute}, 0, consumer.ConsumeRetryLater, 4, 0, 0},
		{"retry of the last attempt", unordered, Result{Outcome: Retry}, 2, consumer.ConsumeRetryLater, 0, 2, 1},
		{"dead", unordered, Result{Outcome: Dead}, 0, consumer.ConsumeRetryLater, -1, 0, 1},
		{"ordered retry", ordered, Result{Outcome: Retry, Wait: time.Minute}, 0, consumer.SuspendCurrentQueueAMoment, 0, 0, 0},
		{"ordered dead", ordered, Result{Outcome: Dead}, 0, consumer.SuspendCurrentQueueAMoment, 0, math.MaxInt32 - 1, 1},
		{"ordered delivered", ordered, Result{Outcome: Delivered}, 0, consumer.ConsumeSuccess, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testRunner(t, tc.sub, answer(tc.result), nil, time.Hour)
			ctx := context.Background()
			cc := &primitive.ConsumeConcurrentlyContext{}
			if !tc.sub.Ordered {
				ctx = primitive.WithConcurrentlyCtx(ctx, cc)
			}
			m := &primitive.MessageExt{ReconsumeTimes: tc.reconsumed}
			got, err := r.consume(ctx, m)
			if err != nil || got != tc.want {
				t.Fatalf("consume = %v, %v; want %v", got, err, tc.want)
			}
			if cc.DelayLevelWhenNextConsume != tc.delayLevel || m.ReconsumeTimes != max(tc.reconsumeTo, tc.reconsumed) {
				t.Errorf("delay level %d, reconsume times %d; want %d, %d", cc.DelayLevelWhenNextConsume, m.ReconsumeTimes, tc.delayLevel, tc.reconsumeTo)
			}
			if n := deadLetters(t, r, "s1"); n != tc.dead {
				t.Errorf("dead letters counted %v, want %v", n, tc.dead)
			}
		})
	}
}

func TestConsumeHandsEachMessageToTheChain(t *testing.T) {
	var seen []*Delivery
	r := testRunner(t, subscription.Subscription{ID: "s1"}, func(_ context.Context, d *Delivery) Result {
		seen = append(seen, d)
		return Result{Outcome: Delivered}
	}, nil, time.Hour)
	m1, m2 := &primitive.MessageExt{MsgId: "1"}, &primitive.MessageExt{MsgId: "2"}
	if got, _ := r.consume(context.Background(), m1, m2); got != consumer.ConsumeSuccess {
		t.Fatalf("consume = %v", got)
	}
	if len(seen) != 2 || seen[0].Msg != m1 || seen[1].Msg != m2 || seen[0].Sub.ID != "s1" || seen[0].Stop == nil {
		t.Fatalf("deliveries %+v", seen)
	}
}

func TestConsumeAfterAPanicLeavesTheMessage(t *testing.T) {
	r := testRunner(t, subscription.Subscription{ID: "s1"}, func(context.Context, *Delivery) Result { panic("boom") }, nil, time.Hour)
	if got, err := r.consume(context.Background(), &primitive.MessageExt{}); got != consumer.ConsumeRetryLater || err != nil {
		t.Fatalf("consume = %v, %v", got, err)
	}
	// Not in flight any more: a stop does not wait for it.
	if err := r.flight.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConsumeOfAHeldMessageWaitsForTheStop(t *testing.T) {
	r := testRunner(t, subscription.Subscription{ID: "s1"}, answer(Result{Err: ErrStopping}), nil, time.Hour)
	done := make(chan consumer.ConsumeResult)
	go func() {
		got, _ := r.consume(context.Background(), &primitive.MessageExt{})
		done <- got
	}()
	// The held callback left the in-flight set: the drain ends while it waits.
	if err := r.flight.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(r.stopped)
	if got := <-done; got != consumer.ConsumeRetryLater {
		t.Fatalf("consume = %v", got)
	}
	// A callback after the stop began returns once stopped.
	if got, _ := r.consume(context.Background(), &primitive.MessageExt{}); got != consumer.ConsumeRetryLater {
		t.Fatalf("consume after stop = %v", got)
	}
}

func TestConsumeOnGone(t *testing.T) {
	tests := []struct {
		name    string
		stored  bool
		stopped bool // the runner is stopped (the pause took effect)
	}{
		// The regression: a pause that was stored but never stopped the
		// consumer held the callback for ever.
		{"stored, runner never stopped: released by the hold", true, false},
		{"stored, runner stopped", true, true},
		{"not stored: retried at once", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var paused []string
			pause := func(_ context.Context, s subscription.Subscription, reason string) bool {
				paused = append(paused, s.ID+": "+reason)
				return tc.stored
			}
			hold := time.Hour
			if !tc.stopped {
				hold = time.Millisecond
			}
			r := testRunner(t, subscription.Subscription{ID: "s1"}, answer(Result{Outcome: Gone}), pause, hold)
			if tc.stopped {
				close(r.stopped)
			}
			got, err := r.consume(context.Background(), &primitive.MessageExt{})
			if got != consumer.ConsumeRetryLater || err != nil {
				t.Fatalf("consume = %v, %v", got, err)
			}
			if len(paused) != 1 || paused[0] != "s1: endpoint answered 410 Gone" {
				t.Fatalf("paused %v", paused)
			}
			if err := r.flight.drain(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSettleWithoutAContext(t *testing.T) {
	// An unordered consumer always has a concurrent context; without one
	// a delay level cannot be set and the answer is still "later".
	m := &primitive.MessageExt{}
	if got := settle(context.Background(), m, false, Decision{DelayLevel: 3}); got != consumer.ConsumeRetryLater || m.ReconsumeTimes != 0 {
		t.Fatalf("settle = %v, reconsume %d", got, m.ReconsumeTimes)
	}
}

// fakePauser stores pauses, or fails with err.
type fakePauser struct {
	err      error
	paused   map[string]string
	deadline bool
}

func (f *fakePauser) SetPaused(ctx context.Context, id, reason string) error {
	_, f.deadline = ctx.Deadline()
	if f.err != nil {
		return f.err
	}
	f.paused[id] = reason
	return nil
}

func TestPauser(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"stored", nil},
		{"store down", errors.New("redis: connection refused")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakePauser{err: tc.err, paused: map[string]string{}}
			changed := 0
			p := pauser{store: store, timeout: time.Minute, changed: func() { changed++ }, log: slog.New(slog.DiscardHandler)}
			// The consume context may be cancelled: the pause is still asked for.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			got := p.pause(ctx, subscription.Subscription{ID: "s1"}, "gone")
			want := tc.err == nil
			if got != want || !store.deadline {
				t.Fatalf("pause = %v (deadline %v), want %v with a deadline", got, store.deadline, want)
			}
			if want && (store.paused["s1"] != "gone" || changed != 1) {
				t.Errorf("paused %v, changed %d", store.paused, changed)
			}
			if !want && changed != 0 {
				t.Errorf("a failed pause announced a change")
			}
		})
	}
}

func TestPark(t *testing.T) {
	stopped := make(chan struct{})
	hold := make(chan time.Time, 1)
	hold <- time.Now()
	if park(stopped, hold) {
		t.Error("park reported a stop on the hold")
	}
	close(stopped)
	if !park(stopped, make(chan time.Time)) {
		t.Error("park did not report the stop")
	}
}

func TestInflightDrainTimesOut(t *testing.T) {
	var f inflight
	if !f.enter() {
		t.Fatal("enter refused before the drain")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.drain(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("drain = %v, want the context's error", err)
	}
	if f.enter() {
		t.Fatal("enter accepted after the drain began")
	}
	f.leave()
	if err := f.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}
