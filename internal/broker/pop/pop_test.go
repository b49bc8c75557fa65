package pop_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// fixture is the one setup every integration test shares: the real
// RocketMQ stack, a fresh topic, a fresh group, a POP client and the
// topic's brokers.
type fixture struct {
	stack   testenv.Stack
	client  *pop.Client
	topic   string
	group   string
	brokers []pop.Broker
}

// quietLogs keeps the native producer's routine info lines out of the
// test output.
var quietLogs = sync.OnceFunc(func() { rlog.SetLogLevel("warn") })

func setup(t *testing.T, queues int) *fixture {
	t.Helper()
	quietLogs()
	s := testenv.Shared(t)
	f := &fixture{stack: s, topic: s.Topic(t, "pop", queues), group: "pop-" + randomHex(6)}
	f.client = f.newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if f.brokers, err = f.client.Brokers(ctx, f.topic); err != nil {
		t.Fatalf("brokers of %s: %v", f.topic, err)
	}
	if len(f.brokers) == 0 {
		t.Fatalf("no master serves %s", f.topic)
	}
	if err := f.client.EnsureGroup(ctx, f.group, f.brokers); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newClient(t *testing.T) *pop.Client {
	t.Helper()
	c, err := pop.New(pop.Config{NameServers: []string{f.stack.NameServer}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (f *fixture) request(invisible, poll time.Duration) pop.Request {
	return pop.Request{Group: f.group, Topic: f.topic, InvisibleTime: invisible, PollTime: poll, MaxMessages: 16}
}

// send sends the bodies with a native rocketmq-client-go producer; with
// key set, all go to the queue the key hashes to.
func (f *fixture) send(t *testing.T, key string, bodies ...string) {
	t.Helper()
	msgs := make([]*primitive.Message, len(bodies))
	for i, b := range bodies {
		msgs[i] = primitive.NewMessage(f.topic, []byte(b))
		if key != "" {
			msgs[i].WithShardingKey(key)
		}
	}
	f.sendMessages(t, key != "", msgs...)
}

func (f *fixture) sendMessages(t *testing.T, hashed bool, msgs ...*primitive.Message) {
	t.Helper()
	opts := []producer.Option{
		producer.WithNameServer([]string{f.stack.NameServer}),
		producer.WithGroupName("pop-test-producer"),
		producer.WithInstanceName("pop-test-" + randomHex(4)),
		producer.WithRetry(2),
	}
	if hashed {
		opts = append(opts, producer.WithQueueSelector(producer.NewHashQueueSelector()))
	}
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown()
	for _, m := range msgs {
		res, err := p.SendSync(context.Background(), m)
		if err != nil {
			t.Fatalf("send %s: %v", m.Body, err)
		}
		if res.Status != primitive.SendOK {
			t.Fatalf("send %s: status %d", m.Body, res.Status)
		}
	}
}

// popUntil pops from every broker with req until done says so or the
// deadline passes, handing each message to got.
func popUntil(t *testing.T, c *pop.Client, brokers []pop.Broker, req pop.Request, deadline time.Duration, got func(pop.Message), done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for !done() {
		for _, b := range brokers {
			res, err := c.Pop(ctx, b, req)
			if ctx.Err() != nil {
				t.Fatalf("deadline %v passed waiting for messages", deadline)
			}
			if err != nil {
				t.Fatalf("pop: %v", err)
			}
			for _, m := range res.Messages {
				got(m)
			}
		}
	}
}

func bodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

// TestPopAckChangeInvisibleTime: every message is popped once; the acked
// half never comes back; exactly the half whose invisible time was cut to
// 2 s reappears, from the retry topic, and is acked there for good.
func TestPopAckChangeInvisibleTime(t *testing.T) {
	f := setup(t, 4)
	const n = 10
	sent := bodies("m", n)
	start := time.Now()
	f.send(t, "", sent...)
	t.Logf("sent in %v", time.Since(start))

	first := map[string]pop.Message{}
	req := f.request(60*time.Second, time.Second)
	popUntil(t, f.client, f.brokers, req, 60*time.Second, func(m pop.Message) {
		if _, dup := first[string(m.Body)]; dup {
			t.Fatalf("%s popped twice while invisible", m.Body)
		}
		if m.Topic != f.topic || m.Handle.Kind != pop.TopicNormal || m.Handle.BrokerName != f.brokers[0].Name {
			t.Fatalf("message %s: topic %s, handle %s", m.Body, m.Topic, m.Handle)
		}
		first[string(m.Body)] = m
	}, func() bool { return len(first) == n })

	t.Logf("all %d popped after %v", n, time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acked, delayed := map[string]bool{}, map[string]bool{}
	for i, b := range sent {
		m := first[b]
		if i%2 == 0 {
			if err := f.client.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
				t.Fatal(err)
			}
			acked[b] = true
			continue
		}
		h, err := f.client.ChangeInvisibleTime(ctx, f.group, f.topic, m.Handle, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if h.Offset != m.Handle.Offset || h.QueueID != m.Handle.QueueID || h.InvisibleTime != 2*time.Second || h == m.Handle {
			t.Fatalf("new handle %s for %s", h, m.Handle)
		}
		// The old handle is dead: the broker accepts an ack of it (a
		// non-orderly ack is not checked) but the message still comes back
		// under its new handle.
		if err := f.client.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
			t.Fatal(err)
		}
		delayed[b] = true
	}

	t.Logf("acked and delayed after %v", time.Since(start))
	again := map[string]pop.Message{}
	popUntil(t, f.client, f.brokers, req, 60*time.Second, func(m pop.Message) {
		b := string(m.Body)
		if acked[b] {
			t.Fatalf("acked message %s reappeared", b)
		}
		if !delayed[b] {
			t.Fatalf("unexpected message %s", b)
		}
		if _, dup := again[b]; dup {
			t.Fatalf("%s reappeared twice", b)
		}
		if m.Topic != f.topic || m.ReconsumeTimes < 1 {
			t.Fatalf("reappeared %s: topic %s, reconsume times %d", b, m.Topic, m.ReconsumeTimes)
		}
		again[b] = m
	}, func() bool { return len(again) == len(delayed) })

	for _, m := range again {
		// Revived messages are read from the group's retry topic; the
		// broker re-encodes them with the original topic and their handle
		// in POP_CK.
		if m.Handle.Kind != pop.TopicRetryV1 {
			t.Fatalf("reappeared %s with handle %s, want kind %d", m.Body, m.Handle, pop.TopicRetryV1)
		}
		if err := f.client.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("reappeared and acked after %v", time.Since(start))
	// Nothing may come back after the acks: pop past the 2 s invisible time
	// and the broker's revive scan. (A negative check has to wait.)
	res := popFor(t, f, pop.Request{Group: f.group, Topic: f.topic, InvisibleTime: 2 * time.Second}, 6*time.Second)
	if len(res) != 0 {
		t.Fatalf("acked messages reappeared: %v", res)
	}
}

// popFor pops (short polls) for d and returns the bodies of all it got.
func popFor(t *testing.T, f *fixture, req pop.Request, d time.Duration) []string {
	t.Helper()
	req.PollTime = time.Second
	var got []string
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, b := range f.brokers {
			res, err := f.client.Pop(context.Background(), b, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range res.Messages {
				got = append(got, string(m.Body))
			}
		}
	}
	return got
}

// TestUnackedReappear: messages nobody acks come back after their
// invisible time, with a higher reconsume count, and can be acked then.
func TestUnackedReappear(t *testing.T) {
	f := setup(t, 2)
	sent := bodies("u", 3)
	f.send(t, "", sent...)

	req := f.request(2*time.Second, time.Second)
	first := map[string]pop.Handle{}
	popUntil(t, f.client, f.brokers, req, 60*time.Second, func(m pop.Message) {
		if _, ok := first[string(m.Body)]; !ok {
			first[string(m.Body)] = m.Handle
		}
	}, func() bool { return len(first) == len(sent) })

	// The first handles expire; the messages come back with new ones.
	req.InvisibleTime = 60 * time.Second
	back := map[string]pop.Message{}
	popUntil(t, f.client, f.brokers, req, 60*time.Second, func(m pop.Message) {
		b := string(m.Body)
		if _, ok := first[b]; !ok {
			t.Fatalf("unexpected message %s", b)
		}
		if _, dup := back[b]; dup {
			t.Fatalf("%s came back twice within 60 s", b)
		}
		// A message comes back only through the revive service, which
		// copies it to the retry topic with a higher reconsume count.
		if m.ReconsumeTimes < 1 || m.Handle.Kind != pop.TopicRetryV1 {
			t.Fatalf("%s came back with reconsume times %d, handle %s", b, m.ReconsumeTimes, m.Handle)
		}
		back[b] = m
	}, func() bool { return len(back) == len(sent) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for b, m := range back {
		if m.Handle == first[b] {
			t.Fatalf("%s came back with its old handle", b)
		}
		if err := f.client.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLongPollWakesOnArrival: a POP holding a 30 s poll on an empty topic
// returns the message sent meanwhile, before its poll ends.
func TestLongPollWakesOnArrival(t *testing.T) {
	f := setup(t, 1)
	// The group has no offset yet: an empty pop registers it at the start.
	if res, err := f.client.Pop(context.Background(), f.brokers[0], f.request(10*time.Second, 0)); err != nil || len(res.Messages) != 0 {
		t.Fatalf("pop on empty topic: %d messages, %v", len(res.Messages), err)
	}
	const poll = 30 * time.Second
	type answer struct {
		res     pop.Result
		err     error
		elapsed time.Duration
	}
	ch := make(chan answer, 1)
	go func() {
		start := time.Now()
		res, err := f.client.Pop(context.Background(), f.brokers[0], f.request(10*time.Second, poll))
		ch <- answer{res, err, time.Since(start)}
	}()
	// Give the poll a head start so that the message finds it waiting; the
	// outcome asserted holds either way.
	time.Sleep(time.Second)
	f.send(t, "", "wake")
	a := <-ch
	if a.err != nil {
		t.Fatal(a.err)
	}
	if len(a.res.Messages) != 1 || string(a.res.Messages[0].Body) != "wake" {
		t.Fatalf("got %d messages", len(a.res.Messages))
	}
	if a.elapsed >= poll {
		t.Fatalf("the poll answered after %v, at its end, not on arrival", a.elapsed)
	}
	if err := f.client.Ack(context.Background(), f.group, f.topic, a.res.Messages[0].Handle); err != nil {
		t.Fatal(err)
	}
}

// TestCancelledPollLosesNothing: cancelling a long poll returns at once,
// and a message that arrives afterwards is not handed to the abandoned
// request (it would then stay invisible for the poll's invisible time).
func TestCancelledPollLosesNothing(t *testing.T) {
	f := setup(t, 1)
	if _, err := f.client.Pop(context.Background(), f.brokers[0], f.request(10*time.Second, 0)); err != nil {
		t.Fatal(err)
	}
	const poll = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := f.client.Pop(ctx, f.brokers[0], f.request(5*time.Minute, poll))
		errc <- err
	}()
	time.AfterFunc(500*time.Millisecond, cancel)
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pop: %v, want context.Canceled", err)
	}
	if el := time.Since(start); el >= poll {
		t.Fatalf("cancelled pop returned after %v, at the poll's end", el)
	}
	f.send(t, "", "after-cancel")
	// The abandoned poll would hide it for 5 minutes; 60 s is plenty.
	var got []string
	popUntil(t, f.client, f.brokers, f.request(30*time.Second, time.Second), 60*time.Second, func(m pop.Message) {
		got = append(got, string(m.Body))
		if err := f.client.Ack(context.Background(), f.group, f.topic, m.Handle); err != nil {
			t.Fatal(err)
		}
	}, func() bool { return len(got) > 0 })
	if len(got) != 1 || got[0] != "after-cancel" {
		t.Fatalf("got %v", got)
	}
}

// TestTagFilter: a POP with a TAG expression gets exactly the messages
// with those tags, and their tags and keys survive the decoding.
func TestTagFilter(t *testing.T) {
	f := setup(t, 2)
	var msgs []*primitive.Message
	for i := 0; i < 6; i++ {
		tag := []string{"a", "b", "c"}[i%3]
		m := primitive.NewMessage(f.topic, []byte(tag+"-"+strconv.Itoa(i)))
		m.WithTag(tag)
		m.WithKeys([]string{"key-" + strconv.Itoa(i)})
		msgs = append(msgs, m)
	}
	f.sendMessages(t, false, msgs...)

	req := f.request(60*time.Second, time.Second)
	req.Filter = "a||c"
	got := map[string]pop.Message{}
	popUntil(t, f.client, f.brokers, req, 60*time.Second, func(m pop.Message) {
		b := string(m.Body)
		if m.GetTags() != b[:1] || m.GetKeys() != "key-"+b[2:] {
			t.Fatalf("%s: tags %q keys %q", b, m.GetTags(), m.GetKeys())
		}
		if m.GetTags() == "b" {
			t.Fatalf("filtered-out message %s popped", b)
		}
		if _, dup := got[b]; dup {
			t.Fatalf("%s popped twice", b)
		}
		got[b] = m
		if err := f.client.Ack(context.Background(), f.group, f.topic, m.Handle); err != nil {
			t.Fatal(err)
		}
	}, func() bool { return len(got) == 4 })
	if extra := popFor(t, f, req, 2*time.Second); len(extra) != 0 {
		t.Fatalf("more messages: %v", extra)
	}
}

// TestConcurrentPoppersShare: two clients (two gateway replicas) popping
// one group share the messages: together they get all, none twice.
func TestConcurrentPoppersShare(t *testing.T) {
	f := setup(t, 4)
	const n = 40
	f.send(t, "", bodies("c", n)...)

	var mu sync.Mutex
	seen := map[string]int{}
	total := 0
	per := [2]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for i := range per {
		c := f.newClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := f.request(60*time.Second, time.Second)
			req.MaxMessages = 4
			for {
				mu.Lock()
				finished := total >= n
				mu.Unlock()
				if finished {
					return
				}
				res, err := c.Pop(ctx, f.brokers[0], req)
				if err != nil {
					errs <- err
					return
				}
				for _, m := range res.Messages {
					if err := c.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					seen[string(m.Body)]++
					total++
					per[i]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for b, k := range seen {
		if k != 1 {
			t.Errorf("%s delivered %d times", b, k)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
	t.Logf("popper 0 got %d, popper 1 got %d", per[0], per[1])
}

// TestOrderlyPopKeepsQueueOrder: an orderly pop hands out a queue's
// messages in order; a queue whose batch is held gives nothing more; a
// batch sent back with ChangeInvisibleTime comes again, the same messages
// first, with their delivery count.
func TestOrderlyPopKeepsQueueOrder(t *testing.T) {
	f := setup(t, 2)
	const n = 12
	keys := []string{"k1", "k2"}
	for _, k := range keys {
		f.send(t, k, bodies(k, n)...)
	}
	req := f.request(30*time.Second, time.Second)
	req.Orderly = true
	req.MaxMessages = 3

	next := map[string]int{}             // key -> index of the next body expected
	sentBack := map[int]map[int64]bool{} // queue -> offsets of its batch sent back once
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for next["k1"] < n || next["k2"] < n {
		res, err := f.client.Pop(ctx, f.brokers[0], req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			continue
		}
		// While this batch is held, its queue is locked: another orderly
		// pop of the same queue gets nothing from it.
		q := res.Messages[0].Handle.QueueID
		blocked := req
		blocked.SingleQueue, blocked.QueueID, blocked.PollTime = true, q, 0
		other, err := f.client.Pop(ctx, f.brokers[0], blocked)
		if err != nil {
			t.Fatal(err)
		}
		if len(other.Messages) != 0 {
			t.Fatalf("queue %d handed out %s while its batch was held", q, other.Messages[0].Body)
		}
		first := sentBack[q] == nil
		if first {
			sentBack[q] = map[int64]bool{}
		}
		pos := map[string]int{} // position of the batch's messages per key
		for k, i := range next {
			pos[k] = i
		}
		for _, m := range res.Messages {
			if !m.Handle.Orderly() || m.Handle.QueueID != q {
				t.Fatalf("handle %s in an orderly batch of queue %d", m.Handle, q)
			}
			b := string(m.Body)
			k := b[:2]
			if want := k + "-" + strconv.Itoa(pos[k]); b != want {
				t.Fatalf("got %s, want %s", b, want)
			}
			pos[k]++
			if first {
				// Send the queue's first batch back: it must come again.
				if _, err := f.client.ChangeInvisibleTime(ctx, f.group, f.topic, m.Handle, time.Second); err != nil {
					t.Fatal(err)
				}
				sentBack[q][m.QueueOffset] = true
				continue
			}
			if sentBack[q][m.QueueOffset] && m.ReconsumeTimes < 1 {
				t.Fatalf("%s delivered again with reconsume times %d", b, m.ReconsumeTimes)
			}
			next[k]++
			if err := f.client.Ack(ctx, f.group, f.topic, m.Handle); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
