// Package e2e_test drives gateway processes over HTTP against a real
// RocketMQ broker and Redis, and checks what a native rocketmq-client-go
// consumer receives.
package e2e_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

func stack(t *testing.T) testenv.Stack {
	t.Helper()
	return testenv.Shared(t)
}

func TestSendIsConsumableWithEverything(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders", 4)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"

	text := mustPublish(t, url, testenv.OrdersKey, map[string]any{
		"body": "héllo wörld", "tag": "TagA", "keys": []string{"order-1", "cust-9"},
		"properties": map[string]string{"region": "eu", "priority": "high"},
	}, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\n'}
	bin := mustPublish(t, url, testenv.AdminKey, map[string]any{
		"body": base64.StdEncoding.EncodeToString(binary), "encoding": "base64",
	})
	if text.Topic != topic || text.BrokerName == "" || len(text.MessageID) != 32 || text.MessageID == bin.MessageID {
		t.Fatalf("receipts = %+v %+v", text, bin)
	}

	m := recv.WaitForID(t, text.MessageID, 60*time.Second)
	if string(m.Body) != "héllo wörld" || m.GetTags() != "TagA" || m.GetKeys() != "order-1 cust-9" {
		t.Errorf("received body %q tag %q keys %q", m.Body, m.GetTags(), m.GetKeys())
	}
	if m.GetProperty("region") != "eu" || m.GetProperty("priority") != "high" {
		t.Errorf("properties = %v", m.GetProperties())
	}
	if tp := m.GetProperty("traceparent"); !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Errorf("traceparent in message = %q, want the caller's trace", tp)
	}
	if m.Queue.QueueId != text.QueueID || m.QueueOffset != text.QueueOffset {
		t.Errorf("stored at queue %d offset %d, receipt said %d/%d", m.Queue.QueueId, m.QueueOffset, text.QueueID, text.QueueOffset)
	}
	if b := recv.WaitForID(t, bin.MessageID, 60*time.Second); string(b.Body) != string(binary) {
		t.Errorf("binary body = %v, want %v", b.Body, binary)
	}

	metrics := get(t, g.URL+"/metrics")
	if want := fmt.Sprintf(`zeroloss_sends_total{outcome="ok",topic=%q} 2`, topic); !strings.Contains(string(metrics.Body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

func TestTimerMessageArrivesAfterItsDelay(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "timer", 2)
	recv := s.Consume(t, topic)
	sent := time.Now()
	p := mustPublish(t, g.URL+"/v1/topics/"+topic+"/messages", testenv.AdminKey, map[string]any{"body": "later", "delaySeconds": 3})
	deliverAt := time.Now().Add(-time.Since(sent)).Add(3 * time.Second)
	at := recv.WaitForID(t, p.MessageID, 60*time.Second)
	got, _ := recv.ReceivedAt(p.MessageID)
	// The broker's timer wheel has a one-second granularity.
	if got.Before(deliverAt.Add(-time.Second)) {
		t.Fatalf("timer message arrived %s before its delivery time", deliverAt.Sub(got))
	}
	if at.GetProperty("TIMER_DELIVER_MS") == "" && at.GetProperty("TIMER_OUT_MS") == "" {
		t.Errorf("message carries no timer property: %v", at.GetProperties())
	}
}

func TestShardingKeyKeepsPerKeyOrder(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "ordered", 8)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	keys := []string{"cust-a", "cust-b", "cust-c", "cust-d"}
	sent := map[string][]published{}
	for i := 0; i < 40; i++ {
		k := keys[i%len(keys)]
		sent[k] = append(sent[k], mustPublish(t, url, testenv.AdminKey, map[string]any{"body": fmt.Sprintf("%s-%d", k, i), "shardingKey": k}))
	}
	queues := map[int]bool{}
	for k, ps := range sent {
		for i, p := range ps {
			if p.QueueID != ps[0].QueueID || p.BrokerName != ps[0].BrokerName {
				t.Fatalf("key %s: message %d went to queue %d, the first to %d", k, i, p.QueueID, ps[0].QueueID)
			}
			if i > 0 && p.QueueOffset <= ps[i-1].QueueOffset {
				t.Fatalf("key %s: offsets out of send order: %d after %d", k, p.QueueOffset, ps[i-1].QueueOffset)
			}
		}
		queues[ps[0].QueueID] = true
	}
	if len(queues) < 2 {
		t.Errorf("4 keys all hashed to one queue of 8: %v", queues)
	}
	recv.WaitFor(t, 40, 60*time.Second)
	for _, ps := range sent {
		for _, p := range ps {
			m := recv.WaitForID(t, p.MessageID, time.Second)
			if m.Queue.QueueId != p.QueueID || m.QueueOffset != p.QueueOffset {
				t.Fatalf("message %s stored at %d/%d, receipt said %d/%d", p.MessageID, m.Queue.QueueId, m.QueueOffset, p.QueueID, p.QueueOffset)
			}
		}
	}
}

func TestBatchIsOneRoundTripWithPerMessageIDs(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "batch", 4)
	recv := s.Consume(t, topic)
	msgs := make([]map[string]any, 10)
	for i := range msgs {
		msgs[i] = map[string]any{"body": fmt.Sprintf("item-%d", i), "tag": "B", "keys": []string{fmt.Sprintf("k%d", i)}}
	}
	r := post(t, g.URL+"/v1/topics/"+topic+"/message-batches", testenv.AdminKey, map[string]any{"messages": msgs})
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var b struct {
		QueueID int `json:"queueId"`
		Items   []struct {
			MessageID   string `json:"messageId"`
			QueueOffset int64  `json:"queueOffset"`
		} `json:"items"`
	}
	r.json(t, &b)
	if len(b.Items) != 10 {
		t.Fatalf("items = %+v", b.Items)
	}
	recv.WaitFor(t, 10, 60*time.Second)
	for i, it := range b.Items {
		m := recv.WaitForID(t, it.MessageID, time.Second)
		if string(m.Body) != fmt.Sprintf("item-%d", i) || m.GetKeys() != fmt.Sprintf("k%d", i) || m.GetTags() != "B" {
			t.Errorf("item %d received as body %q keys %q tag %q", i, m.Body, m.GetKeys(), m.GetTags())
		}
		if m.Queue.QueueId != b.QueueID || m.QueueOffset != it.QueueOffset {
			t.Errorf("item %d stored at %d/%d, receipt said %d/%d", i, m.Queue.QueueId, m.QueueOffset, b.QueueID, it.QueueOffset)
		}
	}
}

