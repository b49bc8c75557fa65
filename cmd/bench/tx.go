package main

// The transaction benchmark (-tx): in one run, on one topic created for it,
// the native rocketmq-client-go transaction producer (its listener commits
// at once) against the gateway's POST /v1/transactions + POST
// /v1/transactions/{id}/commit. A native push consumer on that topic stamps
// every message when it arrives; a transaction ends when its message (matched
// by UNIQ_KEY, the gateway's messageId) was received, so "in flight" counts
// transactions begun and not yet consumed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// The gateway's targets (issue 8): commit answered → consumable at p99,
// and begin → commit answered at p50.
const (
	commitToConsumedGoal = 10 * time.Millisecond
	beginToCommitGoal    = 5 * time.Millisecond
	// vsNativeGoal is the gateway's tx/s over native's at 16-64 in flight.
	vsNativeGoal = 0.7
)

// txTiming is one transaction's timeline.
type txTiming struct {
	begin   time.Duration // begin → begin answered (native: the whole SendMessageInTransaction)
	commit  time.Duration // begin → commit answered
	visible time.Duration // commit answered → received by the consumer
	total   time.Duration // begin → received by the consumer
}

// txResult is one mode at one concurrency in one round.
type txResult struct {
	mode       string
	conc       int
	round      int
	n          int
	errs       int
	firstErr   error
	elapsed    time.Duration
	throughput float64
	// cpu is the CPU time of the gateway, broker, Redis, this process
	// (the load generator and, in native rows, the native client) and the
	// machine over the row.
	cpu cpuSample
	// Sorted latencies of the transactions that were consumed.
	begin, commit, visible, total []time.Duration
}

func (r *txResult) add(t txTiming) {
	r.begin = append(r.begin, t.begin)
	r.commit = append(r.commit, t.commit)
	r.visible = append(r.visible, t.visible)
	r.total = append(r.total, t.total)
}

func (r *txResult) finish() {
	slices.Sort(r.begin)
	slices.Sort(r.commit)
	slices.Sort(r.visible)
	slices.Sort(r.total)
	r.n = len(r.total)
	r.throughput = float64(r.n) / r.elapsed.Seconds()
}

// arrivals pairs each message the consumer received with the transaction
// waiting for it, whichever comes first (a message may arrive before its
// sender has seen the commit answer).
type arrivals struct {
	mu      sync.Mutex
	first   map[string]time.Time      // message id → first receipt
	waiting map[string]chan time.Time // message id → its waiting transaction
}

func newArrivals() *arrivals {
	return &arrivals{first: map[string]time.Time{}, waiting: map[string]chan time.Time{}}
}

// received records that the message with id arrived at t; redeliveries are
// ignored.
func (a *arrivals) received(id string, t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, seen := a.first[id]; seen || id == "" {
		return
	}
	a.first[id] = t
	if ch, ok := a.waiting[id]; ok {
		ch <- t
		delete(a.waiting, id)
	}
}

// wait returns when the message with id first arrived, waiting up to
// within for it.
func (a *arrivals) wait(ctx context.Context, id string, within time.Duration) (time.Time, error) {
	a.mu.Lock()
	if t, ok := a.first[id]; ok {
		a.mu.Unlock()
		return t, nil
	}
	ch := make(chan time.Time, 1)
	a.waiting[id] = ch
	a.mu.Unlock()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case t := <-ch:
		return t, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.waiting, id)
	if t, ok := a.first[id]; ok {
		return t, nil
	}
	if ctx.Err() != nil {
		return time.Time{}, fmt.Errorf("message %s: %w", id, ctx.Err())
	}
	return time.Time{}, fmt.Errorf("message %s not consumed within %s", id, within)
}

// commitListener is the native producer's local transaction: it always
// commits, also when the broker checks back (its one-way commit was lost).
type commitListener struct{}

// ExecuteLocalTransaction commits every transaction.
func (commitListener) ExecuteLocalTransaction(*primitive.Message) primitive.LocalTransactionState {
	return primitive.CommitMessageState
}

