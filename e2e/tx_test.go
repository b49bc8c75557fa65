package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// checkHook is a test check webhook. It verifies every call's Standard
// Webhooks signature itself (HMAC-SHA256 computed here from the spec, not
// with the gateway's code) and answers with answer(body).
type checkHook struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	calls  []checkCall
	answer func(c checkCall) (int, string)
}

type checkCall struct {
	TransactionID string            `json:"transactionId"`
	MessageID     string            `json:"messageId"`
	Producer      string            `json:"producer"`
	Topic         string            `json:"topic"`
	Tag           string            `json:"tag"`
	Keys          []string          `json:"keys"`
	Properties    map[string]string `json:"properties"`
	CheckCount    int               `json:"checkCount"`
	SignatureOK   bool              `json:"-"`
}

func newCheckHook(t *testing.T, answer func(c checkCall) (int, string)) *checkHook {
	h := &checkHook{t: t, answer: answer}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *checkHook) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var c checkCall
	_ = json.Unmarshal(body, &c)
	h.mu.Lock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	h.mu.Unlock()
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			c.SignatureOK = true
		}
	}
	h.mu.Lock()
	h.calls = append(h.calls, c)
	answer := h.answer
	h.mu.Unlock()
	status, out := answer(c)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

func (h *checkHook) callsFor(txID string) []checkCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []checkCall
	for _, c := range h.calls {
		if c.TransactionID == txID {
			out = append(out, c)
		}
	}
	return out
}

func (h *checkHook) setAnswer(f func(c checkCall) (int, string)) {
	h.mu.Lock()
	h.answer = f
	h.mu.Unlock()
}

type txView struct {
	TransactionID    string `json:"transactionId"`
	MessageID        string `json:"messageId"`
	State            string `json:"state"`
	DecidedBy        string `json:"decidedBy"`
	CheckCount       int    `json:"checkCount"`
	LastCheckOutcome string `json:"lastCheckOutcome"`
}

// registerProducer creates a producer whose check URL is hook.
func registerProducer(t *testing.T, g *testenv.Gateway, key string, hook *checkHook) string {
	t.Helper()
	r := post(t, g.URL+"/v1/producers", key, map[string]any{"name": "orders-service", "checkUrl": hook.srv.URL + "/check", "timeoutMs": 2000})
	if r.Status != http.StatusCreated || r.Header.Get("Location") == "" {
		t.Fatalf("create producer: %d %s", r.Status, r.Body)
	}
	var p struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	r.json(t, &p)
	if !strings.HasPrefix(p.Secret, "whsec_") || !strings.HasPrefix(p.ID, "prd_") {
		t.Fatalf("producer = %s", r.Body)
	}
	hook.mu.Lock()
	hook.secret = p.Secret
	hook.mu.Unlock()
	return p.ID
}

// begin starts a transaction the way a correct client does: with an
// Idempotency-Key, retrying a 503 (the broker did not confirm) with the same
// key.
func begin(t *testing.T, g *testenv.Gateway, key, producer, topic, body, tag string) txView {
	t.Helper()
	idem := fmt.Sprintf("begin-%s-%d", topic, rand.Int64())
	var r reply
	for attempt := 0; attempt < 5; attempt++ {
		r = post(t, g.URL+"/v1/transactions", key, map[string]any{"producer": producer, "topic": topic, "body": body, "tag": tag, "keys": []string{"k-" + tag}},
			"Idempotency-Key", idem)
		if r.Status != http.StatusServiceUnavailable {
			break
		}
		t.Logf("begin %s: 503 %s, retrying with the same Idempotency-Key", tag, r.problemType())
		time.Sleep(time.Second) // Retry-After: 1
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("begin %s: %d %s", tag, r.Status, r.Body)
	}
	var tx txView
	r.json(t, &tx)
	if tx.State != "pending" || !strings.HasPrefix(tx.TransactionID, "tx_") || len(tx.MessageID) != 32 {
		t.Fatalf("begin answered %s", r.Body)
	}
	return tx
}

func decide(t *testing.T, g *testenv.Gateway, key, id, what string) reply {
	t.Helper()
	return post(t, g.URL+"/v1/transactions/"+id+"/"+what, key, "")
}

