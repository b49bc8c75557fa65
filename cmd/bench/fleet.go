package main

// The fleet benchmark (-fleet): what many subscriptions cost the gateway
// process, in four phases on one gateway (run it alone, -send=false, so
// that the process's peak is this benchmark's):
//
//  1. baseline: RSS (VmRSS of /proc/PID/status) and goroutines (go_goroutines
//     of /metrics) with no subscription;
//  2. backlog: -fsubs subscriptions on one topic, each created paused; -fn
//     messages of -fsize bytes are sent, so every subscription has them as
//     its backlog; all are resumed at once and the bench measures from the
//     resume to the last delivery: aggregate deliveries/s, and the peak RSS
//     (VmRSS sampled every 100 ms, and VmHWM);
//  3. idle: the backlog subscriptions are deleted, -fidle subscriptions are
//     created on another topic and left idle: RSS and goroutines once the
//     gateway delivers all of them;
//  4. after: all deleted; RSS and goroutines once the gateway delivers none
//     (after -fsettle, for the runtime to give memory back), against the
//     baseline.
//
// The endpoint answers 200 at once; every subscription deduplicates on the
// message id (dedup on).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// fleetSettings are the fleet benchmark's flags.
type fleetSettings struct {
	subs, n, size, idle, conc int
	timeout, settle           time.Duration
}

func (f *fleetSettings) register(fs *flag.FlagSet) {
	fs.IntVar(&f.subs, "fsubs", 100, "fleet: subscriptions with a backlog")
	fs.IntVar(&f.n, "fn", 5000, "fleet: messages sent to their topic (each subscription's backlog)")
	fs.IntVar(&f.size, "fsize", 1024, "fleet: message body bytes")
	fs.IntVar(&f.conc, "fconc", 8, "fleet: each subscription's concurrency")
	fs.IntVar(&f.idle, "fidle", 1000, "fleet: idle subscriptions")
	fs.DurationVar(&f.timeout, "ftimeout", 10*time.Minute, "fleet: how long the backlog may take to be delivered")
	fs.DurationVar(&f.settle, "fsettle", 30*time.Second, "fleet: wait after the last delete before the final RSS")
}

func (f *fleetSettings) validate() error {
	if f.subs < 1 || f.n < 1 || f.size < 1 || f.idle < 0 || f.conc < 1 || f.conc > 64 || f.timeout <= 0 || f.settle < 0 {
		return errors.New("bad fleet flags: -fsubs, -fn, -fsize at least 1; -fidle not negative; -fconc 1..64; -ftimeout positive")
	}
	return nil
}

