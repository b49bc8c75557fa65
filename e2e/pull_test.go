package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// pulled is one message of a receive.
type pulled struct {
	MessageID      string            `json:"messageId"`
	DedupID        string            `json:"dedupId"`
	Topic          string            `json:"topic"`
	Body           string            `json:"body"`
	Encoding       string            `json:"encoding"`
	Tag            string            `json:"tag"`
	Keys           []string          `json:"keys"`
	Properties     map[string]string `json:"properties"`
	Attempt        int               `json:"attempt"`
	ReceiptHandle  string            `json:"receiptHandle"`
	InvisibleUntil time.Time         `json:"invisibleUntil"`
}

type receiptResult struct {
	ReceiptHandle    string    `json:"receiptHandle"`
	OK               bool      `json:"ok"`
	NewReceiptHandle string    `json:"newReceiptHandle"`
	InvisibleUntil   time.Time `json:"invisibleUntil"`
	Problem          *struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	} `json:"problem"`
}

func createPullSub(t *testing.T, g *testenv.Gateway, topic string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "pull", "topic": topic, "mode": "pull", "maxAttempts": 5}
	for k, v := range extra {
		body[k] = v
	}
	res := post(t, g.URL+"/v1/subscriptions", testenv.AdminKey, body)
	if res.Status != 201 {
		t.Fatalf("create pull subscription: %d %s", res.Status, res.Body)
	}
	var s struct {
		ID       string  `json:"id"`
		Mode     string  `json:"mode"`
		Endpoint *string `json:"endpoint"`
	}
	res.json(t, &s)
	if s.Mode != "pull" || s.Endpoint != nil {
		t.Fatalf("created %s", res.Body)
	}
	return s.ID
}

// receive makes one receive and requires 200.
func receive(t *testing.T, g *testenv.Gateway, sub string, body map[string]any) []pulled {
	t.Helper()
	res := post(t, g.URL+"/v1/subscriptions/"+sub+"/messages/receive", testenv.AdminKey, body)
	if res.Status != 200 {
		t.Fatalf("receive: %d %s", res.Status, res.Body)
	}
	var out struct {
		Messages []pulled `json:"messages"`
	}
	res.json(t, &out)
	return out.Messages
}

// receiveN receives until n messages arrived (failing after within).
func receiveN(t *testing.T, g *testenv.Gateway, sub string, n int, invisible int, within time.Duration) []pulled {
	t.Helper()
	var got []pulled
	testenv.Eventually(t, within, func() error {
		got = append(got, receive(t, g, sub, map[string]any{"maxMessages": n - len(got), "waitSeconds": 3, "invisibleSeconds": invisible})...)
		if len(got) < n {
			return fmt.Errorf("received %d of %d", len(got), n)
		}
		return nil
	})
	if len(got) != n {
		t.Fatalf("received %d messages, want %d: %+v", len(got), n, got)
	}
	return got
}

// settle posts handles to ack, nack or extend and requires 200 with one
// result per handle.
func settle(t *testing.T, g *testenv.Gateway, sub, op string, body map[string]any) []receiptResult {
	t.Helper()
	res := post(t, g.URL+"/v1/subscriptions/"+sub+"/messages/"+op, testenv.AdminKey, body)
	if res.Status != 200 {
		t.Fatalf("%s: %d %s", op, res.Status, res.Body)
	}
	var out struct {
		Results []receiptResult `json:"results"`
	}
	res.json(t, &out)
	if hs, _ := body["receiptHandles"].([]string); len(out.Results) != len(hs) {
		t.Fatalf("%s: %d results for %d handles: %s", op, len(out.Results), len(hs), res.Body)
	}
	return out.Results
}

func handles(ms ...pulled) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ReceiptHandle
	}
	return out
}

func problemOf(r receiptResult) string {
	if r.Problem == nil {
		return ""
	}
	return strings.TrimPrefix(r.Problem.Type, "https://zeroloss.dev/problems/")
}

