package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

const apiKey = "ledger-key"

// stack drives deploy/local/stack.sh on one HA stack dir.
type stack struct {
	dir, root string
	env       map[string]string
}

func (s *stack) sh(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(s.root, "deploy", "local", "stack.sh")}, args...)...)
	cmd.Env = append(os.Environ(), "ZL_STACK_DIR="+s.dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		e := errb.String()
		if len(e) > 3000 {
			e = e[len(e)-3000:]
		}
		return out.String(), fmt.Errorf("stack.sh %s: %w\n%s", strings.Join(args, " "), err, e)
	}
	return strings.TrimSpace(out.String()), nil
}

func (s *stack) up(ctx context.Context) error {
	out, err := s.sh(ctx, "up", "--ha")
	if err != nil {
		return err
	}
	s.env = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			s.env[k] = v
		}
	}
	if s.env["ZEROLOSS_NAMESRV"] == "" || s.env["ZEROLOSS_REDIS_ADDRS"] == "" {
		return fmt.Errorf("stack.sh up --ha printed no addresses:\n%s", out)
	}
	return nil
}

// masters returns each group's master address.
func (s *stack) masters(ctx context.Context) (map[string]string, error) {
	g, err := broker.NewAdmin([]string{s.env["ZEROLOSS_NAMESRV"]}).Brokers(ctx, "DefaultCluster")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for name, ids := range g {
		m[name] = ids["0"]
	}
	return m, nil
}

// replica is one gateway process on a fixed address, so that a restart
// keeps its URL.
type replica struct {
	bin, addr, logPath string
	env                []string
	mu                 sync.Mutex
	cmd                *exec.Cmd
	done               chan struct{}
}

func (r *replica) url() string { return "http://" + r.addr }

