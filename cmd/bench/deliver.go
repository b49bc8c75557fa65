package main

// The delivery benchmark (-deliver): in one run, against one broker and one
// gateway, push deliveries from RocketMQ through the gateway to an endpoint
// served by this process on 127.0.0.1 (it answers 200 at once and does not
// check signatures), with the subscription's dedupKey "message_id" (every
// delivery claims, then marks, the message in Redis) and "none" (no Redis).
// Each mode and round gets a topic and a subscription of its own, deleted
// at its end.
//
// Methods (-dmethod):
//
//   - live: create the subscription, then send one warm-up message per queue
//     (again every 2 s) until one from every queue reached the endpoint, so
//     the gateway's consumer owns every queue; then send the -dn messages as
//     fast as the native producer can (or at -drate) and measure from the
//     first send to the last first receipt. Latency is a message's first
//     receipt minus the bench's clock when its batch was handed to SendSync.
//     The warm-up makes sure every queue is being popped before measuring.
//   - prefill: create the subscription and pause it, send the -dn
//     messages, resume it, and measure from the first receipt to the last:
//     the gateway drains a backlog. No latency: every message waited for
//     the subscription.
//
// Messages are sent in batches with a UNIQ_KEY of the bench's own (batch
// members get none from the client). It is the ce-id in both modes; the
// endpoint counts distinct ce-ids, and repeated ones as duplicates.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// deliverSettings are the delivery benchmark's flags.
type deliverSettings struct {
	n, size, conc, queues, batch, senders, rate, rounds int
	warm                                                int
	method                                              string
	timeout                                             time.Duration
}

// warmUpJITShare: the warm-up ends once the broker's JIT compiler threads
// used less than this share of its CPU over a round.
const warmUpJITShare = 0.20