func getTx(t *testing.T, g *testenv.Gateway, key, id string) (int, txView) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/v1/transactions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tx txView
	_ = json.NewDecoder(resp.Body).Decode(&tx)
	return resp.StatusCode, tx
}

func waitState(t *testing.T, g *testenv.Gateway, key, id, state string) txView {
	t.Helper()
	var tx txView
	testenv.Eventually(t, 60*time.Second, func() error {
		_, tx = getTx(t, g, key, id)
		if tx.State != state {
			return fmt.Errorf("transaction %s is %s (checks %d, last %q), want %s", id, tx.State, tx.CheckCount, tx.LastCheckOutcome, state)
		}
		return nil
	})
	return tx
}

// TestSeedTransactions is the seed's tranProducer over HTTP: TAGA commits,
// TAGB rolls back, TAGC stays undecided until the check webhook says
// commit, TAGD until it says rollback.
func TestSeedTransactions(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-tx", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(c checkCall) (int, string) {
		switch c.Tag {
		case "TAGC":
			return 200, `{"decision":"commit"}`
		case "TAGD":
			return 200, `{"decision":"rollback"}`
		}
		return 200, `{"decision":"unknown"}`
	})
	// Producers are managed with transact:* (they serve every topic); the
	// orders key, scoped to orders-*, uses them.
	prd := registerProducer(t, g, testenv.OrdersOpsKey, hook)

	a := begin(t, g, testenv.OrdersKey, prd, topic, "order A", "TAGA")
	b := begin(t, g, testenv.OrdersKey, prd, topic, "order B", "TAGB")
	c := begin(t, g, testenv.OrdersKey, prd, topic, "order C", "TAGC")
	d := begin(t, g, testenv.OrdersKey, prd, topic, "order D", "TAGD")

	if r := decide(t, g, testenv.OrdersKey, a.TransactionID, "commit"); r.Status != 200 {
		t.Fatalf("commit A: %d %s", r.Status, r.Body)
	}
	if r := decide(t, g, testenv.OrdersKey, b.TransactionID, "rollback"); r.Status != 200 {
		t.Fatalf("rollback B: %d %s", r.Status, r.Body)
	}
	m := recv.WaitForID(t, a.MessageID, 30*time.Second)
	if string(m.Body) != "order A" || m.GetTags() != "TAGA" {
		t.Errorf("A received as %q / %q", m.Body, m.GetTags())
	}

	// C and D are decided by the check webhook, called with a valid signature.
	recv.WaitForID(t, c.MessageID, 60*time.Second)
	cv := waitState(t, g, testenv.OrdersKey, c.TransactionID, "committed")
	dv := waitState(t, g, testenv.OrdersKey, d.TransactionID, "rolled_back")
	if cv.DecidedBy != "check" || dv.DecidedBy != "check" || cv.CheckCount < 1 {
		t.Errorf("C = %+v, D = %+v", cv, dv)
	}
	for _, tx := range []txView{c, d} {
		calls := hook.callsFor(tx.TransactionID)
		if len(calls) == 0 {
			t.Fatalf("check webhook never called for %s", tx.TransactionID)
		}
		cl := calls[0]
		if !cl.SignatureOK || cl.MessageID != tx.MessageID || cl.Topic != topic || cl.Producer != prd || cl.CheckCount < 1 || len(cl.Keys) != 1 {
			t.Errorf("check call = %+v", cl)
		}
	}
	if calls := hook.callsFor(a.TransactionID); len(calls) != 0 {
		t.Errorf("a committed transaction was checked with the webhook: %+v", calls)
	}

	// Past at least two more check rounds, B and D were never delivered.
	time.Sleep(3 * time.Second) // lets the broker's 1 s check rounds pass; the assertion below is on content, not time
	sentinel(t, g, recv, topic)
	if recv.Count(b.MessageID) != 0 || recv.Count(d.MessageID) != 0 {
		t.Fatal("a rolled-back transaction's message was delivered")
	}
	if recv.Count(a.MessageID) != 1 || recv.Count(c.MessageID) != 1 {
		t.Errorf("committed messages delivered %d and %d times", recv.Count(a.MessageID), recv.Count(c.MessageID))
	}
}

