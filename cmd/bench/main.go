// Command bench measures, in one run against the same broker, the native
// rocketmq-client-go SendSync and the gateway's HTTP send at the same
// concurrency and body size, and prints throughput, p50/p99 and the ratios.
// With -tx it also measures transactions: the native transaction producer
// against the gateway's begin + commit, each until a native push consumer
// received the message (see tx.go). With -deliver it measures push
// deliveries from RocketMQ through the gateway to a webhook in this process,
// with the dedup store on and off (see deliver.go). With -fleet it measures
// what many subscriptions cost the gateway process: a backlog on each of
// 100, 1,000 idle ones, and what deleting them leaves (see fleet.go).
//
//	make bench                        # starts a stack, builds the gateway, runs this
//	go run ./bench -c 1,16,64 -d 10s  # against ZEROLOSS_NAMESRV / ZEROLOSS_REDIS_URL
//	go run ./bench -tx -send=false    # transactions only
//	go run ./bench -send=false -deliver -dn 20000  # deliveries only
//	make bench BENCH_ARGS='-tx -txc 1,16 -d 5s'
//	make bench BENCH_ARGS='-send=false -deliver -dmethod prefill'   # one subscription, dedup on and off
//	make bench BENCH_ARGS='-send=false -fleet'                       # 100 × 5k backlog, 1,000 idle, after deleting
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/zeroloss/zeroloss/internal/broker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	mode       string
	conc       int
	n          int
	errs       int
	elapsed    time.Duration
	lat        []time.Duration
	throughput float64
	cpu        cpuSample // CPU used during the row (see cpuSample)
}

func (r *result) finish() {
	slices.Sort(r.lat)
	r.n = len(r.lat)
	r.throughput = float64(r.n) / r.elapsed.Seconds()
}

func (r *result) pct(p float64) time.Duration {
	return pct(r.lat, p)
}

// pct returns the p-quantile (0..1) of sorted, 0 if it is empty.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// settings are the command's flags.
type settings struct {
	namesrv, redisURL string
	gwBin             string
	size              int
	dur, warm         time.Duration

	send      bool
	sendConcs []int
	idem      bool

	tx      bool
	txConcs []int
	// txWarm bounds the transactions' warm-up (warmUpTx).
	txWarm  time.Duration
	txCount int
	txWait  time.Duration
	// txRounds is how many times each concurrency's native and gateway
	// rows run, interleaved, their order alternating.
	txRounds int

	deliver bool
	dl      deliverSettings

	fleet       bool
	fl          fleetSettings
	profileDir  string
	gwLogLevel  string
	gwPprofAddr string
	stack       stackPIDs // the broker's and Redis's processes
}

