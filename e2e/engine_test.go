package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// gauge reads one unlabelled series from a gateway's /metrics.
func gauge(t *testing.T, g *testenv.Gateway, name string) float64 {
	t.Helper()
	res := get(t, g.URL+"/metrics")
	if res.Status != http.StatusOK {
		t.Fatalf("metrics: %d", res.Status)
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return v
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// TestKilledReplicaHandsItsMessagesOver: a replica killed (SIGKILL) in the
// middle of deliveries leaves messages popped and not acknowledged; they
// come back after their invisible time and the other replica delivers
// them. Every message is processed; the repeats that reach the endpoint
// are at most the deliveries the dead replica had in progress, each with
// the webhook-id of its first delivery.
func TestKilledReplicaHandsItsMessagesOver(t *testing.T) {
	s := stack(t)
	a := testenv.StartGateway(t, s)
	b := testenv.StartGateway(t, s)
	topic := s.Topic(t, "engine-kill", 4)
	r := newReceiver(t)
	r.slow = 100 * time.Millisecond
	const concurrency = 4
	createSub(t, a, r, topic, map[string]any{"maxAttempts": 10, "concurrency": concurrency})
	const n = 120
	for i := 0; i < n; i++ {
		publish(t, b, topic, map[string]any{"body": fmt.Sprintf("k-%d", i)})
	}
	// Kill a while deliveries are in progress on both replicas.
	testenv.Eventually(t, 60*time.Second, func() error {
		if got := len(r.ledger()); got < n/4 {
			return fmt.Errorf("processed %d", got)
		}
		return nil
	})
	inFlight := gauge(t, a, "zeroloss_delivery_in_flight_messages")
	a.Kill()
	got := r.waitProcessed(t, n, 120*time.Second)
	seen := map[string]int{}
	for _, d := range got {
		seen[d.Body]++
	}
	for i := 0; i < n; i++ {
		if c := seen[fmt.Sprintf("k-%d", i)]; c != 1 {
			t.Fatalf("k-%d processed %d times", i, c)
		}
	}
	r.mu.Lock()
	dups, ids := 0, len(r.attempts)
	for _, c := range r.attempts {
		dups += c - 1
	}
	r.mu.Unlock()
	if ids != n {
		t.Fatalf("%d distinct webhook-ids for %d messages", ids, n)
	}
	// Only a delivery the dead replica had sent to the endpoint can reach
	// it again: at most its concurrency (one per delivery slot).
	if dups > concurrency {
		t.Fatalf("%d repeated deliveries; the killed replica had at most %d in progress (%v popped)", dups, concurrency, inFlight)
	}
	t.Logf("%d messages processed once; %d repeats (same webhook-id); the killed replica held %v messages of all subscriptions", n, dups, inFlight)
}

// TestOrderedSubscriptionOutlivesAnOutage: an ordered subscription whose
// endpoint answers 503 for 3 s retries the head of each queue on its
// schedule (the later messages wait), then delivers every message, in
// order per sharding key, and dead-letters nothing.
func TestOrderedSubscriptionOutlivesAnOutage(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "engine-ordered", 4)
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, map[string]any{"ordered": true, "maxAttempts": 10,
		"retry": map[string]any{"initialDelaySeconds": 1, "maxDelaySeconds": 2}})
	r.mu.Lock()
	r.downUntil = time.Now().Add(3 * time.Second)
	r.mu.Unlock()
	keys := []string{"a", "b", "c", "d", "e"}
	const per = 4
	for i := 0; i < per; i++ {
		for _, k := range keys {
			publish(t, g, topic, map[string]any{"body": fmt.Sprintf("%s-%d", k, i), "shardingKey": k})
		}
	}
	got := r.waitProcessed(t, per*len(keys), 90*time.Second)
	next := map[string]int{}
	for _, d := range got {
		k, i, _ := strings.Cut(d.Body, "-")
		if want := strconv.Itoa(next[k]); i != want {
			t.Fatalf("key %s: got %s, want %s-%s (ledger %v)", k, d.Body, k, want, got)
		}
		next[k]++
	}
	r.mu.Lock()
	retried := 0
	for _, c := range r.attempts {
		if c > 1 {
			retried++
		}
	}
	r.mu.Unlock()
	if retried == 0 {
		t.Fatal("no message was retried: the outage was not seen")
	}
	res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters", testenv.AdminKey)
	var dls struct {
		Items []json.RawMessage `json:"items"`
	}
	if res.Status != 200 {
		t.Fatalf("dead letters: %d %s", res.Status, res.Body)
	}
	if res.json(t, &dls); len(dls.Items) != 0 {
		t.Fatalf("dead letters after the outage: %s", res.Body)
	}
}