// TestCommitOnAnotherReplica begins on replica A, kills it, and commits on
// replica B; then kills the only replica right after a commit was
// acknowledged and restarts it.
func TestCommitOnAnotherReplica(t *testing.T) {
	s := stack(t)
	a := testenv.StartGateway(t, s)
	b := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-replica", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, a, testenv.AdminKey, hook)

	tx := begin(t, a, testenv.AdminKey, prd, topic, "via A", "T1")
	a.Kill()
	start := time.Now()
	if r := decide(t, b, testenv.AdminKey, tx.TransactionID, "commit"); r.Status != 200 {
		t.Fatalf("commit on B: %d %s", r.Status, r.Body)
	}
	recv.WaitForID(t, tx.MessageID, 30*time.Second)
	t.Logf("commit on B to consumable: %s", time.Since(start))

	tx2 := begin(t, b, testenv.AdminKey, prd, topic, "then crash", "T2")
	if r := decide(t, b, testenv.AdminKey, tx2.TransactionID, "commit"); r.Status != 200 {
		t.Fatalf("commit: %d %s", r.Status, r.Body)
	}
	b.Kill()
	c := testenv.StartGateway(t, s)
	recv.WaitForID(t, tx2.MessageID, 60*time.Second)
	sentinel(t, c, recv, topic)
	if n := recv.Count(tx2.MessageID); n != 1 {
		t.Fatalf("committed message delivered %d times, want 1", n)
	}
	if n := recv.Count(tx.MessageID); n != 1 {
		t.Fatalf("message committed on B delivered %d times, want 1", n)
	}
}

// TestCheckWebhookFailures: a webhook that is down, then answers garbage,
// never commits; once it answers properly the transaction resolves.
func TestCheckWebhookFailures(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-hookdown", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 503, `{"decision":"commit"}` })
	prd := registerProducer(t, g, testenv.AdminKey, hook)

	tx := begin(t, g, testenv.AdminKey, prd, topic, "eventually", "T")
	testenv.Eventually(t, 30*time.Second, func() error {
		if n := len(hook.callsFor(tx.TransactionID)); n < 2 {
			return fmt.Errorf("%d check calls", n)
		}
		return nil
	})
	if _, v := getTx(t, g, testenv.AdminKey, tx.TransactionID); v.State != "pending" || v.LastCheckOutcome != "http_503" {
		t.Fatalf("after 503s: %+v", v)
	}
	hook.setAnswer(func(checkCall) (int, string) { return 200, `{"status":"error","message":"db down"}` })
	testenv.Eventually(t, 30*time.Second, func() error {
		if _, v := getTx(t, g, testenv.AdminKey, tx.TransactionID); v.LastCheckOutcome != "bad_body" {
			return fmt.Errorf("last outcome %q", v.LastCheckOutcome)
		}
		return nil
	})
	if _, v := getTx(t, g, testenv.AdminKey, tx.TransactionID); v.State != "pending" {
		t.Fatalf("a 200 with an error body decided the transaction: %+v", v)
	}
	if recv.Count(tx.MessageID) != 0 {
		t.Fatal("delivered before any commit")
	}
	hook.setAnswer(func(checkCall) (int, string) { return 200, `{"decision":"commit"}` })
	recv.WaitForID(t, tx.MessageID, 60*time.Second)
	waitState(t, g, testenv.AdminKey, tx.TransactionID, "committed")
}