// expectNothing receives for waitSeconds and requires no message.
func expectNothing(t *testing.T, g *testenv.Gateway, sub string, waitSeconds int) {
	t.Helper()
	if got := receive(t, g, sub, map[string]any{"waitSeconds": waitSeconds}); len(got) != 0 {
		t.Fatalf("received %+v, want nothing", got)
	}
}

func TestPullReceiveAndAck(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "pull", 2)
	sub := createPullSub(t, g, topic, nil)

	text := publish(t, g, topic, map[string]any{"body": "héllo", "tag": "TagA", "keys": []string{"k-1", "k-2"},
		"properties": map[string]string{"region": "eu"}})
	bin := []byte{0, 1, 0xff, 0xfe}
	binary := publish(t, g, topic, map[string]any{"body": base64.StdEncoding.EncodeToString(bin), "encoding": "base64"})

	got := receiveN(t, g, sub, 2, 30, 60*time.Second)
	byID := map[string]pulled{}
	for _, m := range got {
		byID[m.MessageID] = m
		if m.Attempt != 1 || m.Topic != topic || m.ReceiptHandle == "" || time.Until(m.InvisibleUntil) <= 0 {
			t.Errorf("message %+v", m)
		}
	}
	m := byID[text.MessageID]
	if m.Body != "héllo" || m.Encoding != "utf8" || m.Tag != "TagA" || strings.Join(m.Keys, ",") != "k-1,k-2" ||
		m.Properties["region"] != "eu" || len(m.Properties) != 1 || m.DedupID != text.MessageID {
		t.Errorf("text message %+v", m)
	}
	if b := byID[binary.MessageID]; b.Encoding != "base64" || b.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Errorf("binary message %+v", b)
	}
	for _, r := range settle(t, g, sub, "ack", map[string]any{"receiptHandles": handles(got...)}) {
		if !r.OK || r.Problem != nil {
			t.Errorf("ack result %+v", r)
		}
	}
	// Acked: never again, and a receive with nothing to give answers
	// empty after its wait.
	expectNothing(t, g, sub, 2)
}

