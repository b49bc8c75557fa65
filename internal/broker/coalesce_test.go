package broker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// fakeRequests stands in for the broker request (the narrow sendFunc the
// coalescer is given): it records each request and answers with answer.
type fakeRequests struct {
	mu       sync.Mutex
	requests [][]string // message bodies per request
	ctxs     []context.Context
	answer   func(ctx context.Context, msgs []*primitive.Message) error
}

func (f *fakeRequests) send(ctx context.Context, topic string, msgs ...*primitive.Message) (*primitive.SendResult, error) {
	bodies := make([]string, len(msgs))
	for i, m := range msgs {
		bodies[i] = string(m.Body)
	}
	f.mu.Lock()
	f.requests = append(f.requests, bodies)
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	if f.answer != nil {
		if err := f.answer(ctx, msgs); err != nil {
			return nil, err
		}
	}
	return &primitive.SendResult{Status: primitive.SendOK, QueueOffset: 100,
		MessageQueue: &primitive.MessageQueue{Topic: topic, BrokerName: "b", QueueId: 1}}, nil
}

func (f *fakeRequests) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int, len(f.requests))
	for i, r := range f.requests {
		out[i] = len(r)
	}
	return out
}

func msg(body string) *primitive.Message { return primitive.NewMessage("t", []byte(body)) }

// queueBehind holds the topic's queue, starts one Send per context in
// ctxs (bodies m0, m1, ...) and waits until all of them queued.
func queueBehind(t *testing.T, c *broker.Coalescer, ctxs []context.Context) (broker.HeldQueue, []chan outcome) {
	t.Helper()
	held := c.HoldQueue("t")
	outs := make([]chan outcome, len(ctxs))
	for i, ctx := range ctxs {
		outs[i] = make(chan outcome, 1)
		go func() {
			rc, err := c.Send(ctx, fmt.Sprintf("id%d", i), msg(fmt.Sprintf("m%d", i)))
			outs[i] <- outcome{rc, err}
		}()
		// Queue in order, so the batches are predictable.
		testenv.Eventually(t, 10*time.Second, func() error {
			if n := held.Queued(); n != i+1 {
				return fmt.Errorf("%d of %d queued", n, i+1)
			}
			return nil
		})
	}
	return held, outs
}

type outcome struct {
	rc  broker.Receipt
	err error
}

func contexts(n int) []context.Context {
	out := make([]context.Context, n)
	for i := range out {
		out[i] = context.Background()
	}
	return out
}

func TestCoalescerSendsAtOnceWhenIdle(t *testing.T) {
	f := &fakeRequests{}
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	for i := range 3 {
		rc, err := c.Send(context.Background(), fmt.Sprintf("id%d", i), msg("alone"))
		if err != nil || rc.MessageID != fmt.Sprintf("id%d", i) || rc.QueueOffset != 100 || rc.BrokerName != "b" {
			t.Fatalf("send %d: %+v, %v", i, rc, err)
		}
		// Returned after its own request, which carried it alone: nothing
		// waited for company.
		if got := f.sizes(); len(got) != i+1 || got[i] != 1 {
			t.Fatalf("after send %d: requests %v, want one request of one message each", i, got)
		}
	}
}

