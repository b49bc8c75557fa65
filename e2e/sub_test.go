package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// receiver is a test subscriber endpoint. It verifies each delivery's
// Standard Webhooks signature with its own HMAC code, answers by the
// message body's instruction, and keeps a ledger of what it processed,
// idempotent on webhook-id as the README tells subscribers to be.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex

	secret    string
	attempts  map[string]int // webhook-id → deliveries seen
	processed []delivered    // ledger: first successful processing of each webhook-id
	done      map[string]bool
	at        map[string]time.Time   // first successful processing
	times     map[string][]time.Time // every attempt
	badSig    int
	fixed     bool          // "always-fail" succeeds once fixed
	downUntil time.Time     // answers 503 to everything before then
	slow      time.Duration // each answer takes this long
}

type delivered struct {
	ID     string
	Body   string
	Header http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{attempts: map[string]int{}, done: map[string]bool{}, at: map[string]time.Time{}, times: map[string][]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + req.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	ok := false
	for _, sig := range strings.Fields(req.Header.Get("webhook-signature")) {
		ok = ok || hmac.Equal([]byte(sig), []byte(want))
	}
	if !ok {
		r.badSig++
		r.mu.Unlock()
		w.WriteHeader(401)
		return
	}
	r.attempts[id]++
	r.times[id] = append(r.times[id], time.Now())
	n, fixed, down, slow := r.attempts[id], r.fixed, time.Now().Before(r.downUntil), r.slow
	r.mu.Unlock()
	time.Sleep(slow)

	status := 200
	switch {
	case down:
		status = 503
	case strings.HasPrefix(string(body), "retry-after-3") && n == 1:
		w.Header().Set("Retry-After", "3")
		status = 503
	case strings.HasPrefix(string(body), "fail-2") && n <= 2:
		status = 503
	case strings.HasPrefix(string(body), "always-fail") && !fixed:
		status = 503
	case strings.HasPrefix(string(body), "reject-400") && !fixed:
		status = 400
	case strings.HasPrefix(string(body), "slow-once") && n == 1:
		time.Sleep(1500 * time.Millisecond) // past the subscription's timeout
	}
	if status == 200 {
		r.mu.Lock()
		if !r.done[id] {
			r.done[id] = true
			r.at[id] = time.Now()
			r.processed = append(r.processed, delivered{ID: id, Body: string(body), Header: req.Header.Clone()})
		}
		r.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (r *receiver) ledger() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.processed...)
}

func (r *receiver) attemptsOf(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[id]
}

func (r *receiver) waitProcessed(t *testing.T, n int, within time.Duration) []delivered {
	t.Helper()
	testenv.Eventually(t, within, func() error {
		if got := len(r.ledger()); got < n {
			return fmt.Errorf("processed %d of %d", got, n)
		}
		return nil
	})
	return r.ledger()
}

type subView struct {
	ID           string `json:"id"`
	Secret       string `json:"secret"`
	State        string `json:"state"`
	PausedReason string `json:"pausedReason"`
}

func createSub(t *testing.T, g *testenv.Gateway, r *receiver, topic string, extra map[string]any) subView {
	t.Helper()
	// Retries a second apart (plus the broker's revive, a few seconds), so
	// the tests do not wait for the default schedule.
	body := map[string]any{"name": "test", "topic": topic, "endpoint": r.srv.URL + "/hook", "timeoutMs": 2000, "maxAttempts": 3,
		"retry": map[string]any{"delaysSeconds": []int{1}}}
	for k, v := range extra {
		body[k] = v
	}
	res := post(t, g.URL+"/v1/subscriptions", testenv.AdminKey, body)
	if res.Status != 201 {
		t.Fatalf("create subscription: %d %s", res.Status, res.Body)
	}
	var s subView
	res.json(t, &s)
	r.mu.Lock()
	r.secret = s.Secret
	r.mu.Unlock()
	return s
}

func publish(t *testing.T, g *testenv.Gateway, topic string, body map[string]any) published {
	t.Helper()
	return mustPublish(t, g.URL+"/v1/topics/"+topic+"/messages", testenv.AdminKey, body)
}

func TestSubscriptionDeliversSignedCloudEvents(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs", 2)
	r := newReceiver(t)
	createSub(t, g, r, topic, nil)
	var sent []published
	for i := 0; i < 5; i++ {
		sent = append(sent, mustPublish(t, g.URL+"/v1/topics/"+topic+"/messages", testenv.AdminKey,
			map[string]any{"body": fmt.Sprintf("event-%d", i), "tag": "T", "keys": []string{fmt.Sprintf("k%d", i)}, "properties": map[string]string{"region": "eu"}},
			"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	}
	got := r.waitProcessed(t, 5, 60*time.Second)
	byID := map[string]delivered{}
	for _, d := range got {
		byID[d.ID] = d
	}
	for i, p := range sent {
		d, ok := byID[p.MessageID]
		if !ok {
			t.Fatalf("message %s not delivered (ledger %d)", p.MessageID, len(got))
		}
		h := d.Header
		if d.Body != fmt.Sprintf("event-%d", i) || h.Get("ce-id") != p.MessageID || h.Get("ce-specversion") != "1.0" ||
			h.Get("ce-source") != "/zeroloss/topics/"+topic || h.Get("ce-type") == "" || h.Get("ce-time") == "" ||
			h.Get("ce-tag") != "T" || h.Get("ce-keys") != fmt.Sprintf("k%d", i) || !strings.Contains(h.Get("ce-properties"), "region=eu") {
			t.Errorf("delivery %d: body %q headers %v", i, d.Body, h)
		}
		if tp := h.Get("traceparent"); !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
			t.Errorf("traceparent %q does not continue the producer's trace", tp)
		}
	}
	if r.badSig != 0 {
		t.Errorf("%d deliveries with a bad signature", r.badSig)
	}
}

func TestRetriesDeadLettersAndRedrive(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-retry", 2)
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, map[string]any{"maxAttempts": 3})

	flaky := publish(t, g, topic, map[string]any{"body": "fail-2"})
	bad := publish(t, g, topic, map[string]any{"body": "reject-400"})
	dead := publish(t, g, topic, map[string]any{"body": "always-fail"})

	r.waitProcessed(t, 1, 60*time.Second)
	if n := r.attemptsOf(flaky.MessageID); n != 3 {
		t.Errorf("fail-twice message: %d attempts, want 3", n)
	}
	var dls struct {
		Items []struct {
			MessageID string `json:"messageId"`
			Attempts  int    `json:"attempts"`
			LastError string `json:"lastError"`
		} `json:"items"`
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters", testenv.AdminKey)
		if res.Status != 200 {
			return fmt.Errorf("dead letters: %d %s", res.Status, res.Body)
		}
		res.json(t, &dls)
		if len(dls.Items) < 2 {
			return fmt.Errorf("%d dead letters: %s", len(dls.Items), res.Body)
		}
		return nil
	})
	found := map[string]int{}
	for _, d := range dls.Items {
		found[d.MessageID] = d.Attempts
		if d.LastError == "" {
			t.Errorf("dead letter %s has no last error", d.MessageID)
		}
	}
	if found[bad.MessageID] != 1 || r.attemptsOf(bad.MessageID) != 1 {
		t.Errorf("400 answer: %d attempts (dead letter says %d), want 1", r.attemptsOf(bad.MessageID), found[bad.MessageID])
	}
	if found[dead.MessageID] != 3 || r.attemptsOf(dead.MessageID) != 3 {
		t.Errorf("always failing: %d attempts (dead letter says %d), want 3", r.attemptsOf(dead.MessageID), found[dead.MessageID])
	}

	r.mu.Lock()
	r.fixed = true
	r.mu.Unlock()
	res := post(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters/redrive", testenv.AdminKey, map[string]any{})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"count":2`) {
		t.Fatalf("redrive: %d %s", res.Status, res.Body)
	}
	r.waitProcessed(t, 3, 60*time.Second)
	count := map[string]int{}
	for _, d := range r.ledger() {
		count[d.ID]++
	}
	if len(count) != 3 || count[flaky.MessageID] != 1 || count[bad.MessageID] != 1 || count[dead.MessageID] != 1 {
		t.Errorf("ledger after redrive: %v", count)
	}
	res = getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters", testenv.AdminKey)
	if res.json(t, &dls); len(dls.Items) != 0 {
		t.Errorf("dead letters after redrive: %s", res.Body)
	}
}

func TestSameBusinessKeyIsDeliveredOnce(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-dedup", 1)
	r := newReceiver(t)
	createSub(t, g, r, topic, map[string]any{"dedupKey": map[string]any{"source": "key"}})
	publish(t, g, topic, map[string]any{"body": "order 7 paid", "keys": []string{"evt-7"}})
	publish(t, g, topic, map[string]any{"body": "order 7 paid (resent)", "keys": []string{"evt-7"}})
	last := publish(t, g, topic, map[string]any{"body": "order 8 paid", "keys": []string{"evt-8"}})
	got := r.waitProcessed(t, 2, 60*time.Second)
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, d := range r.ledger() {
			if d.Body == "order 8 paid" {
				return nil
			}
		}
		return fmt.Errorf("message %s not processed", last.MessageID)
	})
	got = r.ledger()
	ids := map[string]bool{}
	for _, d := range got {
		ids[d.ID] = true
	}
	if len(got) != 2 || !ids["key:evt-7"] || !ids["key:evt-8"] {
		t.Fatalf("ledger = %+v, want evt-7 once and evt-8", got)
	}
	if n := r.attemptsOf("key:evt-7"); n != 1 {
		t.Fatalf("the resent event reached the endpoint %d times", n)
	}
}