// TestPullNackExtendAndLapseAcrossReplicas settles on one replica what
// another received: nack with a delay, extend, and a lapsed invisibility.
func TestPullNackExtendAndLapseAcrossReplicas(t *testing.T) {
	s := stack(t)
	g1 := testenv.StartGateway(t, s)
	g2 := testenv.StartGateway(t, s)
	topic := s.Topic(t, "pull-ha", 1)

	t.Run("nack", func(t *testing.T) {
		sub := createPullSub(t, g1, topic, nil)
		sent := publish(t, g1, topic, map[string]any{"body": "nack me"})
		first := receiveN(t, g1, sub, 1, 30, 60*time.Second)[0]
		if first.MessageID != sent.MessageID || first.Attempt != 1 {
			t.Fatalf("first %+v", first)
		}
		r := settle(t, g2, sub, "nack", map[string]any{"receiptHandles": handles(first), "delaySeconds": 2})[0]
		if !r.OK || r.InvisibleUntil.IsZero() {
			t.Fatalf("nack %+v", r)
		}
		again := receiveN(t, g2, sub, 1, 30, 60*time.Second)[0]
		if again.MessageID != sent.MessageID || again.Attempt != 2 || again.ReceiptHandle == first.ReceiptHandle {
			t.Errorf("after nack %+v", again)
		}
		if now := time.Now(); now.Before(r.InvisibleUntil) {
			t.Errorf("received again at %v, before the nack's delay ended at %v", now, r.InvisibleUntil)
		}
		if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": handles(first)})[0]; r.OK || problemOf(r) != "receipt-handle-invalid" {
			t.Errorf("ack with the nacked handle %+v", r)
		}
		if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": handles(again)})[0]; !r.OK {
			t.Errorf("ack on the other replica %+v", r)
		}
		expectNothing(t, g1, sub, 2)
	})

	t.Run("extend", func(t *testing.T) {
		sub := createPullSub(t, g1, topic, nil)
		sent := publish(t, g1, topic, map[string]any{"body": "extend me"})
		m := receiveN(t, g1, sub, 1, 2, 60*time.Second)[0]
		r := settle(t, g2, sub, "extend", map[string]any{"receiptHandles": handles(m), "invisibleSeconds": 60})[0]
		if !r.OK || r.NewReceiptHandle == "" || r.NewReceiptHandle == m.ReceiptHandle || time.Until(r.InvisibleUntil) < 30*time.Second {
			t.Fatalf("extend %+v", r)
		}
		// The replaced handle is refused (the broker would take it without
		// effect), on either replica.
		if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": []string{m.ReceiptHandle}})[0]; r.OK || problemOf(r) != "receipt-handle-invalid" {
			t.Errorf("ack with the replaced handle %+v", r)
		}
		// Without the extend it would be back a few seconds after its 2 s.
		expectNothing(t, g2, sub, 8)
		if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": []string{r.NewReceiptHandle}})[0]; !r.OK {
			t.Errorf("ack with the new handle %+v", r)
		}
		_ = sent
	})

	t.Run("lapse", func(t *testing.T) {
		sub := createPullSub(t, g1, topic, nil)
		sent := publish(t, g1, topic, map[string]any{"body": "forget me"})
		first := receiveN(t, g1, sub, 1, 2, 60*time.Second)[0]
		// Not acked: after its invisibility another replica receives it.
		again := receiveN(t, g2, sub, 1, 30, 60*time.Second)[0]
		if again.MessageID != sent.MessageID || again.Attempt != 2 {
			t.Fatalf("after the lapse %+v", again)
		}
		if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": handles(first)})[0]; r.OK || problemOf(r) != "receipt-handle-expired" || r.Problem.Status != 410 {
			t.Errorf("ack with the lapsed handle %+v", r)
		}
		if r := settle(t, g2, sub, "ack", map[string]any{"receiptHandles": handles(again)})[0]; !r.OK {
			t.Errorf("ack %+v", r)
		}
		expectNothing(t, g2, sub, 2)
	})

	t.Run("late ack is remembered", func(t *testing.T) {
		sub := createPullSub(t, g1, topic, nil)
		publish(t, g1, topic, map[string]any{"body": "late"})
		m := receiveN(t, g1, sub, 1, 1, 60*time.Second)[0]
		testenv.Eventually(t, 10*time.Second, func() error {
			if time.Now().Before(m.InvisibleUntil) {
				return fmt.Errorf("still invisible")
			}
			return nil
		})
		// Processed, acked too late: reported, yet recorded, so the
		// redelivery is dropped rather than handed out again.
		if r := settle(t, g2, sub, "ack", map[string]any{"receiptHandles": handles(m)})[0]; problemOf(r) != "receipt-handle-expired" {
			t.Errorf("late ack %+v", r)
		}
		expectNothing(t, g2, sub, 8)
	})
}