// procStatus reads VmRSS and VmHWM (bytes) of pid.
func procStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// metricValue reads one unlabelled series from the gateway's /metrics.
func metricValue(ctx context.Context, c *http.Client, base, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// waitMetric polls name until ok accepts it or within passes.
func waitMetric(ctx context.Context, c *http.Client, base, name string, within time.Duration, ok func(float64) bool) (float64, error) {
	deadline := time.Now().Add(within)
	for {
		v, err := metricValue(ctx, c, base, name)
		if err == nil && ok(v) {
			return v, nil
		}
		if time.Now().After(deadline) {
			return v, fmt.Errorf("%s = %v after %s (%v)", name, v, within, err)
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// fleetEndpoint counts deliveries per subscription (path /hook/<i>).
type fleetEndpoint struct {
	srv   *httptest.Server
	per   []atomic.Int64
	total atomic.Int64
	want  int64
	done  chan struct{}
	once  sync.Once
}

func (e *fleetEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/")); err == nil && i >= 0 && i < len(e.per) {
		e.per[i].Add(1)
		if e.total.Add(1) >= e.want {
			e.once.Do(func() { close(e.done) })
		}
	}
	w.WriteHeader(http.StatusOK)
}

func benchFleet(ctx context.Context, s settings, gw *gateway, key string) error {
	f := s.fl
	c := &http.Client{Timeout: 30 * time.Second}
	pid := gw.cmd.Process.Pid
	admin := broker.NewAdmin([]string{s.namesrv})
	say := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench: fleet: "+format+"\n", a...) }

	time.Sleep(2 * time.Second)
	baseRSS, _, err := procStatus(pid)
	if err != nil {
		return err
	}
	baseG, err := goroutines(ctx, c, gw.url)
	if err != nil {
		return err
	}
	// Subscriptions the store holds already (another run's) count apart.
	others, err := waitMetric(ctx, c, gw.url, "zeroloss_delivery_subscriptions", time.Minute, func(float64) bool { return true })
	if err != nil {
		return err
	}
	say("baseline: RSS %s, %v goroutines, %v subscriptions already there", mib(baseRSS), baseG, others)

	dumpGoroutines(ctx, s, "fleet-goroutines-baseline")

	// Phase 2: the backlog.
	topic := "bench-fleet-" + randHex(4)
	if err := createTopic(ctx, admin, topic, 4); err != nil {
		return err
	}
	e := &fleetEndpoint{per: make([]atomic.Int64, f.subs), want: int64(f.subs) * int64(f.n), done: make(chan struct{})}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	defer e.srv.Close()
	var ids []string
	create := func(topic, endpoint string) (string, error) {
		req := fmt.Appendf(nil, `{"name":"bench-fleet","topic":%q,"endpoint":%q,"timeoutMs":5000,"concurrency":%d}`, topic, endpoint, f.conc)
		var sub struct {
			ID string `json:"id"`
		}
		err := post(ctx, c, gw.url+"/v1/subscriptions", key, req, http.StatusCreated, &sub)
		return sub.ID, err
	}
	for i := 0; i < f.subs; i++ {
		id, err := create(topic, e.srv.URL+"/hook/"+strconv.Itoa(i))
		if err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		if err := post(ctx, c, gw.url+"/v1/subscriptions/"+id+"/pause", key, nil, http.StatusOK, nil); err != nil {
			return fmt.Errorf("pause: %w", err)
		}
		ids = append(ids, id)
	}
	say("%d subscriptions created (paused); sending %d messages of %d bytes", f.subs, f.n, f.size)
	if err := fleetSend(ctx, s.namesrv, topic, f.n, f.size); err != nil {
		return err
	}
	var peak atomic.Int64
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procStatus(pid); err == nil && rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	for _, id := range ids {
		if err := post(ctx, c, gw.url+"/v1/subscriptions/"+id+"/resume", key, nil, http.StatusOK, nil); err != nil {
			stopSampling()
			return fmt.Errorf("resume: %w", err)
		}
	}
	var backlogErr error
	select {
	case <-e.done:
	case <-time.After(f.timeout):
		backlogErr = fmt.Errorf("%d of %d deliveries within %s", e.total.Load(), e.want, f.timeout)
	case <-ctx.Done():
		stopSampling()
		return ctx.Err()
	}
	elapsed := time.Since(start)
	stopSampling()
	<-sampled
	_, hwm, _ := procStatus(pid)
	say("backlog: %d deliveries in %s = %.0f/s; peak RSS %s sampled, VmHWM %s", e.total.Load(), elapsed.Round(time.Millisecond),
		float64(e.total.Load())/elapsed.Seconds(), mib(peak.Load()), mib(hwm))
	for _, id := range ids {
		if err := deleteSubscription(ctx, c, gw.url, key, id); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	if _, err := waitMetric(ctx, c, gw.url, "zeroloss_delivery_subscriptions", time.Minute, func(v float64) bool { return v == others }); err != nil {
		return err
	}

	// Phase 3: idle subscriptions.
	idleTopic := "bench-idle-" + randHex(4)
	if err := createTopic(ctx, admin, idleTopic, 4); err != nil {
		return err
	}
	ids = ids[:0]
	for i := 0; i < f.idle; i++ {
		id, err := create(idleTopic, e.srv.URL+"/hook/idle")
		if err != nil {
			return fmt.Errorf("create idle subscription: %w", err)
		}
		ids = append(ids, id)
	}
	if _, err := waitMetric(ctx, c, gw.url, "zeroloss_delivery_subscriptions", 2*time.Minute, func(v float64) bool { return v == others+float64(f.idle) }); err != nil {
		return err
	}
	time.Sleep(10 * time.Second)
	idleRSS, _, _ := procStatus(pid)
	idleG, _ := goroutines(ctx, c, gw.url)
	say("%d idle subscriptions: RSS %s, %v goroutines", f.idle, mib(idleRSS), idleG)

	// Phase 4: all deleted.
	for _, id := range ids {
		if err := deleteSubscription(ctx, c, gw.url, key, id); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	if _, err := waitMetric(ctx, c, gw.url, "zeroloss_delivery_subscriptions", time.Minute, func(v float64) bool { return v == others }); err != nil {
		return err
	}
	time.Sleep(f.settle)
	afterRSS, _, _ := procStatus(pid)
	afterG, _ := goroutines(ctx, c, gw.url)
	dumpGoroutines(ctx, s, "fleet-goroutines-after")
	say("after deleting all: RSS %s (baseline %s, %+.1f MiB), %v goroutines (baseline %v)", mib(afterRSS), mib(baseRSS),
		float64(afterRSS-baseRSS)/(1<<20), afterG, baseG)

	fmt.Printf("\nfleet (gateway pid %d)\n", pid)
	fmt.Printf("  baseline                      RSS %-10s  goroutines %v\n", mib(baseRSS), baseG)
	fmt.Printf("  %d subs × %d backlog         %.0f deliveries/s (%d in %s), peak RSS %s (VmHWM %s)\n", f.subs, f.n,
		float64(e.total.Load())/elapsed.Seconds(), e.total.Load(), elapsed.Round(time.Millisecond), mib(peak.Load()), mib(hwm))
	fmt.Printf("  %d idle subs                RSS %-10s  goroutines %v\n", f.idle, mib(idleRSS), idleG)
	fmt.Printf("  after deleting all (+%s)     RSS %-10s  goroutines %v  (RSS %+.1f MiB vs baseline)\n", f.settle, mib(afterRSS), afterG,
		float64(afterRSS-baseRSS)/(1<<20))
	return backlogErr
}

// fleetSend sends n messages of size bytes to topic in batches.
func fleetSend(ctx context.Context, namesrv, topic string, n, size int) error {
	p, err := rocketmq.NewProducer(producer.WithNameServer([]string{namesrv}), producer.WithGroupName("bench-fleet"),
		producer.WithInstanceName("bench-fleet-"+randHex(3)), producer.WithRetry(2), producer.WithSendMsgTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("new native producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("start native producer: %w", err)
	}
	defer func() { _ = p.Shutdown() }()
	body := bytes.Repeat([]byte("x"), size)
	prefix := strings.ToUpper(randHex(10))
	const batch = 32
	for i := 0; i < n; i += batch {
		var msgs []*primitive.Message
		for j := i; j < min(i+batch, n); j++ {
			m := primitive.NewMessage(topic, body)
			m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, fmt.Sprintf("%s%012X", prefix, j))
			msgs = append(msgs, m)
		}
		res, err := p.SendSync(ctx, msgs...)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if res.Status != primitive.SendOK {
			return fmt.Errorf("send: status %d", res.Status)
		}
	}
	return nil
}

// createTopic creates topic on the cluster's masters, trying again for up
// to a minute: a name server or broker that is slow to answer (a loaded
// machine, the gateway's own load) fails a request, not the run. Each try
// has a deadline of its own.
func createTopic(ctx context.Context, admin *broker.Admin, topic string, queues int) error {
	deadline := time.Now().Add(time.Minute)
	wait := 500 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := admin.CreateTopic(actx, "DefaultCluster", topic, queues)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("create topic %s: %w", topic, err)
		}
		fmt.Fprintf(os.Stderr, "bench: create topic %s: %v; again in %s\n", topic, err, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 8*time.Second)
	}
}

// dumpGoroutines writes the gateway's goroutines, grouped by stack
// (pprof debug=1), to the -profile directory as name.txt; without
// -profile the gateway serves no pprof and nothing is written.
func dumpGoroutines(ctx context.Context, s settings, name string) {
	if s.profileDir == "" {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.gwPprofAddr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: goroutine dump %s: %v\n", name, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(filepath.Join(s.profileDir, name+".txt"), b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: goroutine dump %s: %v\n", name, err)
	}
}

// goroutines reads the gateway's go_goroutines with this process's idle
// connections to it closed first: each would hold a server goroutine in
// the gateway, and how many the client keeps differs from one reading to
// the next. The gateway ends a closed connection's goroutine soon after.
func goroutines(ctx context.Context, c *http.Client, base string) (float64, error) {
	c.CloseIdleConnections()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(500 * time.Millisecond):
	}
	return metricValue(ctx, c, base, "go_goroutines")
}