// sentinel sends one more message to a one-queue topic and waits for it:
// everything stored before it has then been received.
func sentinel(t *testing.T, g *testenv.Gateway, recv *testenv.Received, topic string) {
	t.Helper()
	p := mustPublish(t, g.URL+"/v1/topics/"+topic+"/messages", testenv.AdminKey, map[string]any{"body": "sentinel"})
	recv.WaitForID(t, p.MessageID, 60*time.Second)
}

func TestIdempotentRetryReplaysWithoutSending(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-idem", 1)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	body := map[string]any{"body": "pay 10 EUR", "keys": []string{"invoice-7"}}

	first := post(t, url, testenv.AdminKey, body, "Idempotency-Key", "pay-7-"+topic)
	second := post(t, url, testenv.AdminKey, body, "Idempotency-Key", "pay-7-"+topic)
	if first.Status != 201 || second.Status != 201 {
		t.Fatalf("statuses %d, %d: %s / %s", first.Status, second.Status, first.Body, second.Body)
	}
	if string(first.Body) != string(second.Body) {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, second.Body)
	}
	if first.Header.Get("Idempotent-Replayed") != "" || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("Idempotent-Replayed headers: %q, %q", first.Header.Get("Idempotent-Replayed"), second.Header.Get("Idempotent-Replayed"))
	}
	other := post(t, url, testenv.AdminKey, map[string]any{"body": "pay 99 EUR"}, "Idempotency-Key", "pay-7-"+topic)
	if other.Status != 422 || other.problemType() != "idempotency-key-mismatch" {
		t.Fatalf("same key, other payload: %d %s", other.Status, other.Body)
	}
	// Keys are scoped to the API key: another caller's "pay-7" is its own.
	mine := post(t, url, testenv.OrdersKey, body, "Idempotency-Key", "pay-7-"+topic)
	if mine.Status != 201 || mine.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another API key's use of the same Idempotency-Key must be its own request: %d %s", mine.Status, mine.Body)
	}

	var p published
	first.json(t, &p)
	sentinel(t, g, recv, topic)
	if n := recv.Count(p.MessageID); n != 1 {
		t.Fatalf("message stored %d times, want once", n)
	}
}