func TestTransactionConflictsAndIsolation(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-conflict", 1)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	tx := begin(t, g, testenv.AdminKey, prd, topic, "x", "T")

	for i := 0; i < 2; i++ {
		if r := decide(t, g, testenv.AdminKey, tx.TransactionID, "commit"); r.Status != 200 {
			t.Fatalf("commit #%d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := decide(t, g, testenv.AdminKey, tx.TransactionID, "rollback")
	if r.Status != 409 || r.problemType() != "transaction-state-conflict" || !strings.Contains(string(r.Body), "committed") {
		t.Fatalf("rollback after commit: %d %s", r.Status, r.Body)
	}
	if r := decide(t, g, testenv.AdminKey, "tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H", "commit"); r.Status != 404 || r.problemType() != "transaction-not-found" {
		t.Fatalf("unknown id: %d %s", r.Status, r.Body)
	}
	if r := decide(t, g, testenv.OtherKey, tx.TransactionID, "rollback"); r.Status != 404 || r.problemType() != "transaction-not-found" {
		t.Fatalf("another tenant's transaction: %d %s", r.Status, r.Body)
	}
	if st, _ := getTx(t, g, testenv.OtherKey, tx.TransactionID); st != 404 {
		t.Fatalf("another tenant reads the transaction: %d", st)
	}
	// orders may only run transactions on orders-* topics.
	r = post(t, g.URL+"/v1/transactions", testenv.OrdersKey, map[string]any{"producer": prd, "topic": "payments", "body": "x"})
	if r.Status != 403 || r.problemType() != "forbidden" {
		t.Fatalf("transaction on a topic outside the scope: %d %s", r.Status, r.Body)
	}
	// The admin tenant's producer is not the orders tenant's.
	r = post(t, g.URL+"/v1/transactions", testenv.OrdersKey, map[string]any{"producer": prd, "topic": topic, "body": "x"})
	if r.Status != 404 || r.problemType() != "producer-not-found" {
		t.Fatalf("another tenant's producer: %d %s", r.Status, r.Body)
	}
	r = post(t, g.URL+"/v1/producers", testenv.AdminKey, map[string]any{"name": "bad", "checkUrl": "ftp://example.com/check"})
	if r.Status != 400 || r.problemType() != "invalid-webhook-url" {
		t.Fatalf("ftp check URL: %d %s", r.Status, r.Body)
	}
	r = post(t, g.URL+"/v1/transactions", testenv.AdminKey, map[string]any{"producer": prd, "topic": topic, "body": "x", "delaySeconds": 3})
	if r.Status != 400 || r.problemType() != "validation" {
		t.Fatalf("unknown field on begin: %d %s", r.Status, r.Body)
	}
}

// TestManyTransactionsRandomDecisions: 1,000 transactions from 32 clients
// with random decisions; every committed one is delivered once, no
// rolled-back one at all.
func TestManyTransactionsRandomDecisions(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-many", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.AdminKey, hook)

	const total, clients = 1000, 32
	var (
		mu         sync.Mutex
		committed  []string
		rolledBack []string
		wg         sync.WaitGroup
	)
	work := make(chan int, total)
	for i := 0; i < total; i++ {
		work <- i
	}
	close(work)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				tx := begin(t, g, testenv.AdminKey, prd, topic, fmt.Sprintf("tx-%d", i), "M")
				what := "commit"
				if rand.IntN(2) == 0 {
					what = "rollback"
				}
				if r := decide(t, g, testenv.AdminKey, tx.TransactionID, what); r.Status != 200 {
					t.Errorf("%s: %d %s", what, r.Status, r.Body)
					return
				}
				mu.Lock()
				if what == "commit" {
					committed = append(committed, tx.MessageID)
				} else {
					rolledBack = append(rolledBack, tx.MessageID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	recv.WaitFor(t, len(committed), 120*time.Second)
	sentinel(t, g, recv, topic)
	counts := map[string]int{}
	for _, m := range recv.All() {
		counts[testenv.ID(m)]++
	}
	for _, id := range committed {
		if counts[id] != 1 {
			t.Fatalf("committed message %s delivered %d times", id, counts[id])
		}
	}
	for _, id := range rolledBack {
		if counts[id] != 0 {
			t.Fatalf("rolled-back message %s delivered", id)
		}
	}
	t.Logf("%d committed, %d rolled back", len(committed), len(rolledBack))
}

// TestUndecidedPastMaxChecks: a webhook that always answers unknown leaves
// the transaction undecided until the broker's last check-back (5 in the
// test broker); it becomes unknown_after_max_checks and is never delivered.
func TestUndecidedPastMaxChecks(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-maxcheck", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	tx := begin(t, g, testenv.AdminKey, prd, topic, "never decided", "U")
	v := waitState(t, g, testenv.AdminKey, tx.TransactionID, "unknown_after_max_checks")
	if v.CheckCount < 5 || v.LastCheckOutcome != "unknown" {
		t.Errorf("transaction = %+v", v)
	}
	if r := decide(t, g, testenv.AdminKey, tx.TransactionID, "commit"); r.Status != 409 || r.problemType() != "transaction-state-conflict" {
		t.Errorf("commit after the broker gave up: %d %s", r.Status, r.Body)
	}
	metrics := string(get(t, g.URL+"/metrics").Body)
	if !strings.Contains(metrics, `zeroloss_transactions_total{state="unknown_after_max_checks"}`) {
		t.Error("the discarded transaction is not counted")
	}
	sentinel(t, g, recv, topic)
	if recv.Count(tx.MessageID) != 0 {
		t.Fatal("an undecided transaction's message was delivered")
	}
}

// TestFreshGatewayIsCheckedBack is the seed's scenario against a gateway
// started a moment before, with the gateway's own resolver off so only the
// broker's check-backs can decide: TAGA commits, TAGB rolls back, TAGC is
// begun at once and left undecided; the broker's very first check-back of
// TAGC reaches the gateway (its group was registered before /readyz), the
// check URL answers commit, and TAGC is consumed once.
func TestFreshGatewayIsCheckedBack(t *testing.T) {
	s := stack(t)
	topic := s.Topic(t, "orders-fresh", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(c checkCall) (int, string) {
		if c.Tag == "TAGC" {
			return 200, `{"decision":"commit"}`
		}
		return 200, `{"decision":"unknown"}`
	})
	g := testenv.StartGateway(t, s, "ZEROLOSS_TX_RESOLVE_AFTER=0s")
	prd := registerProducer(t, g, testenv.OrdersOpsKey, hook)
	c := begin(t, g, testenv.OrdersKey, prd, topic, "order C", "TAGC")
	a := begin(t, g, testenv.OrdersKey, prd, topic, "order A", "TAGA")
	b := begin(t, g, testenv.OrdersKey, prd, topic, "order B", "TAGB")
	if r := decide(t, g, testenv.OrdersKey, a.TransactionID, "commit"); r.Status != 200 {
		t.Fatalf("commit A: %d %s", r.Status, r.Body)
	}
	if r := decide(t, g, testenv.OrdersKey, b.TransactionID, "rollback"); r.Status != 200 {
		t.Fatalf("rollback B: %d %s", r.Status, r.Body)
	}
	recv.WaitForID(t, a.MessageID, 30*time.Second)
	recv.WaitForID(t, c.MessageID, 30*time.Second)
	cv := waitState(t, g, testenv.OrdersKey, c.TransactionID, "committed")
	if cv.DecidedBy != "check" {
		t.Errorf("C = %+v", cv)
	}
	calls := hook.callsFor(c.TransactionID)
	if len(calls) == 0 || calls[0].CheckCount != 1 || !calls[0].SignatureOK {
		t.Fatalf("the broker's first check-back of C did not reach the check URL: %+v", calls)
	}
	sentinel(t, g, recv, topic)
	if recv.Count(a.MessageID) != 1 || recv.Count(c.MessageID) != 1 || recv.Count(b.MessageID) != 0 {
		t.Fatalf("deliveries: A %d, B %d, C %d; want 1, 0, 1", recv.Count(a.MessageID), recv.Count(b.MessageID), recv.Count(c.MessageID))
	}
}

// TestGatewayResolvesUndecided: the gateway asks the check URL itself
// shortly after begin, before the broker's first check-back (the first call
// carries checkCount 0), commits on its answer, and the message is consumed
// once.
func TestGatewayResolvesUndecided(t *testing.T) {
	s := stack(t)
	topic := s.Topic(t, "orders-resolve", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"commit"}` })
	g := testenv.StartGateway(t, s, "ZEROLOSS_TX_RESOLVE_AFTER=200ms")
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	tx := begin(t, g, testenv.AdminKey, prd, topic, "resolved by the gateway", "R")
	recv.WaitForID(t, tx.MessageID, 30*time.Second)
	v := waitState(t, g, testenv.AdminKey, tx.TransactionID, "committed")
	calls := hook.callsFor(tx.TransactionID)
	if v.DecidedBy != "check" || len(calls) == 0 || calls[0].CheckCount != 0 || !calls[0].SignatureOK {
		t.Fatalf("transaction %+v, check calls %+v: want decided by the gateway's own first call", v, calls)
	}
	sentinel(t, g, recv, topic)
	if n := recv.Count(tx.MessageID); n != 1 {
		t.Fatalf("consumed %d times, want 1", n)
	}
}

// TestUndecidedBecomesTerminalAfterCheckWindow: when no decision comes
// within the check window (the broker has discarded the half message), the
// transaction becomes unknown_after_max_checks on its own — visible in GET,
// in the list filtered by state, in the metric and as an error log line —
// even when the broker's last check-back is not seen (txCheckMax above the
// broker's).
func TestUndecidedBecomesTerminalAfterCheckWindow(t *testing.T) {
	s := stack(t)
	topic := s.Topic(t, "orders-window", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	g := testenv.StartGateway(t, s, "ZEROLOSS_TX_CHECK_MAX=1000", "ZEROLOSS_TX_CHECK_WINDOW=10s", "ZEROLOSS_TX_RESOLVE_AFTER=1s")
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	tx := begin(t, g, testenv.AdminKey, prd, topic, "never decided", "W")
	waitState(t, g, testenv.AdminKey, tx.TransactionID, "unknown_after_max_checks")

	r := getAuth(t, g.URL+"/v1/transactions?state=unknown_after_max_checks&limit=500", testenv.AdminKey)
	var list struct{ Items []txView }
	r.json(t, &list)
	found := false
	for _, it := range list.Items {
		if it.State != "unknown_after_max_checks" {
			t.Errorf("filtered list holds %+v", it)
		}
		found = found || it.TransactionID == tx.TransactionID
	}
	if !found {
		t.Errorf("the transaction is not listed under its state: %s", r.Body)
	}
	r = getAuth(t, g.URL+"/v1/transactions?state=pending&limit=500", testenv.AdminKey)
	if strings.Contains(string(r.Body), tx.TransactionID) {
		t.Errorf("still listed as pending: %s", r.Body)
	}
	if m := string(get(t, g.URL+"/metrics").Body); !strings.Contains(m, `zeroloss_transactions_total{state="unknown_after_max_checks"}`) {
		t.Error("not counted in zeroloss_transactions_total")
	}
	if log := g.Log(); !strings.Contains(log, "undecided past the broker's check-backs") || !strings.Contains(log, tx.TransactionID) {
		t.Error("no error log line names the transaction")
	}
	sentinel(t, g, recv, topic)
	if recv.Count(tx.MessageID) != 0 {
		t.Fatal("an undecided transaction's message was delivered")
	}
}

// TestBeginWithIdempotencyKey: a begin retried with the same
// Idempotency-Key gets the same transaction and message ids (a replay), and
// only one transaction exists.
func TestBeginWithIdempotencyKey(t *testing.T) {
	s := stack(t)
	topic := s.Topic(t, "orders-idem", 1)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	g := testenv.StartGateway(t, s)
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	body := map[string]any{"producer": prd, "topic": topic, "body": "once", "tag": "I"}
	key := fmt.Sprintf("begin-once-%d", rand.Int64())
	first := post(t, g.URL+"/v1/transactions", testenv.AdminKey, body, "Idempotency-Key", key)
	second := post(t, g.URL+"/v1/transactions", testenv.AdminKey, body, "Idempotency-Key", key)
	if first.Status != 201 || second.Status != 201 || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("begin twice: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	var a, b txView
	first.json(t, &a)
	second.json(t, &b)
	if a.TransactionID != b.TransactionID || a.MessageID != b.MessageID {
		t.Fatalf("retry got %+v, first %+v", b, a)
	}
	r := getAuth(t, g.URL+"/v1/transactions?producer="+prd, testenv.AdminKey)
	if n := strings.Count(string(r.Body), `"transactionId"`); n != 1 {
		t.Fatalf("%d transactions listed for the producer, want 1: %s", n, r.Body)
	}
}