// warmUpBroker delivers rounds of -dn messages (dedup on, not reported)
// until the broker's JIT compiler threads used less than warmUpJITShare of
// its CPU over a round, or -dwarm messages were delivered. A broker started
// for the bench spends its first minutes compiling, and its compiler
// threads count as its CPU: over the first 40,000 deliveries of a fresh
// broker they used 3 s of CPU (75 µs per delivery, more than the broker's
// own work once compiled).
func warmUpBroker(ctx context.Context, s settings, gw *gateway, key string, p rocketmq.Producer, base float64) error {
	ws := s
	ws.profileDir = ""
	var trail []string
	for done := 0; done < s.dl.warm; done += ws.dl.n {
		ws.dl.n = min(s.dl.n, s.dl.warm-done)
		jit := jitCPU(s.stack.broker)
		r, err := deliverMode(ctx, ws, gw, key, p, dedupMode{"warm-up", "message_id"}, 0, base)
		if err == nil {
			err = r.err
		}
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		jit = jitCPU(s.stack.broker) - jit
		if r.got == 0 || r.cpu.broker <= 0 {
			return fmt.Errorf("warm-up: %d delivered, broker CPU %s", r.got, r.cpu.broker)
		}
		share := float64(jit) / float64(r.cpu.broker)
		trail = append(trail, fmt.Sprintf("%s (JIT %.0f%%)", fmtMicros(r.cpu.broker/time.Duration(r.got)), 100*share))
		fmt.Fprintf(os.Stderr, "bench: warm-up round %d: %.0f msg/s, broker %s per message, %.0f%% of it compiling\n",
			len(trail), r.throughput, fmtMicros(r.cpu.broker/time.Duration(r.got)), 100*share)
		if share < warmUpJITShare {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "bench: warm-up: broker CPU per message %s\n", strings.Join(trail, " → "))
	return nil
}

// register defines the delivery benchmark's flags on fs.
func (d *deliverSettings) register(fs *flag.FlagSet) {
	fs.IntVar(&d.n, "dn", 60000, "deliveries: messages per mode (a window of 20,000, about 2 s, measured ~15% slower: its start and tail run below full speed)")
	fs.IntVar(&d.size, "dsize", 256, "deliveries: message body bytes")
	fs.IntVar(&d.conc, "dconc", 32, "deliveries: the subscription's concurrency (1..64)")
	fs.IntVar(&d.queues, "dqueues", 8, "deliveries: queues of each mode's topic")
	fs.IntVar(&d.batch, "dbatch", 64, "deliveries: messages per native batch send")
	fs.IntVar(&d.senders, "dsenders", 4, "deliveries: goroutines sending batches")
	fs.IntVar(&d.rate, "drate", 0, "deliveries: messages per second to send; 0 sends as fast as possible")
	fs.IntVar(&d.warm, "dwarm", 600000, "deliveries: at most this many messages delivered (dedup on, not reported) before the measured rounds, in warm-up rounds of -dn until the broker's JIT compiler threads use under 20% of its CPU over a round; 0 skips it")
	fs.IntVar(&d.rounds, "drounds", 1, "deliveries: rounds of (dedup on, dedup off); even rounds run them the other way round")
	fs.StringVar(&d.method, "dmethod", "live", "deliveries: live (subscribe, warm up, send; first send → last receipt) or prefill (send, subscribe; first → last receipt)")
	fs.DurationVar(&d.timeout, "dtimeout", 2*time.Minute, "deliveries: how long a mode may take until every message arrived")
}

// validate lists every bad delivery flag.
func (d *deliverSettings) validate() error {
	var bad []string
	check := func(ok bool, msg string) {
		if !ok {
			bad = append(bad, msg)
		}
	}
	check(d.n >= 1, "-dn must be at least 1")
	check(d.size >= 1, "-dsize must be at least 1")
	check(d.conc >= 1 && d.conc <= 64, "-dconc must be 1..64")
	check(d.queues >= 1, "-dqueues must be at least 1")
	check(d.batch >= 1, "-dbatch must be at least 1")
	check(d.senders >= 1, "-dsenders must be at least 1")
	check(d.rate >= 0, "-drate must not be negative")
	check(d.rounds >= 1, "-drounds must be at least 1")
	check(d.warm >= 0, "-dwarm must be at least 0")
	check(d.method == "live" || d.method == "prefill", "-dmethod must be live or prefill")
	check(d.timeout > 0, "-dtimeout must be positive")
	if len(bad) > 0 {
		return fmt.Errorf("bad delivery flags: %s", strings.Join(bad, "; "))
	}
	return nil
}

// dedupMode is one subscription dedup setting under test.
type dedupMode struct {
	name   string
	source string // the subscription's dedupKey.source
}

// deliverResult is one mode in one round.
type deliverResult struct {
	mode       string
	round      int
	subID      string
	sent, got  int
	dups       int
	warmups    int
	sendTime   time.Duration   // first send → last send answered
	elapsed    time.Duration   // the measured window (see -dmethod)
	startup    time.Duration   // prefill: subscription created → first receipt
	lat        []time.Duration // sorted; live only
	throughput float64
	counts     map[string]float64 // zeroloss_deliveries_total by outcome
	err        error              // why the mode did not complete
	// cpu is what each process used from the window's start until every
	// message arrived: where the machine's cores went.
	cpu cpuSample
	// engine is what the gateway's delivery engine did over the window.
	engine engineCounts
}

// engineCounts are the delivery engine's broker requests (its counters on
// /metrics): how many messages each POP and each ack request carried.
type engineCounts struct {
	pops, popped, ackRequests, acks float64
}

// readEngineCounts reads the delivery engine's counters; a counter not
// yet on /metrics (nothing counted) reads 0.
func readEngineCounts(ctx context.Context, c *http.Client, base string) engineCounts {
	v := func(name string) float64 {
		f, _ := metricValue(ctx, c, base, name)
		return f
	}
	return engineCounts{
		pops: v(`zeroloss_delivery_pops_total{result="messages"}`) + v(`zeroloss_delivery_pops_total{result="empty"}`) +
			v(`zeroloss_delivery_pops_total{result="error"}`),
		popped: v("zeroloss_delivery_popped_messages_total"), ackRequests: v("zeroloss_delivery_ack_requests_total"),
		acks: v("zeroloss_delivery_acks_total"),
	}
}

func (a engineCounts) sub(b engineCounts) engineCounts {
	return engineCounts{pops: a.pops - b.pops, popped: a.popped - b.popped, ackRequests: a.ackRequests - b.ackRequests, acks: a.acks - b.acks}
}

// endpoint is one mode's webhook: it answers 200 at once and records each
// measured message's first receipt by webhook-id.
type endpoint struct {
	srv    *httptest.Server
	index  map[string]int // measured message id → index; fixed before the server starts
	recvAt []atomic.Int64 // first receipt per index, Unix ns; 0 until then
	got    atomic.Int64   // distinct measured messages received
	dups   atomic.Int64   // repeated receipts of measured messages
	all    chan struct{}  // closed when every measured message arrived

	mu    sync.Mutex
	other map[string]bool // other webhook-ids received (warm-up messages)
}

func newEndpoint(ids []string) *endpoint {
	e := &endpoint{index: make(map[string]int, len(ids)), recvAt: make([]atomic.Int64, len(ids)),
		all: make(chan struct{}), other: map[string]bool{}}
	for i, id := range ids {
		e.index[id] = i
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	_, _ = io.Copy(io.Discard, r.Body)
	// The message id (ce-id): the webhook-id of a native producer's
	// message is its id and born time (push.DefaultDedupID).
	id := r.Header.Get("ce-id")
	if i, ok := e.index[id]; ok {
		if e.recvAt[i].CompareAndSwap(0, now) {
			if e.got.Add(1) == int64(len(e.recvAt)) {
				close(e.all)
			}
		} else {
			e.dups.Add(1)
		}
	} else {
		e.mu.Lock()
		e.other[id] = true
		e.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// seen reports whether a message that is not measured (a warm-up) arrived.
func (e *endpoint) seen(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.other[id]
}

// benchDeliver measures deliveries with dedup on and off, -drounds times,
// and prints the table.
func benchDeliver(ctx context.Context, s settings, gw *gateway, key string) error {
	p, err := rocketmq.NewProducer(producer.WithNameServer([]string{s.namesrv}), producer.WithGroupName("bench-deliver"),
		producer.WithInstanceName("bench-deliver"), producer.WithRetry(2), producer.WithSendMsgTimeout(3*time.Second))
	if err != nil {
		return fmt.Errorf("new native producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("start native producer: %w", err)
	}
	defer func() { _ = p.Shutdown() }()

	// The subscriptions the gateway delivers before any mode: each mode
	// waits for the gauge to be back there (the previous mode's
	// subscription gone, its own paused) before it relies on it.
	base, err := metricValue(ctx, &http.Client{Timeout: 30 * time.Second}, gw.url, "zeroloss_delivery_subscriptions")
	if err != nil {
		return err
	}
	modes := []dedupMode{{"dedup on", "message_id"}, {"dedup off", "none"}}
	if s.dl.warm > 0 {
		if err := warmUpBroker(ctx, s, gw, key, p, base); err != nil {
			return err
		}
	}
	var (
		results    []*deliverResult
		incomplete []error
	)
	for round := 1; round <= s.dl.rounds; round++ {
		order := modes
		if round%2 == 0 {
			order = []dedupMode{modes[1], modes[0]}
		}
		for _, m := range order {
			r, err := deliverMode(ctx, s, gw, key, p, m, round, base)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", m.name, round, err)
			}
			if r.err != nil {
				fmt.Fprintf(os.Stderr, "bench: deliveries %s round %d: %v\n", m.name, round, r.err)
				incomplete = append(incomplete, fmt.Errorf("%s, round %d: %w", m.name, round, r.err))
			}
			results = append(results, r)
		}
	}
	deliverReport(os.Stdout, results, s.dl)
	return errors.Join(incomplete...)
}

// deliverMode runs one mode: a topic, an endpoint and a subscription of its
// own. It returns an error when the setup failed, and a result whose err is
// set when not every message arrived within -dtimeout.
func deliverMode(ctx context.Context, s settings, gw *gateway, key string, p rocketmq.Producer, m dedupMode, round int, base float64) (*deliverResult, error) {
	d := s.dl
	topic := "bench-dl-" + randHex(4)
	if err := createTopic(ctx, broker.NewAdmin([]string{s.namesrv}), topic, d.queues); err != nil {
		return nil, err
	}

	// Ids in the format of the client's own (32 hex digits), unique per run.
	prefix := strings.ToUpper(randHex(10))
	ids := make([]string, d.n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%012X", prefix, i)
	}
	e := newEndpoint(ids)
	defer e.srv.Close()
	body := make([]byte, d.size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	sentAt := make([]int64, d.n)
	r := &deliverResult{mode: m.name, round: round, sent: d.n}

	setup := &http.Client{Timeout: 30 * time.Second}
	subscribe := func() error {
		req := fmt.Appendf(nil, `{"name":"bench-deliver","topic":%q,"endpoint":%q,"timeoutMs":5000,"maxAttempts":3,"concurrency":%d,"dedupKey":{"source":%q}}`,
			topic, e.srv.URL+"/hook", d.conc, m.source)
		var sub struct {
			ID string `json:"id"`
		}
		if err := post(ctx, setup, gw.url+"/v1/subscriptions", key, req, http.StatusCreated, &sub); err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		r.subID = sub.ID
		return nil
	}
	defer func() {
		if r.subID == "" {
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := deleteSubscription(dctx, setup, gw.url, key, r.subID); err != nil {
			fmt.Fprintf(os.Stderr, "bench: delete subscription %s: %v\n", r.subID, err)
		}
	}()

	fmt.Fprintf(os.Stderr, "bench: deliveries %s round %d (%s, %d messages) …\n", m.name, round, d.method, d.n)
	var (
		start time.Time
		cpu0  cpuSample
		eng0  engineCounts
	)
	switch d.method {
	case "live":
		if err := subscribe(); err != nil {
			return nil, err
		}
		n, err := warmUp(ctx, p, topic, d.queues, e, 60*time.Second)
		r.warmups = n
		if err != nil {
			return nil, err
		}
		eng0 = readEngineCounts(ctx, setup, gw.url)
		cpu0 = sampleCPU(gw.pid(), s.stack)
		start = time.Now()
		if err := sendAll(ctx, p, topic, ids, body, d, sentAt); err != nil {
			return nil, err
		}
		r.sendTime = time.Since(start)
	default: // prefill
		// The previous mode's subscription gone first: else the gauge
		// below could read "back to base" with this one running.
		if _, err := waitMetric(ctx, setup, gw.url, "zeroloss_delivery_subscriptions", time.Minute,
			func(v float64) bool { return v == base }); err != nil {
			return nil, fmt.Errorf("previous subscription: %w", err)
		}
		if err := subscribe(); err != nil {
			return nil, err
		}
		if err := post(ctx, setup, gw.url+"/v1/subscriptions/"+r.subID+"/pause", key, nil, http.StatusOK, nil); err != nil {
			return nil, fmt.Errorf("pause subscription: %w", err)
		}
		// Send only once the gateway stopped delivering it: a pop in
		// flight when the pause lands may take messages that then wait
		// out their invisible time (30 s) before anyone gets them.
		if _, err := waitMetric(ctx, setup, gw.url, "zeroloss_delivery_subscriptions", time.Minute,
			func(v float64) bool { return v == base }); err != nil {
			return nil, fmt.Errorf("pause subscription: %w", err)
		}
		// The gauge is refreshed every second: read it again after two,
		// in case the first reading came before the run even started.
		time.Sleep(2 * time.Second)
		if _, err := waitMetric(ctx, setup, gw.url, "zeroloss_delivery_subscriptions", time.Minute,
			func(v float64) bool { return v == base }); err != nil {
			return nil, fmt.Errorf("pause subscription: %w", err)
		}
		t0 := time.Now()
		if err := sendAll(ctx, p, topic, ids, body, d, sentAt); err != nil {
			return nil, err
		}
		r.sendTime = time.Since(t0)
		eng0 = readEngineCounts(ctx, setup, gw.url)
		cpu0 = sampleCPU(gw.pid(), s.stack)
		start = time.Now()
		if err := post(ctx, setup, gw.url+"/v1/subscriptions/"+r.subID+"/resume", key, nil, http.StatusOK, nil); err != nil {
			return nil, fmt.Errorf("resume subscription: %w", err)
		}
	}

	var prof chan error
	if s.profileDir != "" {
		// The gateway's CPU over the first seconds of the window (the
		// profile's length cannot follow the window's end).
		prof = make(chan error, 1)
		name := fmt.Sprintf("deliver-%s-r%d", strings.ReplaceAll(m.name, " ", "-"), round)
		go func() { prof <- profileGateway(ctx, s.gwPprofAddr, s.profileDir, name, 4*time.Second) }()
	}

	timer := time.NewTimer(d.timeout)
	defer timer.Stop()
	select {
	case <-e.all:
		r.cpu = sampleCPU(gw.pid(), s.stack).sub(cpu0)
		r.engine = readEngineCounts(ctx, setup, gw.url).sub(eng0)
	case <-timer.C:
		r.err = fmt.Errorf("%d of %d messages arrived within %s", e.got.Load(), d.n, d.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Late duplicates, and the gateway's counters (counted after the answer).
	time.Sleep(500 * time.Millisecond)
	if prof != nil {
		if err := <-prof; err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		}
	}

	var first, last int64
	for i := range e.recvAt {
		at := e.recvAt[i].Load()
		if at == 0 {
			continue
		}
		if first == 0 || at < first {
			first = at
		}
		last = max(last, at)
		if d.method == "live" {
			r.lat = append(r.lat, time.Duration(at-sentAt[i]))
		}
	}
	slices.Sort(r.lat)
	r.got, r.dups = int(e.got.Load()), int(e.dups.Load())
	if r.got > 0 {
		if d.method == "live" {
			r.elapsed = time.Duration(last - start.UnixNano())
		} else {
			r.elapsed = time.Duration(last - first)
			r.startup = time.Duration(first - start.UnixNano())
		}
		if r.elapsed > 0 {
			r.throughput = float64(r.got) / r.elapsed.Seconds()
		}
	}
	mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
	defer mcancel()
	counts, err := deliveryCounts(mctx, setup, gw.url, r.subID)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: read /metrics: %v\n", err)
	}
	r.counts = counts
	return r, nil
}

// warmUp sends one message per queue to topic (the producer picks queues
// round robin), again every 2 s, until one from every queue reached e:
// then the gateway's consumer owns every queue. It returns how many
// warm-up messages it sent.
func warmUp(ctx context.Context, p rocketmq.Producer, topic string, queues int, e *endpoint, within time.Duration) (int, error) {
	prefix := "W" + strings.ToUpper(randHex(10))
	queueOf := map[string]int{}
	deadline := time.Now().Add(within)
	for {
		for range queues {
			id := fmt.Sprintf("%s%011X", prefix, len(queueOf))
			msg := primitive.NewMessage(topic, []byte("warm-up"))
			msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, id)
			res, err := p.SendSync(ctx, msg)
			if err == nil && res.Status != primitive.SendOK {
				err = fmt.Errorf("status %d", res.Status)
			}
			if err != nil {
				return len(queueOf), fmt.Errorf("send warm-up message: %w", err)
			}
			queueOf[id] = -1
			if res.MessageQueue != nil {
				queueOf[id] = res.MessageQueue.QueueId
			}
		}
		next := time.Now().Add(2 * time.Second)
		for time.Now().Before(next) {
			covered := map[int]bool{}
			for id, q := range queueOf {
				if e.seen(id) {
					covered[q] = true
				}
			}
			if len(covered) >= queues {
				return len(queueOf), nil
			}
			if time.Now().After(deadline) {
				return len(queueOf), fmt.Errorf("warm-up: messages from %d of %d queues arrived within %s", len(covered), queues, within)
			}
			select {
			case <-ctx.Done():
				return len(queueOf), ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// sendAll sends a message with each of ids as its UNIQ_KEY to topic, in
// batches of -dbatch from -dsenders goroutines, at -drate if set, and notes
// when each batch was handed to SendSync in sentAt (Unix ns). It stops at
// the first failed send.
func sendAll(ctx context.Context, p rocketmq.Producer, topic string, ids []string, body []byte, d deliverSettings, sentAt []int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := (len(ids) + d.batch - 1) / d.batch
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, d.senders)
	)
	start := time.Now()
	for range d.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= batches || ctx.Err() != nil {
					return
				}
				lo, hi := k*d.batch, min((k+1)*d.batch, len(ids))
				if d.rate > 0 {
					at := start.Add(time.Duration(lo) * time.Second / time.Duration(d.rate))
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Until(at)):
					}
				}
				msgs := make([]*primitive.Message, 0, hi-lo)
				for _, id := range ids[lo:hi] {
					msg := primitive.NewMessage(topic, body)
					msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, id)
					msgs = append(msgs, msg)
				}
				now := time.Now().UnixNano()
				for i := lo; i < hi; i++ {
					sentAt[i] = now
				}
				res, err := p.SendSync(ctx, msgs...)
				if err == nil && res.Status != primitive.SendOK {
					err = fmt.Errorf("status %d", res.Status)
				}
				if err != nil {
					errs <- fmt.Errorf("send messages %d..%d: %w", lo, hi-1, err)
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// deleteSubscription deletes the subscription id.
func deleteSubscription(ctx context.Context, c *http.Client, base, key, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/v1/subscriptions/"+id, nil)
	if err != nil {
		return fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// deliveryCounts reads zeroloss_deliveries_total of subscription id from
// the gateway's /metrics, by outcome.
func deliveryCounts(ctx context.Context, c *http.Client, base, id string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	const name = "zeroloss_deliveries_total{"
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		var sub, outcome string
		for _, l := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(l, "=")
			switch v = strings.Trim(v, `"`); k {
			case "subscription":
				sub = v
			case "outcome":
				outcome = v
			}
		}
		if sub != id {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		out[outcome] = f
	}
	return out, nil
}

// perMessage is the measured window per message received.
func (r *deliverResult) perMessage() time.Duration {
	if r.got == 0 {
		return 0
	}
	return r.elapsed / time.Duration(r.got)
}

// deliverReport prints one row per mode and round, the gateway's delivery
// counters, and the cost of dedup per message over all rounds.
func deliverReport(w io.Writer, rs []*deliverResult, d deliverSettings) {
	window := "first send → last receipt"
	if d.method == "prefill" {
		window = "first receipt → last receipt, backlog sent before subscribing"
	}
	rate := "as fast as possible"
	if d.rate > 0 {
		rate = fmt.Sprintf("at %d msg/s", d.rate)
	}
	fmt.Fprintf(w, "\ndeliveries: RocketMQ → gateway → webhook on 127.0.0.1 (answers 200 at once); %d messages of %d B per row, sent in batches of %d %s;\n"+
		"topic of %d queues, subscription concurrency %d, maxAttempts 3; method %s (window: %s); one gateway, same broker, same run\n",
		d.n, d.size, d.batch, rate, d.queues, d.conc, d.method, window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "mode\tround\tsent\treceived\tduplicates\tsend time\twindow\tmsg/s\tper msg\tsend→receipt p50\tp99\t"
	if d.method == "prefill" {
		head = "mode\tround\tsent\treceived\tduplicates\tsend time\tsubscribed→first receipt\twindow\tmsg/s\tper msg\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rs {
		if d.method == "prefill" {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%.0f\t%s\t\n", r.mode, r.round, r.sent, r.got, r.dups,
				fmtDur(r.sendTime), fmtDur(r.startup), fmtDur(r.elapsed), r.throughput, fmtMicros(r.perMessage()))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%.0f\t%s\t%s\t%s\t\n", r.mode, r.round, r.sent, r.got, r.dups,
			fmtDur(r.sendTime), fmtDur(r.elapsed), r.throughput, fmtMicros(r.perMessage()), fmtDur(pct(r.lat, .5)), fmtDur(pct(r.lat, .99)))
	}
	tw.Flush()

	fmt.Fprintln(w, "CPU per message received, over the window (bench = this process: the native sender and the endpoint; machine = all cores, whatever runs):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tround\t"+cpuColumns+"pops\tmessages/pop\tack requests\tacks/request\t")
	for _, r := range rs {
		if r.got == 0 || r.cpu.machineAll == 0 {
			continue
		}
		ratio := func(a, b float64) string {
			if b == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", a/b)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s%.0f\t%s\t%.0f\t%s\t\n", r.mode, r.round, cpuCells(r.cpu, r.got),
			r.engine.pops, ratio(r.engine.popped, r.engine.pops), r.engine.ackRequests, ratio(r.engine.acks, r.engine.ackRequests))
	}
	tw.Flush()

	fmt.Fprintln(w, "zeroloss_deliveries_total by outcome (from the gateway's /metrics; includes warm-up messages):")
	for _, r := range rs {
		outcomes := make([]string, 0, len(r.counts))
		for o := range r.counts {
			outcomes = append(outcomes, o)
		}
		sort.Strings(outcomes)
		var parts []string
		for _, o := range outcomes {
			parts = append(parts, fmt.Sprintf("%s=%.0f", o, r.counts[o]))
		}
		fmt.Fprintf(w, "  %s, round %d, %s (%d warm-up): %s\n", r.mode, r.round, r.subID, r.warmups, strings.Join(parts, " "))
	}

	if d.rate > 0 && d.method == "live" {
		fmt.Fprintln(w, "dedup cost: not computed at a fixed -drate (msg/s is the send rate); compare the latencies")
		return
	}
	// Over all rounds: messages received and time spent, per mode.
	type total struct {
		got     int
		elapsed time.Duration
	}
	totals := map[string]*total{}
	for _, r := range rs {
		if r.err != nil || r.got == 0 {
			continue
		}
		t := totals[r.mode]
		if t == nil {
			t = &total{}
			totals[r.mode] = t
		}
		t.got += r.got
		t.elapsed += r.elapsed
	}
	on, off := totals["dedup on"], totals["dedup off"]
	if on == nil || off == nil {
		fmt.Fprintln(w, "dedup cost: not computed (a mode did not complete)")
		return
	}
	onPer, offPer := on.elapsed/time.Duration(on.got), off.elapsed/time.Duration(off.got)
	onRate, offRate := float64(on.got)/on.elapsed.Seconds(), float64(off.got)/off.elapsed.Seconds()
	fmt.Fprintf(w, "dedup on: %.0f msg/s, %s per message; dedup off: %.0f msg/s, %s per message\n",
		onRate, fmtMicros(onPer), offRate, fmtMicros(offPer))
	fmt.Fprintf(w, "dedup cost: %+.1fµs per message (wall time at concurrency %d, all rounds); on/off msg/s %.2fx\n",
		float64((onPer-offPer).Nanoseconds())/1000, d.conc, onRate/offRate)
}

// fmtMicros formats d in microseconds.
func fmtMicros(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d.Nanoseconds())/1000)
}