func TestSlowEndpointIsRetriedNotDoubleProcessed(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-slow", 1)
	r := newReceiver(t)
	createSub(t, g, r, topic, map[string]any{"timeoutMs": 500})
	p := publish(t, g, topic, map[string]any{"body": "slow-once"})
	r.waitProcessed(t, 1, 60*time.Second)
	testenv.Eventually(t, 30*time.Second, func() error {
		if n := r.attemptsOf(p.MessageID); n < 2 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	if l := r.ledger(); len(l) != 1 || l[0].ID != p.MessageID {
		t.Fatalf("ledger = %+v", l)
	}
}

func TestTwoReplicasShareQueuesAndSurviveAKill(t *testing.T) {
	s := stack(t)
	a := testenv.StartGateway(t, s)
	b := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-ha", 4)
	r := newReceiver(t)
	createSub(t, a, r, topic, map[string]any{"maxAttempts": 10})
	const n = 200
	for i := 0; i < n; i++ {
		publish(t, b, topic, map[string]any{"body": fmt.Sprintf("m-%d", i)})
		if i == n/2 {
			a.Kill()
		}
	}
	got := r.waitProcessed(t, n, 120*time.Second)
	seen := map[string]int{}
	for _, d := range got {
		seen[d.Body]++
	}
	for i := 0; i < n; i++ {
		if seen[fmt.Sprintf("m-%d", i)] != 1 {
			t.Fatalf("m-%d processed %d times", i, seen[fmt.Sprintf("m-%d", i)])
		}
	}
	dups := 0
	r.mu.Lock()
	for _, c := range r.attempts {
		dups += c - 1
	}
	r.mu.Unlock()
	t.Logf("%d messages processed once each; %d repeated deliveries reached the endpoint (suppressed by its webhook-id check)", n, dups)
}

func TestPauseResumeAndDeletePropagate(t *testing.T) {
	s := stack(t)
	a := testenv.StartGateway(t, s)
	b := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-pause", 2)
	r := newReceiver(t)
	sub := createSub(t, a, r, topic, nil)
	publish(t, b, topic, map[string]any{"body": "before"})
	r.waitProcessed(t, 1, 60*time.Second)

	if res := post(t, b.URL+"/v1/subscriptions/"+sub.ID+"/pause", testenv.AdminKey, ""); res.Status != 200 || !strings.Contains(string(res.Body), `"paused"`) {
		t.Fatalf("pause: %d %s", res.Status, res.Body)
	}
	time.Sleep(2 * time.Second) // both replicas act on the change (pub/sub); the check below is on content
	publish(t, a, topic, map[string]any{"body": "while paused"})
	time.Sleep(3 * time.Second) // give a (wrongly) running consumer time to deliver
	if l := r.ledger(); len(l) != 1 {
		t.Fatalf("delivered while paused: %+v", l)
	}
	if res := post(t, a.URL+"/v1/subscriptions/"+sub.ID+"/resume", testenv.AdminKey, ""); res.Status != 200 {
		t.Fatalf("resume: %d %s", res.Status, res.Body)
	}
	r.waitProcessed(t, 2, 60*time.Second)

	req, _ := http.NewRequest(http.MethodDelete, b.URL+"/v1/subscriptions/"+sub.ID, nil)
	req.Header.Set("Authorization", "Bearer "+testenv.AdminKey)
	resp, err := httpClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v %v", err, resp)
	}
	resp.Body.Close()
	time.Sleep(2 * time.Second)
	publish(t, a, topic, map[string]any{"body": "after delete"})
	time.Sleep(3 * time.Second)
	if l := r.ledger(); len(l) != 2 {
		t.Fatalf("delivered after delete: %+v", l)
	}
	if res := getAuth(t, a.URL+"/v1/subscriptions/"+sub.ID, testenv.AdminKey); res.Status != 404 || res.problemType() != "subscription-not-found" {
		t.Fatalf("deleted subscription: %d %s", res.Status, res.Body)
	}
}

func TestEndpointURLsAreGuarded(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s, "ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=false")
	topic := s.Topic(t, "subs-ssrf", 1)
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://[::1]/x", "ftp://example.com/x", "not a url", "http://user:pw@example.com/"} {
		res := post(t, g.URL+"/v1/subscriptions", testenv.AdminKey, map[string]any{"name": "x", "topic": topic, "endpoint": u})
		if res.Status != 400 || res.problemType() != "invalid-webhook-url" {
			t.Errorf("endpoint %q: %d %s", u, res.Status, res.Body)
		}
	}
	if res := post(t, g.URL+"/v1/subscriptions", testenv.OrdersKey, map[string]any{"name": "x", "topic": topic, "endpoint": "https://example.com/x"}); res.Status != 403 {
		t.Errorf("key without subscribe scope: %d %s", res.Status, res.Body)
	}
}