// CheckLocalTransaction answers a check-back with commit.
func (commitListener) CheckLocalTransaction(*primitive.MessageExt) primitive.LocalTransactionState {
	return primitive.CommitMessageState
}

// benchTx measures native transactions against the gateway's on a topic of
// their own, at every -txc concurrency, and prints the table.
func benchTx(ctx context.Context, s settings, gw *gateway, key string) error {
	topic := "bench-tx-" + randHex(4)
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := broker.NewAdmin([]string{s.namesrv}).CreateTopic(actx, "DefaultCluster", topic, 8); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}

	arr := newArrivals()
	c, err := startTxConsumer(s.namesrv, topic, arr)
	if err != nil {
		return err
	}
	defer func() { _ = c.Shutdown() }()

	tp, err := rocketmq.NewTransactionProducer(commitListener{}, producer.WithNameServer([]string{s.namesrv}),
		producer.WithGroupName("bench-native-tx"), producer.WithInstanceName("bench-native-tx"),
		producer.WithRetry(2), producer.WithSendMsgTimeout(3*time.Second))
	if err != nil {
		return fmt.Errorf("new native transaction producer: %w", err)
	}
	if err := tp.Start(); err != nil {
		return fmt.Errorf("start native transaction producer: %w", err)
	}
	defer func() { _ = tp.Shutdown() }()

	// The check webhook: every transaction is committed through the API, so
	// a check-back only concerns a failed one, and that stays undecided.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"decision":"unknown"}`)
	}))
	defer hook.Close()
	setup := &http.Client{Timeout: 30 * time.Second}
	prdReq, _ := json.Marshal(map[string]any{"name": "bench", "checkUrl": hook.URL + "/check", "timeoutMs": 2000})
	var prd struct {
		ID string `json:"id"`
	}
	if err := post(ctx, setup, gw.url+"/v1/producers", key, prdReq, http.StatusCreated, &prd); err != nil {
		return fmt.Errorf("register producer: %w", err)
	}

	body := bytes.Repeat([]byte("x"), s.size)
	beginReq, _ := json.Marshal(map[string]string{"producer": prd.ID, "topic": topic, "body": string(body)})

	native := func(ctx context.Context) (txTiming, error) {
		msg := primitive.NewMessage(topic, body)
		id := primitive.CreateUniqID()
		msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, id)
		t0 := time.Now()
		res, err := tp.SendMessageInTransaction(ctx, msg)
		switch {
		case err != nil:
			return txTiming{}, fmt.Errorf("send in transaction: %w", err)
		case res.Status != primitive.SendOK:
			return txTiming{}, fmt.Errorf("send in transaction: status %d", res.Status)
		case res.State != primitive.CommitMessageState:
			return txTiming{}, fmt.Errorf("send in transaction: local state %d", res.State)
		}
		t1 := time.Now()
		at, err := arr.wait(ctx, id, s.txWait)
		if err != nil {
			return txTiming{}, err
		}
		return txTiming{begin: t1.Sub(t0), commit: t1.Sub(t0), visible: at.Sub(t1), total: at.Sub(t0)}, nil
	}

	// The consumer has its queues and the producer its route once one
	// transaction went all the way through.
	fmt.Fprintln(os.Stderr, "bench: waiting for the transaction consumer …")
	for attempt := 1; ; attempt++ {
		_, err := native(ctx)
		if err == nil {
			break
		}
		if attempt == 3 || ctx.Err() != nil {
			return fmt.Errorf("consumer not ready: %w", err)
		}
	}

	// viaGateway returns a gateway transaction made with client.
	viaGateway := func(client *http.Client) func(ctx context.Context) (txTiming, error) {
		return func(ctx context.Context) (txTiming, error) {
			var tx struct {
				TransactionID string `json:"transactionId"`
				MessageID     string `json:"messageId"`
			}
			t0 := time.Now()
			if err := post(ctx, client, gw.url+"/v1/transactions", key, beginReq, http.StatusCreated, &tx); err != nil {
				return txTiming{}, fmt.Errorf("begin: %w", err)
			}
			tb := time.Now()
			if err := post(ctx, client, gw.url+"/v1/transactions/"+tx.TransactionID+"/commit", key, nil, http.StatusOK, nil); err != nil {
				return txTiming{}, fmt.Errorf("commit %s: %w", tx.TransactionID, err)
			}
			t1 := time.Now()
			at, err := arr.wait(ctx, tx.MessageID, s.txWait)
			if err != nil {
				return txTiming{}, fmt.Errorf("transaction %s: %w", tx.TransactionID, err)
			}
			return txTiming{begin: tb.Sub(t0), commit: t1.Sub(t0), visible: at.Sub(t1), total: at.Sub(t0)}, nil
		}
	}
	if s.txWarm > 0 {
		warmUpTx(ctx, s, native, viaGateway)
	}

	var results []*txResult
	for _, conc := range s.txConcs {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
		type mode struct {
			name string
			f    func(context.Context) (txTiming, error)
		}
		for round := 1; round <= max(1, s.txRounds); round++ {
			modes := []mode{{"native", native}, {"gateway", viaGateway(client)}}
			if round%2 == 0 { // neither mode always runs right after the other loaded the broker
				modes[0], modes[1] = modes[1], modes[0]
			}
			for _, m := range modes {
				results = append(results, txRow(ctx, s, gw, m.name, m.f, conc, round))
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		client.CloseIdleConnections()
	}
	txReport(os.Stdout, results, s)
	return nil
}

// txRow measures one mode's row: a warm-up of -warm, discarded, then -d
// (or -txn transactions) with f at conc in flight.
func txRow(ctx context.Context, s settings, gw *gateway, mode string, f func(context.Context) (txTiming, error), conc, round int) *txResult {
	fmt.Fprintf(os.Stderr, "bench: transactions %s c=%d round %d …\n", mode, conc, round)
	if s.warm > 0 {
		txLoad(ctx, conc, s.warm, 0, f) // warm-up, discarded
	}
	var prof chan error
	if s.profileDir != "" && mode != "native" && s.txCount == 0 {
		prof = make(chan error, 1)
		name := fmt.Sprintf("tx-%s-c%d-r%d", mode, conc, round)
		go func() { prof <- profileGateway(ctx, s.gwPprofAddr, s.profileDir, name, s.dur) }()
	}
	before := sampleCPU(gw.pid(), s.stack)
	r := txLoad(ctx, conc, s.dur, s.txCount, f)
	r.cpu = sampleCPU(gw.pid(), s.stack).sub(before)
	r.mode, r.conc, r.round = mode, conc, round
	if prof != nil {
		if err := <-prof; err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}
	if r.errs > 0 {
		fmt.Fprintf(os.Stderr, "bench: transactions %s c=%d: %d errors, first: %v\n", mode, conc, r.errs, r.firstErr)
	}
	return r
}

// warmUpTx runs native and gateway transactions, 2 s each way at the
// highest -txc, until the broker's JIT compiler threads used less than
// warmUpJITShare of its CPU over a round, or for -txwarm: the first row
// measured otherwise pays for compiling the broker's transaction paths
// (a fresh broker spent 1,265 µs per native transaction in the first row,
// 446 µs once compiled), which skews the ratios towards whichever mode
// runs second.
func warmUpTx(ctx context.Context, s settings, native func(context.Context) (txTiming, error),
	viaGateway func(*http.Client) func(context.Context) (txTiming, error)) {
	conc := slices.Max(s.txConcs)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	var trail []string
	for deadline := time.Now().Add(s.txWarm); time.Now().Before(deadline) && ctx.Err() == nil; {
		jit, broker := jitCPU(s.stack.broker), procCPU(s.stack.broker)
		for _, r := range []*txResult{txLoad(ctx, conc, 2*time.Second, 0, native), txLoad(ctx, conc, 2*time.Second, 0, viaGateway(client))} {
			if r.n == 0 && r.errs > 0 {
				fmt.Fprintf(os.Stderr, "bench: transactions warm-up: all %d failed, first: %v\n", r.errs, r.firstErr)
				return
			}
		}
		jit, broker = jitCPU(s.stack.broker)-jit, procCPU(s.stack.broker)-broker
		if broker <= 0 {
			break // the broker's CPU is not readable: nothing to wait for
		}
		share := float64(jit) / float64(broker)
		trail = append(trail, fmt.Sprintf("%.0f%%", 100*share))
		if share < warmUpJITShare {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "bench: transactions warm-up: broker JIT share per round %s\n", strings.Join(trail, " → "))
}

// startTxConsumer starts a native push consumer (clustering, a group and a
// client of its own, from the first offset) that records every message of
// topic in arr by its UNIQ_KEY.
func startTxConsumer(namesrv, topic string, arr *arrivals) (rocketmq.PushConsumer, error) {
	group := "bench-tx-" + randHex(4)
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{namesrv}),
		consumer.WithGroupName(group),
		consumer.WithInstance(group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
		consumer.WithConsumerModel(consumer.Clustering),
	)
	if err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		now := time.Now()
		for _, m := range msgs {
			arr.received(m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex), now)
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", topic, err)
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start consumer: %w", err)
	}
	return c, nil
}