func TestCoalescerCaps(t *testing.T) {
	big := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name          string
		max, maxBytes int
		bodies        int
		body          string
		want          []int // messages per request, in order
	}{
		{"message cap", 4, 1 << 20, 10, "m", []int{4, 4, 2}},
		{"byte cap", 100, 3 * (1000 + 256 + 64), 7, big, []int{3, 3, 1}},
		{"one oversized member still leaves", 100, 10, 2, big, []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRequests{}
			c := broker.NewCoalescer(f.send, tc.max, tc.maxBytes)
			held := c.HoldQueue("t")
			var wg sync.WaitGroup
			errs := make(chan error, tc.bodies)
			for i := range tc.bodies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.Send(context.Background(), fmt.Sprintf("id%d", i), msg(tc.body)); err != nil {
						errs <- err
					}
				}()
			}
			testenv.Eventually(t, 10*time.Second, func() error {
				if n := held.Queued(); n != tc.bodies {
					return fmt.Errorf("%d of %d queued", n, tc.bodies)
				}
				return nil
			})
			held.Release() // the rest follow, one request after the other
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := f.sizes(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("messages per request %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCoalescerMemberLeavesTheQueueAtItsDeadline(t *testing.T) {
	f := &fakeRequests{}
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	short, cancel := context.WithCancel(context.Background())
	held, outs := queueBehind(t, c, []context.Context{context.Background(), short, context.Background()})
	cancel() // member 1's time is up while the queue is still held
	o := <-outs[1]
	if !errors.Is(o.err, broker.ErrUnconfirmed) || !errors.Is(o.err, context.Canceled) {
		t.Fatalf("expired member: %+v, want ErrUnconfirmed wrapping its context's error", o)
	}
	if n := held.Queued(); n != 2 {
		t.Fatalf("%d queued after the member left, want 2", n)
	}
	held.Release()
	for _, i := range []int{0, 2} {
		if o := <-outs[i]; o.err != nil {
			t.Fatalf("member %d: %v", i, o.err)
		}
	}
	if got := f.sizes(); fmt.Sprint(got) != "[2]" {
		t.Fatalf("requests %v: the expired member must not be sent", got)
	}
}

func TestCoalescerRequestRunsWithinEveryMembersDeadline(t *testing.T) {
	f := &fakeRequests{}
	release := make(chan struct{})
	f.answer = func(ctx context.Context, msgs []*primitive.Message) error {
		<-release
		return ctx.Err() // a request cancelled by a member would fail here
	}
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	now := time.Now()
	late, cancelLate := context.WithDeadline(context.Background(), now.Add(time.Hour))
	defer cancelLate()
	early, cancelEarly := context.WithDeadline(context.Background(), now.Add(30*time.Minute))
	defer cancelEarly()
	first, cancelFirst := context.WithCancel(context.Background())
	held, outs := queueBehind(t, c, []context.Context{first, late, early})
	done := make(chan struct{})
	go func() { held.Release(); close(done) }()
	testenv.Eventually(t, 10*time.Second, func() error {
		if len(f.sizes()) == 0 {
			return errors.New("no request yet")
		}
		return nil
	})
	f.mu.Lock()
	rctx := f.ctxs[0]
	f.mu.Unlock()
	if d, ok := rctx.Deadline(); !ok || !d.Equal(now.Add(30*time.Minute)) {
		t.Fatalf("request deadline %v (%v), want the earliest member's", d, ok)
	}
	cancelFirst() // the first member's cancellation must not cancel the others' request
	close(release)
	<-done
	for i := range outs {
		if o := <-outs[i]; o.err != nil {
			t.Fatalf("member %d: %v", i, o.err)
		}
	}
}

func TestCoalescerPermanentErrorFailsOnlyItsMember(t *testing.T) {
	f := &fakeRequests{}
	f.answer = func(_ context.Context, msgs []*primitive.Message) error {
		for _, m := range msgs {
			if string(m.Body) == "m1" {
				// How rocketmq-client-go reports the broker's refusal.
				return errors.New("CODE: 1, DESC: the batch holds a message the broker cannot decode")
			}
		}
		return nil
	}
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	held, outs := queueBehind(t, c, contexts(4))
	held.Release()
	for i := range outs {
		o := <-outs[i]
		switch {
		case i == 1 && o.err == nil:
			t.Fatalf("the refused member succeeded")
		case i != 1 && (o.err != nil || o.rc.MessageID != fmt.Sprintf("id%d", i)):
			t.Fatalf("member %d: %+v, %v", i, o.rc, o.err)
		}
	}
	if got := f.sizes(); fmt.Sprint(got) != "[4 1 1 1 1]" {
		t.Fatalf("requests %v, want the batch then each member alone", got)
	}
}

func TestCoalescerTransportErrorIsEveryMembersOutcome(t *testing.T) {
	f := &fakeRequests{}
	boom := errors.New("connection reset")
	f.answer = func(context.Context, []*primitive.Message) error { return boom }
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	held, outs := queueBehind(t, c, contexts(3))
	held.Release()
	for i := range outs {
		if o := <-outs[i]; !errors.Is(o.err, boom) {
			t.Fatalf("member %d: %v, want the request's error (the batch may be stored)", i, o.err)
		}
	}
	if got := f.sizes(); fmt.Sprint(got) != "[3]" {
		t.Fatalf("requests %v: a possibly stored batch must not be sent again member by member", got)
	}
}

func TestCoalescerReceiptsFollowTheBatchOrder(t *testing.T) {
	f := &fakeRequests{}
	c := broker.NewCoalescer(f.send, 16, 1<<20)
	held, outs := queueBehind(t, c, contexts(3))
	held.Release()
	for i := range outs {
		o := <-outs[i]
		if o.err != nil || o.rc.QueueOffset != 100+int64(i) || o.rc.QueueID != 1 {
			t.Fatalf("member %d: %+v, %v", i, o.rc, o.err)
		}
	}
}