func TestPullMaxAttemptsThenDeadLetter(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "pull-dlq", 1)
	sub := createPullSub(t, g, topic, map[string]any{"maxAttempts": 2})
	sent := publish(t, g, topic, map[string]any{"body": "poison", "tag": "bad", "keys": []string{"p-1"}})

	for attempt := 1; attempt <= 2; attempt++ {
		m := receiveN(t, g, sub, 1, 30, 60*time.Second)[0]
		if m.MessageID != sent.MessageID || m.Attempt != attempt {
			t.Fatalf("attempt %d: %+v", attempt, m)
		}
		if r := settle(t, g, sub, "nack", map[string]any{"receiptHandles": handles(m)})[0]; !r.OK {
			t.Fatalf("nack %+v", r)
		}
	}
	var dls struct {
		Items []struct {
			MessageID string   `json:"messageId"`
			Attempts  int      `json:"attempts"`
			LastError string   `json:"lastError"`
			Tag       string   `json:"tag"`
			Keys      []string `json:"keys"`
		} `json:"items"`
	}
	// The third receive finds it past maxAttempts: dead-lettered, not
	// handed out.
	testenv.Eventually(t, 60*time.Second, func() error {
		if got := receive(t, g, sub, map[string]any{"waitSeconds": 2}); len(got) != 0 {
			t.Fatalf("received past maxAttempts: %+v", got)
		}
		res := getAuth(t, g.URL+"/v1/subscriptions/"+sub+"/dead-letters", testenv.AdminKey)
		if res.Status != 200 {
			return fmt.Errorf("dead letters: %d %s", res.Status, res.Body)
		}
		res.json(t, &dls)
		if len(dls.Items) == 0 {
			return fmt.Errorf("no dead letter yet")
		}
		return nil
	})
	d := dls.Items[0]
	if len(dls.Items) != 1 || d.MessageID != sent.MessageID || d.Attempts != 2 || d.LastError == "" || d.Tag != "bad" ||
		strings.Join(d.Keys, ",") != "p-1" {
		t.Errorf("dead letters %+v", dls.Items)
	}
	expectNothing(t, g, sub, 2)

	// Redrive (on another replica): the copy comes back on a receive with
	// a fresh attempt count, and leaves the listing.
	g2 := testenv.StartGateway(t, s)
	var count struct {
		Count int `json:"count"`
	}
	// As a client does: a 503 (the first redrive creates the retry topic,
	// which a loaded name server may not confirm in time) is retried.
	testenv.Eventually(t, 60*time.Second, func() error {
		res := post(t, g2.URL+"/v1/subscriptions/"+sub+"/dead-letters/redrive", testenv.AdminKey, map[string]any{})
		if res.Status == 503 {
			return fmt.Errorf("redrive: %d %s", res.Status, res.Body)
		}
		if res.Status != 200 {
			t.Fatalf("redrive of a pull subscription: %d %s", res.Status, res.Body)
		}
		if res.json(t, &count); count.Count != 1 {
			t.Fatalf("redrove %d, want 1", count.Count)
		}
		return nil
	})
	m := receiveN(t, g, sub, 1, 30, 60*time.Second)[0]
	if m.MessageID != sent.MessageID || m.Attempt != 1 || m.Body != "poison" {
		t.Fatalf("redriven message %+v", m)
	}
	if r := settle(t, g2, sub, "ack", map[string]any{"receiptHandles": handles(m)})[0]; !r.OK {
		t.Fatalf("ack of the redriven message %+v", r)
	}
	if res := getAuth(t, g.URL+"/v1/subscriptions/"+sub+"/dead-letters", testenv.AdminKey); res.Status != 200 || strings.Contains(string(res.Body), sent.MessageID) {
		t.Errorf("dead letters after the redrive: %d %s", res.Status, res.Body)
	}
	// Sent once: a second redrive finds nothing, and nothing comes back.
	res := post(t, g.URL+"/v1/subscriptions/"+sub+"/dead-letters/redrive", testenv.AdminKey, map[string]any{})
	if res.json(t, &count); res.Status != 200 || count.Count != 0 {
		t.Errorf("second redrive: %d %s", res.Status, res.Body)
	}
	expectNothing(t, g, sub, 2)
}