func (r *replica) start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.bin)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Env = append(cmd.Env, "ZEROLOSS_LISTEN="+r.addr)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(r.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("gateway %s exited at start (log %s)", r.addr, r.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway %s not ready within 2m (log %s)", r.addr, r.logPath)
		}
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (r *replica) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// stop sends SIGTERM and waits for the drain.
func (r *replica) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// client calls the gateway replicas like a careful client: the same
// Idempotency-Key on every attempt, another replica after a 503 or a
// dropped connection.
type client struct {
	reps []*replica
	http *http.Client
}

var errGaveUp = errors.New("ledger: gave up (outcome unknown)")

// call returns the first answer that is neither 503, 409 (a lease of a
// killed replica), nor a transport error; errGaveUp after patience.
func (c *client) call(ctx context.Context, path, idem string, body any, patience time.Duration) (int, []byte, error) {
	payload, _ := json.Marshal(body)
	deadline := time.Now().Add(patience)
	i := rand.IntN(len(c.reps))
	for {
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, c.reps[i%len(c.reps)].url()+path, bytes.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := c.http.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusConflict &&
				resp.StatusCode != http.StatusBadGateway {
				return resp.StatusCode, b, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, nil, errGaveUp
		}
		i++
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
	}
}

func (c *client) get(path string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, c.reps[rand.IntN(len(c.reps))].url()+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// endpoint is the recording webhook and the check URL.
type endpoint struct {
	book        *book
	failPercent int
	outage      atomic.Bool
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/check" {
		var c struct {
			Tag string `json:"tag"`
		}
		_ = json.Unmarshal(body, &c)
		decision := "unknown"
		switch c.Tag {
		case "UC":
			decision = "commit"
		case "UR":
			decision = "rollback"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"decision":%q}`, decision)
		return
	}
	status := http.StatusOK
	switch {
	case e.outage.Load():
		status = http.StatusServiceUnavailable
	case rand.IntN(100) < e.failPercent:
		status = http.StatusInternalServerError
	}
	e.book.delivered(delivery{messageID: r.Header.Get("ce-id"), webhookID: r.Header.Get("webhook-id"), at: time.Now(), ok: status == http.StatusOK})
	w.WriteHeader(status)
}

func run(ctx context.Context, cfg config, log *slog.Logger) (figures, *book, error) {
	b := newBook()
	st := &stack{dir: cfg.StackDir, root: cfg.RepoRoot}
	log.Info("starting the HA stack", "dir", st.dir)
	if err := st.up(ctx); err != nil {
		return figures{}, b, err
	}
	// Outside the stack dir, which `stack.sh down` removes: the gateways'
	// logs must outlive a run that lost something.
	work := cfg.WorkDir
	if work == "" {
		work = filepath.Join(os.TempDir(), fmt.Sprintf("zl-ledger-%d", time.Now().Unix()))
	}
	log.Info("gateway logs", "dir", work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return figures{}, b, err
	}
	bin := filepath.Join(work, "gateway")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gateway")
	build.Dir = cfg.RepoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return figures{}, b, fmt.Errorf("go build ./cmd/gateway: %w\n%s", err, out)
	}

	ep := &endpoint{book: b, failPercent: cfg.FailPercent}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return figures{}, b, err
	}
	srv := &http.Server{Handler: ep}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String()

	var gwEnv []string
	for k, v := range st.env { // name server, sentinels, Redis WAIT replicas
		if strings.HasPrefix(k, "ZEROLOSS_") {
			gwEnv = append(gwEnv, k+"="+v)
		}
	}
	gwEnv = append(gwEnv,
		"ZEROLOSS_API_KEYS=ledger:"+apiKey+":admin",
		"ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true",
		"ZEROLOSS_TX_CHECK_MAX=60",
		"ZEROLOSS_DELIVERY_INVISIBLE_TIME=5s",
		"ZEROLOSS_SHUTDOWN_TIMEOUT=10s",
		"ZEROLOSS_IDEMPOTENCY_LEASE=10s",
		"ZEROLOSS_SEND_TIMEOUT=3s",
	)
	var reps []*replica
	for i := 0; i < 2; i++ {
		addr, err := freeAddr()
		if err != nil {
			return figures{}, b, err
		}
		r := &replica{bin: bin, addr: addr, env: gwEnv, logPath: filepath.Join(work, fmt.Sprintf("gateway-%d.log", i))}
		if err := r.start(ctx); err != nil {
			return figures{}, b, err
		}
		defer r.stop()
		reps = append(reps, r)
	}
	cl := &client{reps: reps, http: &http.Client{Timeout: 15 * time.Second}}

	topic := fmt.Sprintf("ledger-%d", time.Now().UnixNano())
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	err = broker.NewAdmin([]string{st.env["ZEROLOSS_NAMESRV"]}).CreateTopicOnEveryBroker(actx, "DefaultCluster", topic, 4)
	cancel()
	if err != nil {
		return figures{}, b, err
	}
	status, body, err := cl.call(ctx, "/v1/producers", "", map[string]any{"name": "ledger", "checkUrl": hookURL + "/check", "timeoutMs": 2000}, time.Minute)
	if err != nil || status != http.StatusCreated {
		return figures{}, b, fmt.Errorf("create producer: %d %s %v", status, body, err)
	}
	var prd struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &prd)
	// Retries seconds apart: the default schedule waits 5 min before a
	// third attempt and 30 min before a fourth, so a message the endpoint
	// refused a few times (random failures, an outage, a kill) would still
	// be waiting at the end of the settle window and read as lost.
	status, body, err = cl.call(ctx, "/v1/subscriptions", "", map[string]any{"name": "ledger", "topic": topic,
		"endpoint": hookURL + "/hook", "timeoutMs": 5000, "maxAttempts": 17,
		"retry": map[string]any{"delaysSeconds": []int{1, 2, 5}}}, time.Minute)
	if err != nil || status != http.StatusCreated {
		return figures{}, b, fmt.Errorf("create subscription: %d %s %v", status, body, err)
	}
	log.Info("load starts", "topic", topic, "replicas", []string{reps[0].addr, reps[1].addr}, "duration", cfg.Duration)

	// Load: for the duration, and at least until every fault kind struck once.
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	firstCycle := make(chan struct{})
	go func() {
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
		select {
		case <-firstCycle:
		case <-ctx.Done():
		}
		stopLoad()
	}()
	var (
		seq        atomic.Int64
		unexpected atomic.Int64
		checkRB    sync.Map // tx id → true: resolved by the check URL as rollback
		wg         sync.WaitGroup
	)
	bad := func(what string, status int, body []byte) {
		if unexpected.Add(1) <= 10 {
			log.Error("unexpected answer", "op", what, "status", status, "body", string(body))
		}
	}
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				n := seq.Add(1)
				p := rand.IntN(100)
				if p < 55 {
					status, body, err := cl.call(ctx, "/v1/topics/"+topic+"/messages", fmt.Sprintf("s-%s-%d", topic, n),
						map[string]any{"body": fmt.Sprintf("send-%d", n)}, 3*time.Minute)
					if errors.Is(err, errGaveUp) {
						b.giveUp()
						continue
					}
					var m struct {
						MessageID   string `json:"messageId"`
						BrokerName  string `json:"brokerName"`
						QueueID     int    `json:"queueId"`
						QueueOffset int64  `json:"queueOffset"`
					}
					if status != http.StatusCreated || json.Unmarshal(body, &m) != nil {
						bad("send", status, body)
						continue
					}
					b.record(m.MessageID, kindSend)
					b.note(m.MessageID, fmt.Sprintf("send-%d 201 at %s, %s q%d@%d", n, time.Now().UTC().Format("15:04:05.000"),
						m.BrokerName, m.QueueID, m.QueueOffset))
					continue
				}
				tag, k := "C", kindCommit
				switch {
				case p < 70:
				case p < 80:
					tag, k = "R", kindRollback
				case p < 90:
					tag, k = "UC", kindCheckCommit
				default:
					tag, k = "UR", kindCheckRollback
				}
				status, body, err := cl.call(ctx, "/v1/transactions", fmt.Sprintf("t-%s-%d", topic, n),
					map[string]any{"producer": prd.ID, "topic": topic, "body": fmt.Sprintf("tx-%s-%d", tag, n), "tag": tag}, 3*time.Minute)
				if errors.Is(err, errGaveUp) {
					b.giveUp()
					continue
				}
				var tx struct {
					TransactionID string `json:"transactionId"`
					MessageID     string `json:"messageId"`
				}
				if status != http.StatusCreated || json.Unmarshal(body, &tx) != nil {
					bad("begin", status, body)
					continue
				}
				b.note(tx.MessageID, fmt.Sprintf("tx-%s-%d %s begun at %s", tag, n, tx.TransactionID, time.Now().UTC().Format("15:04:05.000")))
				if k == kindCheckCommit || k == kindCheckRollback {
					b.record(tx.MessageID, k)
					if k == kindCheckRollback {
						checkRB.Store(tx.TransactionID, true)
					}
					continue
				}
				what := "commit"
				if k == kindRollback {
					what = "rollback"
				}
				status, body, err = cl.call(ctx, "/v1/transactions/"+tx.TransactionID+"/"+what, "", nil, 3*time.Minute)
				if errors.Is(err, errGaveUp) {
					b.giveUp()
					continue
				}
				if status != http.StatusOK {
					bad(what, status, body)
					continue
				}
				b.record(tx.MessageID, k)
			}
		}()
	}

	// Faults, one every cfg.FaultEvery; restarts of brokers and Redis nodes
	// run in the background (a JVM start takes minutes on a loaded host).
	fl := &faultLog{}
	var restarts sync.WaitGroup
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		kinds := strings.Split(cfg.Faults, ",")
		groups := []string{"broker-a", "broker-b"}
		for i := 0; ; i++ {
			if i == len(kinds) {
				close(firstCycle)
			}
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(cfg.FaultEvery):
			}
			kind := strings.TrimSpace(kinds[i%len(kinds)])
			if err := inject(ctx, kind, i/len(kinds), st, reps, ep, b, groups, log, fl, &restarts); err != nil {
				log.Error("fault", "kind", kind, "err", err)
				fl.add(kind + " failed: " + err.Error())
				fl.failed.Store(true)
			}
		}
	}()

	wg.Wait()
	<-faultsDone
	restarts.Wait()
	log.Info("load done; settling", "operations", seq.Load())

	// Quiescence: every process back, every expected delivery in, every
	// check-rollback resolved.
	if err := st.up(ctx); err != nil {
		return figures{}, b, err
	}
	deadline := time.Now().Add(cfg.Settle)
	for i := 0; b.pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		if i%15 == 0 {
			log.Info("settling", "deliveries outstanding", b.pending())
		}
		time.Sleep(time.Second)
	}
	checkRB.Range(func(k, _ any) bool {
		for time.Now().Before(deadline) {
			var tx struct {
				State string `json:"state"`
			}
			if cl.get("/v1/transactions/"+k.(string), &tx) == nil && tx.State == "rolled_back" {
				break
			}
			time.Sleep(time.Second)
		}
		return true
	})
	f := b.verify(cfg.Window)
	f.Faults = fl.String()
	f.Times = fl.summary()
	f.Unexpected = int(unexpected.Load())
	if fl.failed.Load() {
		return f, b, fmt.Errorf("a fault could not be injected or recovered from: %s", f.Faults)
	}
	return f, b, nil
}

// faultLog collects one line per fault (and per background restart) and
// the recovery times measured, by what recovered.
type faultLog struct {
	mu     sync.Mutex
	lines  []string
	times  map[string][]time.Duration
	order  []string
	failed atomic.Bool
}

// measure records one recovery time of what (e.g. "broker election").
func (l *faultLog) measure(what string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.times == nil {
		l.times = map[string][]time.Duration{}
	}
	if _, ok := l.times[what]; !ok {
		l.order = append(l.order, what)
	}
	l.times[what] = append(l.times[what], d)
}

// summary is "what min–max (n)" per kind of recovery, in first-seen order.
func (l *faultLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, what := range l.order {
		ds := l.times[what]
		lo, hi := ds[0], ds[0]
		for _, d := range ds {
			lo, hi = min(lo, d), max(hi, d)
		}
		r := 100 * time.Millisecond
		if lo >= 10*time.Second {
			r = time.Second
		}
		parts = append(parts, fmt.Sprintf("%s %s–%s (%d)", what, lo.Round(r), hi.Round(r), len(ds)))
	}
	return strings.Join(parts, ", ")
}

func (l *faultLog) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *faultLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "; ")
}

// inject runs one fault and logs what it measured; restarts of killed
// brokers and Redis nodes go on in the background (restarts).
func inject(ctx context.Context, kind string, round int, st *stack, reps []*replica, ep *endpoint, b *book,
	groups []string, log *slog.Logger, fl *faultLog, restarts *sync.WaitGroup) error {
	restart := func(name string, t0 time.Time) {
		restarts.Add(1)
		go func() {
			defer restarts.Done()
			if _, err := st.sh(ctx, "start", name); err != nil {
				fl.add(name + " restart failed: " + err.Error())
				fl.failed.Store(true)
				return
			}
			d := time.Since(t0)
			fl.add(fmt.Sprintf("%s back %s after its kill", name, d.Round(time.Second)))
			if strings.HasPrefix(name, "redis-") {
				fl.measure("redis node back", d)
			} else {
				fl.measure("broker back as slave", d)
			}
		}()
	}
	switch kind {
	case "gateway":
		r := reps[round%len(reps)]
		r.kill()
		b.kill(time.Now())
		log.Info("fault: gateway killed", "addr", r.addr)
		t0 := time.Now()
		if err := r.start(ctx); err != nil {
			return err
		}
		fl.add(fmt.Sprintf("gateway %s killed, ready again in %s", r.addr, time.Since(t0).Round(100*time.Millisecond)))
		fl.measure("gateway ready", time.Since(t0))
		return nil
	case "broker":
		g := groups[round%len(groups)]
		m, err := st.masters(ctx)
		if err != nil {
			return err
		}
		old := m[g]
		name, err := testenv.ProcessAt(st.dir, old)
		if err != nil {
			return err
		}
		t0 := time.Now()
		if _, err := st.sh(ctx, "kill", name); err != nil {
			return err
		}
		b.kill(t0)
		log.Info("fault: broker master killed", "group", g, "name", name, "addr", old)
		for {
			m, err := st.masters(ctx)
			if err == nil && m[g] != "" && m[g] != old {
				break
			}
			if time.Since(t0) > 3*time.Minute {
				// As an operator would: bring the killed broker back, so the
				// group serves again and the run can still verify.
				restart(name, t0)
				return fmt.Errorf("no new master for %s within 3m", g)
			}
			time.Sleep(100 * time.Millisecond)
		}
		fl.add(fmt.Sprintf("%s master %s killed, new master routed after %s", g, name, time.Since(t0).Round(100*time.Millisecond)))
		fl.measure("broker election", time.Since(t0))
		restart(name, t0)
		return nil
	case "redis":
		name, err := st.sh(ctx, "kill-redis-master")
		if err != nil {
			return err
		}
		t0 := time.Now() // the kill -9 is the command's last step
		b.kill(t0)
		log.Info("fault: redis master killed", "name", name)
		for {
			if m, err := st.sh(ctx, "redis-master"); err == nil && m != name {
				break
			}
			if time.Since(t0) > 2*time.Minute {
				return fmt.Errorf("sentinels did not promote a replica within 2m")
			}
			time.Sleep(200 * time.Millisecond)
		}
		fl.add(fmt.Sprintf("redis master %s killed, replica promoted after %s", name, time.Since(t0).Round(100*time.Millisecond)))
		fl.measure("redis promotion", time.Since(t0))
		restart(name, t0)
		return nil
	case "webhook":
		ep.outage.Store(true)
		log.Info("fault: webhook outage")
		time.Sleep(15 * time.Second)
		ep.outage.Store(false)
		fl.add("webhook answered 503 for 15s")
		return nil
	}
	return fmt.Errorf("unknown fault kind %q", kind)
}