func run(ctx context.Context) error {
	var s settings
	concs := flag.String("c", "1,16,64", "comma-separated in-flight sends")
	flag.DurationVar(&s.dur, "d", 5*time.Second, "measuring time per mode and concurrency")
	flag.DurationVar(&s.warm, "warmup", time.Second, "warm-up time per mode and concurrency")
	flag.IntVar(&s.size, "size", 1024, "message body bytes")
	flag.StringVar(&s.gwBin, "gateway", "bin/gateway", "gateway binary")
	flag.BoolVar(&s.idem, "idempotency", true, "also measure the gateway with an Idempotency-Key per request")
	flag.BoolVar(&s.send, "send", true, "measure sends: native SendSync vs the gateway's POST /v1/topics/{topic}/messages")
	flag.BoolVar(&s.tx, "tx", false, "measure transactions: native transaction producer vs the gateway's begin + commit, each until consumed")
	flag.DurationVar(&s.txWarm, "txwarm", 90*time.Second, "transactions: at most this long warming up both ways before the measured rows, until the broker's JIT compiler threads use under 20% of its CPU over a round; 0 skips it")
	txConcs := flag.String("txc", "1,16", "comma-separated in-flight transactions (begun, not yet consumed)")
	flag.IntVar(&s.txRounds, "txrounds", 3, "transactions: rounds per concurrency, each a native and a gateway row, their order alternating (ratios drift between runs on a shared machine; the summary gives each round's and the median)")
	flag.IntVar(&s.txCount, "txn", 0, "transactions per mode and concurrency; 0 measures each for -d instead")
	flag.DurationVar(&s.txWait, "txwait", 30*time.Second, "how long a committed transaction's message may take to be consumed before it counts as an error")
	flag.BoolVar(&s.deliver, "deliver", false, "measure push deliveries: RocketMQ → gateway → a local webhook, dedup on and off")
	flag.StringVar(&s.profileDir, "profile", "", "write a CPU profile of the gateway for each gateway row into this directory (<mode>-c<in flight>.pprof; transactions: tx-gateway-c<in flight>-r<round>.pprof)")
	flag.StringVar(&s.gwLogLevel, "gateway-log-level", "info", "the gateway's logLevel (info logs one access line per request, as in production)")
	s.dl.register(flag.CommandLine)
	flag.BoolVar(&s.fleet, "fleet", false, "measure many subscriptions: a backlog on each of -fsubs, -fidle idle ones, and what deleting them leaves (RSS, goroutines); run with -send=false")
	s.fl.register(flag.CommandLine)
	flag.Parse()
	s.namesrv, s.redisURL = os.Getenv("ZEROLOSS_NAMESRV"), os.Getenv("ZEROLOSS_REDIS_URL")
	s.stack = readStackPIDs(os.Getenv("ZL_STACK_DIR"))
	if s.namesrv == "" || s.redisURL == "" {
		return errors.New("set ZEROLOSS_NAMESRV and ZEROLOSS_REDIS_URL (make bench does)")
	}
	if !s.send && !s.tx && !s.deliver && !s.fleet {
		return errors.New("nothing to measure: -send=false without -tx, -deliver or -fleet")
	}
	if s.fleet {
		if err := s.fl.validate(); err != nil {
			return err
		}
	}
	if s.deliver {
		if err := s.dl.validate(); err != nil {
			return err
		}
	}
	var err error
	if s.sendConcs, err = parseConcs(*concs); err != nil {
		return fmt.Errorf("-c: %w", err)
	}
	if s.txConcs, err = parseConcs(*txConcs); err != nil {
		return fmt.Errorf("-txc: %w", err)
	}
	rlog.SetLogLevel("error")

	const key = "bench-secret-key"
	env := []string{"ZEROLOSS_LOG_LEVEL=" + s.gwLogLevel}
	if s.profileDir != "" {
		if err := os.MkdirAll(s.profileDir, 0o755); err != nil {
			return fmt.Errorf("-profile: %w", err)
		}
		if s.gwPprofAddr, err = freeAddr(); err != nil {
			return fmt.Errorf("pprof address: %w", err)
		}
		env = append(env, "ZEROLOSS_PPROF_LISTEN="+s.gwPprofAddr)
	}
	gw, err := startGateway(ctx, s.gwBin, s.namesrv, s.redisURL, "bench:"+key+":admin", env...)
	if err != nil {
		return err
	}
	defer gw.stop()

	if s.send {
		if err := benchSend(ctx, s, gw, key); err != nil {
			return fmt.Errorf("send benchmark: %w", err)
		}
	}
	if s.tx {
		if err := benchTx(ctx, s, gw, key); err != nil {
			return fmt.Errorf("transaction benchmark: %w", err)
		}
	}
	if s.deliver {
		if err := benchDeliver(ctx, s, gw, key); err != nil {
			return fmt.Errorf("delivery benchmark: %w", err)
		}
	}
	if s.fleet {
		if err := benchFleet(ctx, s, gw, key); err != nil {
			return fmt.Errorf("fleet benchmark: %w", err)
		}
	}
	return nil
}

// parseConcs parses a comma-separated list of positive concurrencies.
func parseConcs(list string) ([]int, error) {
	var out []int
	for _, cs := range strings.Split(list, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || c < 1 {
			return nil, fmt.Errorf("bad concurrency %q", cs)
		}
		out = append(out, c)
	}
	return out, nil
}

// benchSend measures the native SendSync against the gateway's send (with
// and without an Idempotency-Key) on a topic of its own and prints the table.
func benchSend(ctx context.Context, s settings, gw *gateway, key string) error {
	topic := "bench-" + randHex(4)
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := broker.NewAdmin([]string{s.namesrv}).CreateTopic(actx, "DefaultCluster", topic, 8); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}

	p, err := rocketmq.NewProducer(producer.WithNameServer([]string{s.namesrv}), producer.WithGroupName("bench-native"),
		producer.WithInstanceName("bench-native"), producer.WithRetry(2), producer.WithSendMsgTimeout(3*time.Second))
	if err != nil {
		return fmt.Errorf("new native producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("start native producer: %w", err)
	}
	defer p.Shutdown()

	body := bytes.Repeat([]byte("x"), s.size)
	reqBody, _ := json.Marshal(map[string]string{"body": string(body)})
	url := gw.url + "/v1/topics/" + topic + "/messages"

	var results []*result
	for _, c := range s.sendConcs {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
		native := func(ctx context.Context) error {
			res, err := p.SendSync(ctx, primitive.NewMessage(topic, body))
			if err != nil {
				return err
			}
			if res.Status != primitive.SendOK {
				return fmt.Errorf("status %d", res.Status)
			}
			return nil
		}
		viaGateway := func(withKey bool) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqBody))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				if withKey {
					req.Header.Set("Idempotency-Key", randHex(12))
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
		}
		modes := []struct {
			name string
			f    func(context.Context) error
		}{{"native", native}, {"gateway", viaGateway(false)}}
		if s.idem {
			modes = append(modes, struct {
				name string
				f    func(context.Context) error
			}{"gateway+idem", viaGateway(true)})
		}
		for _, m := range modes {
			fmt.Fprintf(os.Stderr, "bench: %s c=%d …\n", m.name, c)
			load(ctx, c, s.warm, m.f) // warm-up, discarded
			var prof chan error
			if s.profileDir != "" && m.name != "native" {
				prof = make(chan error, 1)
				name := fmt.Sprintf("%s-c%d", m.name, c)
				go func() { prof <- profileGateway(ctx, s.gwPprofAddr, s.profileDir, name, s.dur) }()
			}
			before := sampleCPU(gw.pid(), s.stack)
			r := load(ctx, c, s.dur, m.f)
			r.cpu = sampleCPU(gw.pid(), s.stack).sub(before)
			r.mode, r.conc = m.name, c
			if prof != nil {
				if err := <-prof; err != nil {
					fmt.Fprintln(os.Stderr, "bench:", err)
				}
			}
			results = append(results, r)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	fmt.Printf("\ngateway logLevel %s; load generator GOMAXPROCS %d of %d CPUs; load average %s\n",
		s.gwLogLevel, runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage())
	report(os.Stdout, results, s.size, s.dur)
	return nil
}