func TestPullRefusesHostileInput(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s, "ZEROLOSS_PULL_RECEIVES_IN_FLIGHT=1")
	topic := s.Topic(t, "pull-bad", 1)
	sub := createPullSub(t, g, topic, nil)
	other := createPullSub(t, g, topic, nil)
	base := g.URL + "/v1/subscriptions/" + sub + "/messages/"

	publish(t, g, topic, map[string]any{"body": "one"})
	mine := receiveN(t, g, other, 1, 30, 60*time.Second)[0]

	r := newReceiver(t)
	push := createSub(t, g, r, topic, nil)

	cases := []struct {
		name, url, key string
		body           any
		status         int
		problem        string
	}{
		{"huge max", base + "receive", testenv.AdminKey, map[string]any{"maxMessages": 1000000}, 400, "validation"},
		{"negative wait", base + "receive", testenv.AdminKey, map[string]any{"waitSeconds": -1}, 400, "validation"},
		{"long wait", base + "receive", testenv.AdminKey, map[string]any{"waitSeconds": 3600}, 400, "validation"},
		{"zero invisibility", base + "receive", testenv.AdminKey, map[string]any{"invisibleSeconds": 0}, 400, "validation"},
		{"unknown field", base + "receive", testenv.AdminKey, map[string]any{"max": 1}, 400, "validation"},
		{"not json", base + "receive", testenv.AdminKey, "{", 400, "invalid-json"},
		{"no handles", base + "ack", testenv.AdminKey, map[string]any{"receiptHandles": []string{}}, 400, "validation"},
		{"extend without time", base + "extend", testenv.AdminKey, map[string]any{"receiptHandles": []string{"x"}}, 400, "validation"},
		{"negative delay", base + "nack", testenv.AdminKey, map[string]any{"receiptHandles": []string{"x"}, "delaySeconds": -5}, 400, "validation"},
		{"other tenant receives", base + "receive", testenv.OtherKey, map[string]any{}, 404, "subscription-not-found"},
		{"other tenant acks", base + "ack", testenv.OtherKey, map[string]any{"receiptHandles": handles(mine)}, 404, "subscription-not-found"},
		{"no such subscription", g.URL + "/v1/subscriptions/sub_00000000000000000000000000/messages/receive", testenv.AdminKey, map[string]any{}, 404, "subscription-not-found"},
		{"push subscription", g.URL + "/v1/subscriptions/" + push.ID + "/messages/receive", testenv.AdminKey, map[string]any{}, 409, "subscription-state-conflict"},
		{"push subscription ack", g.URL + "/v1/subscriptions/" + push.ID + "/messages/ack", testenv.AdminKey, map[string]any{"receiptHandles": []string{"x"}}, 409, "subscription-state-conflict"},
		{"pull with endpoint", g.URL + "/v1/subscriptions", testenv.AdminKey, map[string]any{"name": "x", "topic": topic, "mode": "pull", "endpoint": "https://example.com/h"}, 400, "validation"},
		{"push without endpoint", g.URL + "/v1/subscriptions", testenv.AdminKey, map[string]any{"name": "x", "topic": topic}, 400, "validation"},
		{"unknown mode", g.URL + "/v1/subscriptions", testenv.AdminKey, map[string]any{"name": "x", "topic": topic, "mode": "poll"}, 400, "validation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, c.url, c.key, c.body)
			if res.Status != c.status || res.problemType() != c.problem {
				t.Errorf("%d %s, want %d %s", res.Status, res.Body, c.status, c.problem)
			}
		})
	}

	t.Run("endpoint on a pull subscription", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPatch, g.URL+"/v1/subscriptions/"+sub, strings.NewReader(`{"endpoint":"https://example.com/h"}`))
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		// A valid request the subscription's mode refuses: a conflict
		// with the resource, not a malformed request.
		if resp.StatusCode != http.StatusConflict || p.Type != "https://zeroloss.dev/problems/subscription-state-conflict" {
			t.Errorf("PATCH endpoint of a pull subscription: %d %s", resp.StatusCode, p.Type)
		}
	})

	t.Run("garbage and foreign handles", func(t *testing.T) {
		bad := []string{"garbage", "r1.", "r1.!!!", "r1." + base64.RawURLEncoding.EncodeToString([]byte(`["a","b"]`)),
			"r1." + base64.RawURLEncoding.EncodeToString([]byte(`["`+sub+`","d","m","1 2 3 4 9 b 0 1"]`)),
			strings.Repeat("x", 8192), mine.ReceiptHandle}
		for _, op := range []string{"ack", "nack", "extend"} {
			body := map[string]any{"receiptHandles": bad}
			if op == "extend" {
				body["invisibleSeconds"] = 10
			}
			rs := settle(t, g, sub, op, body)
			for i, r := range rs {
				if r.OK || problemOf(r) != "receipt-handle-invalid" || r.Problem.Status != 400 || r.ReceiptHandle != bad[i] {
					t.Errorf("%s %.40q: %+v", op, bad[i], r)
				}
			}
		}
		// The foreign handle still works on its own subscription.
		if r := settle(t, g, other, "ack", map[string]any{"receiptHandles": handles(mine)})[0]; !r.OK {
			t.Errorf("ack on its own subscription %+v", r)
		}
	})

	t.Run("too many receives", func(t *testing.T) {
		// One receive in flight is the limit: while one waits, another is 429.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = tryPost(base+"receive", testenv.AdminKey, `{"waitSeconds":3}`)
			}
		}()
		defer func() { close(stop); wg.Wait() }()
		testenv.Eventually(t, 30*time.Second, func() error {
			res, err := tryPost(g.URL+"/v1/subscriptions/"+other+"/messages/receive", testenv.AdminKey, `{}`)
			if err != nil {
				return err
			}
			if res.Status != 429 {
				return fmt.Errorf("status %d", res.Status)
			}
			if res.problemType() != "too-many-receives" || res.Header.Get("Retry-After") == "" {
				t.Errorf("429 answer %s %v", res.Body, res.Header)
			}
			return nil
		})
	})
}