func TestConcurrentSameKeySendsOnce(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "race", 1)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	const n = 16
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = post(t, url, testenv.AdminKey, map[string]any{"body": "once"}, "Idempotency-Key", "race-"+topic)
		}()
	}
	wg.Wait()
	fresh, replayed, busy := 0, 0, 0
	ids := map[string]bool{}
	for _, r := range replies {
		switch {
		case r.Status == 201 && r.Header.Get("Idempotent-Replayed") == "":
			fresh++
		case r.Status == 201:
			replayed++
		case r.Status == 409 && r.problemType() == "idempotency-key-in-use" && r.Header.Get("Retry-After") != "":
			busy++
			continue
		default:
			t.Fatalf("unexpected reply %d: %s", r.Status, r.Body)
		}
		var p published
		r.json(t, &p)
		ids[p.MessageID] = true
	}
	if fresh != 1 || fresh+replayed+busy != n || len(ids) != 1 {
		t.Fatalf("fresh %d, replayed %d, busy %d, ids %v", fresh, replayed, busy, ids)
	}
	sentinel(t, g, recv, topic)
	for id := range ids {
		if c := recv.Count(id); c != 1 {
			t.Fatalf("message stored %d times, want once", c)
		}
	}
}

func TestRefusedRequestsSendNothing(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "orders-refused", 1)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	tests := []struct {
		name, key string
		body      string
		status    int
		slug      string
	}{
		{"malformed json", testenv.AdminKey, `{"body":`, 400, "invalid-json"},
		{"unknown field", testenv.AdminKey, `{"body":"x","nope":1}`, 400, "validation"},
		{"wrong type", testenv.AdminKey, `{"body":["x"]}`, 400, "validation"},
		{"oversize", testenv.AdminKey, `{"body":"` + strings.Repeat("x", 7<<20) + `"}`, 413, "payload-too-large"},
		{"no key", "", `{"body":"x"}`, 401, "unauthorized"},
		{"bad key", "wrong-key-123", `{"body":"x"}`, 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url, tc.key, tc.body)
			if r.Status != tc.status || r.problemType() != tc.slug {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.slug)
			}
		})
	}
	if r := post(t, g.URL+"/v1/topics/bad.topic/messages", testenv.AdminKey, `{"body":"x"}`); r.Status != 400 || r.problemType() != "invalid-topic" {
		t.Fatalf("bad topic: %d %s", r.Status, r.Body)
	}
	if r := post(t, g.URL+"/v1/topics/payments/messages", testenv.OrdersKey, `{"body":"x"}`); r.Status != 403 || r.problemType() != "forbidden" {
		t.Fatalf("wrong scope: %d %s", r.Status, r.Body)
	}
	if r := post(t, g.URL+"/v1/topics/no-such-topic-zl/messages", testenv.AdminKey, `{"body":"x"}`); r.Status != 404 || r.problemType() != "topic-not-found" {
		t.Fatalf("missing topic: %d %s", r.Status, r.Body)
	}
	sentinel(t, g, recv, topic)
	if all := recv.All(); len(all) != 1 {
		t.Fatalf("topic holds %d messages, want only the sentinel", len(all))
	}
}