// txLoad runs c workers, each running one transaction after the other with
// f, for d or, if count > 0, until count transactions were started, and
// collects the timings of those that were consumed.
func txLoad(ctx context.Context, c int, d time.Duration, count int, f func(context.Context) (txTiming, error)) *txResult {
	var (
		mu      sync.Mutex
		r       = &txResult{}
		started atomic.Int64
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	more := func() bool {
		switch {
		case ctx.Err() != nil:
			return false
		case count > 0:
			return started.Add(1) <= int64(count)
		}
		return time.Now().Before(deadline)
	}
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				local    []txTiming
				errs     int
				firstErr error
			)
			for more() {
				t, err := f(ctx)
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				local = append(local, t)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range local {
				r.add(t)
			}
			r.errs += errs
			if r.firstErr == nil {
				r.firstErr = firstErr
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.finish()
	return r
}

// post POSTs body (JSON; no body if nil) to url with the API key and, if the
// answer has status want, decodes it into out (unless nil).
func post(ctx context.Context, c *http.Client, url, key string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, rd)
	if err != nil {
		return fmt.Errorf("new request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}

// txReport prints one row per mode and concurrency, with the gateway's
// ratios to native at the same concurrency.
func txReport(w io.Writer, rs []*txResult, s settings) {
	per := s.dur.String() + " per row"
	if s.txCount > 0 {
		per = fmt.Sprintf("%d transactions per row", s.txCount)
	}
	fmt.Fprintf(w, "\ntransactions: body %d B, %s, same broker, same topic, same run; in flight = begun, not yet consumed\n", s.size, per)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tin flight\tround\ttx\terrors\ttx/s\tbegin p50\tbegin→commit p50\tp99\tcommit→consumed p50\tp99\tbegin→consumed p50\tp99\tvs native tx/s\tbegin→consumed p50\tp99\tgateway cpu/tx\t")
	native := nativeRows(rs)
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	for _, r := range rs {
		vsTx, vs50, vs99 := "", "", ""
		if n := native[rowKey{r.conc, r.round}]; n != nil && r.mode != "native" {
			vsTx = ratio(r.throughput, n.throughput)
			vs50 = ratio(float64(pct(r.total, .5)), float64(pct(n.total, .5)))
			vs99 = ratio(float64(pct(r.total, .99)), float64(pct(n.total, .99)))
		}
		cpu := ""
		if r.mode != "native" && r.n > 0 {
			cpu = fmtMicros(r.cpu.gateway / time.Duration(r.n))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.mode, r.conc, r.round, r.n, r.errs, r.throughput,
			fmtDur(pct(r.begin, .5)), fmtDur(pct(r.commit, .5)), fmtDur(pct(r.commit, .99)),
			fmtDur(pct(r.visible, .5)), fmtDur(pct(r.visible, .99)),
			fmtDur(pct(r.total, .5)), fmtDur(pct(r.total, .99)),
			vsTx, vs50, vs99, cpu)
	}
	tw.Flush()
	fmt.Fprintln(w, "native: END_TRANSACTION is one-way, so its commit is when SendMessageInTransaction returned, not a broker answer")

	fmt.Fprintln(w, "CPU per transaction consumed, over the row (bench = this process: the load generator, the consumer and, in native rows, the native producer; machine = all cores, whatever runs):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tin flight\tround\t"+cpuColumns)
	for _, r := range rs {
		if r.n == 0 || r.cpu.machineAll == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.mode, r.conc, r.round, cpuCells(r.cpu, r.n))
	}
	tw.Flush()
	for _, r := range rs {
		if r.mode == "native" || r.n == 0 {
			continue
		}
		verdict := func(d, goal time.Duration) string {
			if d > goal {
				return "missed"
			}
			return "met"
		}
		fmt.Fprintf(w, "%s, %d in flight, round %d: commit→consumed p99 %s, goal ≤ %s: %s; begin→commit p50 %s, goal ≤ %s: %s\n", r.mode, r.conc, r.round,
			fmtDur(pct(r.visible, .99)), commitToConsumedGoal, verdict(pct(r.visible, .99), commitToConsumedGoal),
			fmtDur(pct(r.commit, .5)), beginToCommitGoal, verdict(pct(r.commit, .5), beginToCommitGoal))
	}
	txRatios(w, rs)
}

// txRatios prints, per concurrency, the gateway's tx/s over native's in
// each round, their median and the ratio of those rounds pooled (all their
// transactions over all their row time), against vsNativeGoal.
func txRatios(w io.Writer, rs []*txResult) {
	native := nativeRows(rs)
	var concs []int
	for _, r := range rs {
		if !slices.Contains(concs, r.conc) {
			concs = append(concs, r.conc)
		}
	}
	for _, conc := range concs {
		var (
			ratios []float64
			cells  []string
			n      [2]int           // transactions: native, gateway
			t      [2]time.Duration // row time: native, gateway
		)
		for _, g := range rs {
			nr := native[rowKey{conc, g.round}]
			if g.conc != conc || g.mode == "native" || nr == nil || nr.throughput == 0 {
				continue
			}
			ratios = append(ratios, g.throughput/nr.throughput)
			cells = append(cells, fmt.Sprintf("%.2fx", g.throughput/nr.throughput))
			n[0], n[1] = n[0]+nr.n, n[1]+g.n
			t[0], t[1] = t[0]+nr.elapsed, t[1]+g.elapsed
		}
		if len(ratios) == 0 || n[0] == 0 {
			continue
		}
		med := median(ratios)
		pooled := (float64(n[1]) / t[1].Seconds()) / (float64(n[0]) / t[0].Seconds())
		verdict := "met"
		if med < vsNativeGoal {
			verdict = "missed"
		}
		fmt.Fprintf(w, "gateway vs native tx/s, %d in flight, by round: %s; median %.3fx, rounds pooled %.3fx; goal ≥ %.1fx (median): %s\n",
			conc, strings.Join(cells, " "), med, pooled, vsNativeGoal, verdict)
	}
}

// rowKey names a row's concurrency and round.
type rowKey struct{ conc, round int }

// nativeRows indexes the native rows of rs, the ones each gateway row of
// the same concurrency and round is compared with.
func nativeRows(rs []*txResult) map[rowKey]*txResult {
	native := map[rowKey]*txResult{}
	for _, r := range rs {
		if r.mode == "native" {
			native[rowKey{r.conc, r.round}] = r
		}
	}
	return native
}

// median returns the median of xs (not empty); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