// load runs c workers calling f for d and collects latencies of successes.
func load(ctx context.Context, c int, d time.Duration, f func(context.Context) error) *result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, 1<<16)
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<12)
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := f(context.WithoutCancel(ctx)); err != nil {
					errs.Add(1)
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := &result{elapsed: time.Since(start), lat: lat, errs: int(errs.Load())}
	r.finish()
	return r
}

// report prints one row per mode and in-flight level: throughput, latency,
// the gateway's ratio to native at the same level (and with an
// Idempotency-Key, to the plain gateway), what it adds to p50 and p99, and
// the CPU each message cost the gateway and this process (load generator;
// in native rows also the native client), with how busy the whole machine
// was: on a shared machine compare CPU per message and the ratios of one
// run, not msg/s across runs.
func report(w io.Writer, rs []*result, size int, d time.Duration) {
	fmt.Fprintf(w, "\nbody %d B, %s per row, same broker, same run\n", size, d)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tin flight\tsends\terrors\tmsg/s\tp50\tp99\tvs native\tvs gateway\tadded p50\tadded p99\tgateway cpu/msg\tbench cpu/msg\tmachine busy\t")
	byMode := map[string]map[int]*result{}
	for _, r := range rs {
		if byMode[r.mode] == nil {
			byMode[r.mode] = map[int]*result{}
		}
		byMode[r.mode][r.conc] = r
	}
	for _, r := range rs {
		ratio, vsGW, added, added99 := "", "", "", ""
		if n := byMode["native"][r.conc]; n != nil && r.mode != "native" {
			ratio = fmt.Sprintf("%.2fx", r.throughput/n.throughput)
			added = fmtDur(r.pct(.5) - n.pct(.5))
			added99 = fmtDur(r.pct(.99) - n.pct(.99))
		}
		if g := byMode["gateway"][r.conc]; g != nil && r.mode == "gateway+idem" {
			vsGW = fmt.Sprintf("%.2fx", r.throughput/g.throughput)
		}
		gwCPU, selfCPU, busy := "", "", ""
		if r.n > 0 {
			if r.mode != "native" {
				gwCPU = fmtMicros(r.cpu.gateway / time.Duration(r.n))
			}
			selfCPU = fmtMicros(r.cpu.self / time.Duration(r.n))
		}
		if r.cpu.machineAll > 0 {
			busy = fmt.Sprintf("%.0f%%", 100*float64(r.cpu.machineBusy)/float64(r.cpu.machineAll))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.mode, r.conc, r.n, r.errs, r.throughput,
			fmtDur(r.pct(.5)), fmtDur(r.pct(.99)), ratio, vsGW, added, added99, gwCPU, selfCPU, busy)
	}
	tw.Flush()
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000)
}

type gateway struct {
	url string
	cmd *exec.Cmd
}

// startGateway starts bin with env added to this process's environment.
func startGateway(ctx context.Context, bin, namesrv, redisURL, keys string, env ...string) (*gateway, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), env...), "ZEROLOSS_LISTEN=127.0.0.1:0", "ZEROLOSS_NAMESRV="+namesrv,
		"ZEROLOSS_REDIS_URL="+redisURL, "ZEROLOSS_API_KEYS="+keys,
		// The transaction benchmark's check webhook and the delivery
		// benchmark's endpoint listen on loopback.
		"ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (run make build first): %w", bin, err)
	}
	g := &gateway{cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		// Look for the listening line only: parsing the access log would
		// spend this process's CPU (the native client's, in native rows).
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if !bytes.Contains(sc.Bytes(), []byte(`"listening"`)) {
				continue
			}
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
				break
			}
		}
		// Keep draining the access log so the gateway never blocks on it.
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		g.url = "http://" + a
	case <-time.After(30 * time.Second):
		g.stop()
		return nil, errors.New("gateway did not start listening")
	case <-ctx.Done():
		g.stop()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g, nil
			}
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, errors.New("gateway not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *gateway) pid() int {
	if g.cmd.Process == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