// TestThousandSubscriptionsLeaveNothingBehind: 1,000 subscriptions created
// and deleted leave no subscription, pop task nor goroutine behind on the
// replica.
func TestThousandSubscriptionsLeaveNothingBehind(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "engine-many", 2)
	r := newReceiver(t)
	// The shared store holds other tests' subscriptions: count from here.
	testenv.Eventually(t, 30*time.Second, func() error {
		if gauge(t, g, "zeroloss_delivery_subscriptions") == 0 && gauge(t, g, "zeroloss_delivery_tasks") == 0 {
			return fmt.Errorf("the gateway has not read the subscriptions yet")
		}
		return nil
	})
	baseSubs := gauge(t, g, "zeroloss_delivery_subscriptions")
	baseTasks := gauge(t, g, "zeroloss_delivery_tasks")
	base := gauge(t, g, "go_goroutines")
	const n = 1000
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		ids = append(ids, createSub(t, g, r, topic, map[string]any{"name": "many-" + strconv.Itoa(i)}).ID)
	}
	testenv.Eventually(t, 120*time.Second, func() error {
		if v := gauge(t, g, "zeroloss_delivery_subscriptions"); v != baseSubs+n {
			return fmt.Errorf("%v subscriptions delivered, want %v", v, baseSubs+n)
		}
		return nil
	})
	busy := gauge(t, g, "go_goroutines")
	for _, id := range ids {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, g.URL+"/v1/subscriptions/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKey)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete %s: %d", id, resp.StatusCode)
		}
	}
	// Idle HTTP connections of this test's client and the gateway's pool
	// may hold a few goroutines; a leak per subscription would be 1,000.
	const slack = 25
	testenv.Eventually(t, 120*time.Second, func() error {
		subs := gauge(t, g, "zeroloss_delivery_subscriptions")
		tasks := gauge(t, g, "zeroloss_delivery_tasks")
		gr := gauge(t, g, "go_goroutines")
		// A (subscription, broker) task may be running (out of the
		// gauge) when the baseline is read: bound the tasks by what the
		// remaining subscriptions can hold (a broker or two each here);
		// a leak would leave about 1,000.
		if subs != baseSubs || tasks > max(baseTasks, 4*baseSubs) || gr > base+slack {
			return fmt.Errorf("after deleting: %v subscriptions (before %v), %v tasks (before %v), %v goroutines (before %v)",
				subs, baseSubs, tasks, baseTasks, gr, base)
		}
		return nil
	})
	t.Logf("goroutines: %v before, %v with %d subscriptions, %v after deleting them", base, busy, n, gauge(t, g, "go_goroutines"))
}

// TestNativeProducerRepeatedIDsAreAllDelivered: RocketMQ clients repeat a
// message id after 65,536 messages a second; distinct messages that share
// one are all delivered (the default dedup id is the id and the born
// time), and each is still deduplicated against its own redeliveries.
func TestNativeProducerRepeatedIDsAreAllDelivered(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "engine-native", 2)
	r := newReceiver(t)
	createSub(t, g, r, topic, nil)
	p, err := rocketmq.NewProducer(producer.WithNameServer([]string{s.NameServer}),
		producer.WithGroupName("test-native-"+topic), producer.WithInstanceName("test-native-"+topic))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	// What a burst above 65,536 msg/s produces: one id on distinct
	// messages (set here rather than waiting for the counter to wrap).
	const n = 20
	repeated := strings.ToUpper(strings.Repeat("7f", 16))
	for i := 0; i < n; i++ {
		body := "burst-" + strconv.Itoa(i)
		if i%4 == 0 {
			body = "fail-2 " + body // redelivered twice: still processed once
		}
		m := primitive.NewMessage(topic, []byte(body))
		m.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, repeated)
		if res, err := p.SendSync(context.Background(), m); err != nil || res.Status != primitive.SendOK {
			t.Fatalf("native send: %v %v", res, err)
		}
		time.Sleep(2 * time.Millisecond) // distinct born times, as the counter's wrap guarantees
	}
	got := r.waitProcessed(t, n, 90*time.Second)
	bodies := map[string]int{}
	for _, d := range got {
		bodies[d.Body]++
		if d.Header.Get("ce-id") != repeated {
			t.Errorf("ce-id %q, want the message id %s", d.Header.Get("ce-id"), repeated)
		}
	}
	if len(got) != n || len(bodies) != n {
		t.Fatalf("%d processed, %d distinct bodies, want %d", len(got), len(bodies), n)
	}
}