func getAuth(t *testing.T, url, key string) reply {
	t.Helper()
	return doAuth(t, http.MethodGet, url, key)
}

func deleteAuth(t *testing.T, url, key string) reply {
	t.Helper()
	return doAuth(t, http.MethodDelete, url, key)
}

// doAuth makes a bodiless request with key.
func doAuth(t *testing.T, method, url, key string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// TestOrderedSubscriptionBlocksOnlyItsQueue: with ordered delivery a
// message being retried holds back the later messages of its queue, so the
// endpoint sees each key's messages in send order.
func TestOrderedSubscriptionKeepsOrderThroughRetries(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-ordered", 4)
	r := newReceiver(t)
	createSub(t, g, r, topic, map[string]any{"ordered": true, "maxAttempts": 5})
	var want []string
	for i := 0; i < 6; i++ {
		body := fmt.Sprintf("k1-%d", i)
		if i == 1 {
			body = "fail-2 k1-1" // answered 503 twice before it succeeds
		}
		publish(t, g, topic, map[string]any{"body": body, "shardingKey": "k1"})
		want = append(want, body)
	}
	got := r.waitProcessed(t, 6, 90*time.Second)
	for i, d := range got {
		if d.Body != want[i] {
			t.Fatalf("delivery %d was %q, want %q (order %v)", i, d.Body, want[i], got)
		}
	}
}

// TestDeliveryWaitsForRedis: while Redis does not answer, a message is held,
// not delivered unchecked and not dropped; once Redis answers it is
// delivered once. (A private stack: pausing the shared Redis would stall
// other packages' tests.)
func TestDeliveryWaitsForRedis(t *testing.T) {
	s := testenv.Private(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-redis", 1)
	r := newReceiver(t)
	createSub(t, g, r, topic, nil)
	publish(t, g, topic, map[string]any{"body": "warm-up"})
	r.waitProcessed(t, 1, 60*time.Second)

	rdb := s.Redis(t)
	const pause = 6 * time.Second
	paused := time.Now()
	if err := rdb.Do(context.Background(), "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	p := publish(t, g, topic, map[string]any{"body": "during the outage"}) // sends need no Redis
	got := r.waitProcessed(t, 2, 90*time.Second)
	r.mu.Lock()
	attempts := r.attempts[p.MessageID]
	r.mu.Unlock()
	if got[1].ID != p.MessageID || attempts != 1 {
		t.Fatalf("ledger %v, %d attempts", got, attempts)
	}
	// Redis answers no command before the pause ends, so a delivery before
	// then would have skipped the dedup check.
	if at := receivedAt(r, p.MessageID); at.Before(paused.Add(pause - 500*time.Millisecond)) {
		t.Fatalf("delivered %s into a %s Redis outage: the dedup check was skipped", at.Sub(paused), pause)
	}
}

func receivedAt(r *receiver, id string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[id]
}

// TestRetryAfterIsHonoured: a 503 with Retry-After: 3 brings the next
// attempt no sooner than 3 s later (the subscription's schedule says 1 s).
func TestRetryAfterIsHonoured(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-retryafter", 1)
	r := newReceiver(t)
	createSub(t, g, r, topic, nil)
	p := publish(t, g, topic, map[string]any{"body": "retry-after-3"})
	r.waitProcessed(t, 1, 60*time.Second)
	r.mu.Lock()
	times := r.times[p.MessageID]
	r.mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("%d attempts, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 2500*time.Millisecond {
		t.Fatalf("retried after %s despite Retry-After: 3", gap)
	}
}

// TestRedriveByTimeWindow: redrive picks dead letters by when they died
// ("since" inclusive, "until" exclusive), alone or together, and refuses a
// window that ends before it starts or a time that is not RFC 3339 with a
// 400 validation problem, sending nothing.
func TestRedriveByTimeWindow(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "subs-window", 1)
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, map[string]any{"maxAttempts": 1})
	base := g.URL + "/v1/subscriptions/" + sub.ID + "/dead-letters"

	type deadLetter struct {
		MessageID string    `json:"messageId"`
		DeadAt    time.Time `json:"deadAt"`
	}
	deadAt := func(id string) time.Time {
		var at time.Time
		testenv.Eventually(t, 60*time.Second, func() error {
			var dls struct {
				Items []deadLetter `json:"items"`
			}
			res := getAuth(t, base, testenv.AdminKey)
			if res.Status != 200 {
				return fmt.Errorf("dead letters: %d %s", res.Status, res.Body)
			}
			res.json(t, &dls)
			for _, d := range dls.Items {
				if d.MessageID == id {
					at = d.DeadAt
					return nil
				}
			}
			return fmt.Errorf("%s not dead yet: %s", id, res.Body)
		})
		return at
	}
	// Three dead letters, one after the other: each is dead before the
	// next is published, so their times are ordered.
	var msgs []published
	var died []time.Time
	for _, body := range []string{"reject-400 first", "reject-400 second", "reject-400 third"} {
		m := publish(t, g, topic, map[string]any{"body": body})
		msgs = append(msgs, m)
		died = append(died, deadAt(m.MessageID))
	}
	if !died[0].Before(died[1]) || !died[1].Before(died[2]) {
		t.Fatalf("dead letters died at %v", died)
	}

	redrive := base + "/redrive"
	stamp := func(at time.Time) string { return at.UTC().Format(time.RFC3339Nano) }
	for name, body := range map[string]map[string]any{
		"until before since": {"since": stamp(died[2]), "until": stamp(died[0])},
		"until not a time":   {"until": "yesterday"},
		"since not a time":   {"since": "2026-13-45T99:00:00Z"},
		"until a number":     {"until": 1700000000},
		"until without zone": {"until": "2026-01-02T03:04:05"},
	} {
		res := post(t, redrive, testenv.AdminKey, body)
		if res.Status != http.StatusBadRequest || res.problemType() != "validation" {
			t.Errorf("%s: %d %s, want 400 validation", name, res.Status, res.Body)
		}
	}

	r.mu.Lock()
	r.fixed = true
	r.mu.Unlock()
	count := func(body map[string]any, want int) {
		t.Helper()
		res := post(t, redrive, testenv.AdminKey, body)
		if res.Status != 200 || !strings.Contains(string(res.Body), fmt.Sprintf(`"count":%d`, want)) {
			t.Fatalf("redrive %v: %d %s, want count %d", body, res.Status, res.Body, want)
		}
	}
	// Nothing was sent by the refused requests.
	if l := r.ledger(); len(l) != 0 {
		t.Fatalf("delivered after refused redrives: %+v", l)
	}
	// The window [died[1], died[2]) holds the second only; "until" alone
	// the first; "since" alone the third.
	count(map[string]any{"since": stamp(died[1]), "until": stamp(died[2])}, 1)
	r.waitProcessed(t, 1, 60*time.Second)
	count(map[string]any{"until": stamp(died[1])}, 1)
	r.waitProcessed(t, 2, 60*time.Second)
	count(map[string]any{"since": stamp(died[2]), "until": stamp(died[2].Add(time.Hour))}, 1)
	r.waitProcessed(t, 3, 60*time.Second)
	order := map[string]int{}
	for i, d := range r.ledger() {
		order[d.ID] = i + 1
	}
	if order[msgs[1].MessageID] != 1 || order[msgs[0].MessageID] != 2 || order[msgs[2].MessageID] != 3 {
		t.Errorf("delivered in order %v; want second, first, third", order)
	}
	var left struct {
		Items []deadLetter `json:"items"`
	}
	res := getAuth(t, base, testenv.AdminKey)
	if res.json(t, &left); len(left.Items) != 0 {
		t.Errorf("dead letters after the redrives: %s", res.Body)
	}
}