// TestPullSameBusinessKeyIsReceivedOnce: two copies of one event (same
// first key) under dedupKey key: while one is out the other is held back,
// and once the first is acked the second is dropped, never handed out.
func TestPullSameBusinessKeyIsReceivedOnce(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "pull-dedup", 1)
	sub := createPullSub(t, g, topic, map[string]any{"dedupKey": map[string]any{"source": "key"}})
	a := publish(t, g, topic, map[string]any{"body": "first copy", "keys": []string{"order-7"}})
	b := publish(t, g, topic, map[string]any{"body": "second copy", "keys": []string{"order-7"}})
	if a.MessageID == b.MessageID {
		t.Fatal("two sends, one id")
	}
	m := receiveN(t, g, sub, 1, 3, 60*time.Second)[0]
	if m.DedupID != "key:order-7" {
		t.Errorf("dedup id %q", m.DedupID)
	}
	if r := settle(t, g, sub, "ack", map[string]any{"receiptHandles": handles(m)})[0]; !r.OK {
		t.Fatalf("ack %+v", r)
	}
	expectNothing(t, g, sub, 10)
}

// TestPullLongPollOfAKilledReplica: a replica killed (-9) while it holds a
// receive's long poll at the broker loses nothing: a message published
// after the kill, which the broker may hand to the dead poll, is received
// through the other replica (at once, or after the poll's invisibility).
func TestPullLongPollOfAKilledReplica(t *testing.T) {
	s := stack(t)
	g1 := testenv.StartGateway(t, s)
	doomed := testenv.StartGateway(t, s)
	topic := s.Topic(t, "pull-kill", 1)
	sub := createPullSub(t, g1, topic, nil)

	polled := make(chan error, 1)
	go func() {
		b := strings.NewReader(`{"maxMessages": 8, "waitSeconds": 20, "invisibleSeconds": 5}`)
		req, _ := http.NewRequest(http.MethodPost, doomed.URL+"/v1/subscriptions/"+sub+"/messages/receive", b)
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("the long poll answered %d before the kill", resp.StatusCode)
		}
		polled <- err
	}()
	time.Sleep(2 * time.Second) // the poll is at the broker
	doomed.Kill()
	if err := <-polled; err == nil || strings.Contains(err.Error(), "answered") {
		t.Fatalf("the killed replica's receive: %v", err)
	}
	sent := publish(t, g1, topic, map[string]any{"body": "after the kill"})
	got := receiveN(t, g1, sub, 1, 30, 60*time.Second)[0]
	if got.MessageID != sent.MessageID {
		t.Fatalf("received %+v, want %s", got, sent.MessageID)
	}
	if r := settle(t, g1, sub, "ack", map[string]any{"receiptHandles": handles(got)})[0]; !r.OK {
		t.Fatalf("ack %+v", r)
	}
	expectNothing(t, g1, sub, 8)
}
