package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// forgeries are system properties a control character in broker text would
// forge: a half message nobody commits (lost after its checks), a delay, a
// timer, another producer's message id (dropped by a subscriber's dedup).
var forgeries = []struct{ name, text string }{
	{"TRAN_MSG", "\x02TRAN_MSG\x01true\x02"},
	{"DELAY", "\x02DELAY\x013\x02"},
	{"UNIQ_KEY", "\x02UNIQ_KEY\x01" + strings.Repeat("A", 32) + "\x02"},
	{"TIMER_DELIVER_MS", "\x02TIMER_DELIVER_MS\x01" + strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10) + "\x02"},
}

// forgedFields builds a message carrying text in each field that reaches
// the broker, with the pointer the refusal must name.
var forgedFields = []struct {
	name    string
	build   func(text string) map[string]any
	pointer string
}{
	{"tag", func(s string) map[string]any { return map[string]any{"tag": "x" + s + "y"} }, "/tag"},
	{"keys", func(s string) map[string]any { return map[string]any{"keys": []string{"ok", "k" + s + "k"}} }, "/keys/1"},
	{"shardingKey", func(s string) map[string]any { return map[string]any{"shardingKey": "s" + s + "s"} }, "/shardingKey"},
	{"property name", func(s string) map[string]any {
		return map[string]any{"properties": map[string]string{"p" + s + "q": "v"}}
	}, ""},
	{"property value", func(s string) map[string]any {
		return map[string]any{"properties": map[string]string{"p": "v" + s + "w"}}
	}, "/properties/p"},
}

// refused requires a 400 validation problem naming field (any field when
// field is "").
func refused(t *testing.T, r reply, field string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.problemType() != "validation" {
		t.Fatalf("got %d %s, want 400 validation", r.Status, r.Body)
	}
	var p struct {
		Errors []struct{ Field, Reason string } `json:"errors"`
	}
	r.json(t, &p)
	for _, e := range p.Errors {
		if (field == "" || e.Field == field) && e.Reason != "" {
			return
		}
	}
	t.Fatalf("errors %+v do not name %q", p.Errors, field)
}

// onlySentinelReached sends a sentinel to the one-queue topic and requires
// it to be the only message received, and the only one the gateway asked
// the broker to store (a delayed or half message would not reach the
// consumer before the sentinel, but would show in the send metrics).
func onlySentinelReached(t *testing.T, g *testenv.Gateway, recv *testenv.Received, topic string) {
	t.Helper()
	sentinel(t, g, recv, topic)
	if all := recv.All(); len(all) != 1 {
		t.Fatalf("topic holds %d messages, want only the sentinel", len(all))
	}
	metrics := string(get(t, g.URL+"/metrics").Body)
	var lines []string
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "zeroloss_sends_total{") && strings.Contains(l, fmt.Sprintf("topic=%q", topic)) {
			lines = append(lines, l)
		}
	}
	if want := fmt.Sprintf(`zeroloss_sends_total{outcome="ok",topic=%q} 1`, topic); len(lines) != 1 || lines[0] != want {
		t.Fatalf("send metrics for %s: %q, want only %s", topic, lines, want)
	}
}

func TestForgedPropertiesAreRefusedAndNothingReachesTheBroker(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "inject", 1)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"

	// The request from the issue, byte for byte.
	refused(t, post(t, url, testenv.AdminKey, `{"body":"inject","tag":"x\u0002TRAN_MSG\u0001true"}`), "/tag")
	for _, f := range forgeries {
		for _, fld := range forgedFields {
			t.Run(f.name+" via "+fld.name, func(t *testing.T) {
				body := fld.build(f.text)
				body["body"] = "forged " + f.name
				refused(t, post(t, url, testenv.AdminKey, body), fld.pointer)
				if fld.name == "shardingKey" {
					return // a batch member has no sharding key
				}
				member := fld.build(f.text)
				member["body"] = "forged " + f.name
				r := post(t, g.URL+"/v1/topics/"+topic+"/message-batches", testenv.AdminKey,
					map[string]any{"messages": []any{map[string]any{"body": "fine"}, member}})
				want := ""
				if fld.pointer != "" {
					want = "/messages/1" + fld.pointer
				}
				refused(t, r, want)
			})
		}
		t.Run(f.name+" as a property name", func(t *testing.T) {
			r := post(t, url, testenv.AdminKey, map[string]any{"body": "x", "properties": map[string]string{f.name: "1"}})
			refused(t, r, "/properties/"+f.name)
		})
	}
	onlySentinelReached(t, g, recv, topic)
}

func TestOversizedPropertiesDoNotFailConcurrentSends(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s) // sendCoalesce is on by default
	topic := s.Topic(t, "oversized", 1)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	forty := map[string]string{}
	for i := range 10 {
		forty[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
	}

	const rounds, good, bad = 3, 24, 4
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for round := range rounds {
		for i := range good + bad {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i >= good {
					r := post(t, url, testenv.AdminKey, map[string]any{"body": "oversized", "properties": forty})
					if r.Status < 400 || r.Status >= 500 || r.problemType() != "properties-too-large" {
						t.Errorf("40 KiB of properties: %d %s, want 4xx properties-too-large", r.Status, r.Body)
					}
					return
				}
				r := post(t, url, testenv.AdminKey, map[string]any{"body": fmt.Sprintf("good-%d-%d", round, i),
					"properties": map[string]string{"n": strconv.Itoa(i)}})
				if r.Status != http.StatusCreated {
					t.Errorf("well-formed send beside oversized ones: %d %s", r.Status, r.Body)
					return
				}
				var p published
				r.json(t, &p)
				mu.Lock()
				ids = append(ids, p.MessageID)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(ids) != rounds*good {
		t.Fatalf("%d of %d well-formed sends answered 201", len(ids), rounds*good)
	}
	for _, id := range ids {
		recv.WaitForID(t, id, 60*time.Second)
	}

	// A batch with one oversized member is refused as a whole, naming it.
	r := post(t, g.URL+"/v1/topics/"+topic+"/message-batches", testenv.AdminKey, map[string]any{"messages": []any{
		map[string]any{"body": "fine"}, map[string]any{"body": "oversized", "properties": forty}}})
	if r.Status != http.StatusRequestEntityTooLarge || r.problemType() != "properties-too-large" || !contains(string(r.Body), `"/messages/1/properties"`) {
		t.Fatalf("batch with an oversized member: %d %s", r.Status, r.Body)
	}
	sentinel(t, g, recv, topic)
	for _, m := range recv.All() {
		if string(m.Body) == "oversized" || string(m.Body) == "fine" {
			t.Fatalf("a refused message reached the topic: %s", testenv.ID(m))
		}
	}
}

func TestTransactionBeginRefusesForgedProperties(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "inject-tx", 1)
	recv := s.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"rollback"}` })
	prd := registerProducer(t, g, testenv.AdminKey, hook)
	url := g.URL + "/v1/transactions"

	refused(t, post(t, url, testenv.AdminKey,
		`{"producer":"`+prd+`","topic":"`+topic+`","body":"inject","tag":"x\u0002TRAN_MSG\u0001true"}`), "/tag")
	for _, f := range forgeries {
		for _, fld := range forgedFields {
			if fld.name == "shardingKey" {
				continue // a transaction has no sharding key
			}
			t.Run(f.name+" via "+fld.name, func(t *testing.T) {
				body := fld.build(f.text)
				body["producer"], body["topic"], body["body"] = prd, topic, "forged "+f.name
				refused(t, post(t, url, testenv.AdminKey, body), fld.pointer)
			})
		}
	}
	forty := map[string]string{}
	for i := range 10 {
		forty[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
	}
	r := post(t, url, testenv.AdminKey, map[string]any{"producer": prd, "topic": topic, "body": "oversized", "properties": forty})
	if r.Status != http.StatusRequestEntityTooLarge || r.problemType() != "properties-too-large" {
		t.Fatalf("transaction with 40 KiB of properties: %d %s", r.Status, r.Body)
	}

	// No transaction was begun: none is listed, no check-back came.
	req, err := http.NewRequest(http.MethodGet, url+"?producer="+prd, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testenv.AdminKey)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Items []txView `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list transactions: %d %v", resp.StatusCode, err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("refused begins left transactions: %+v", list.Items)
	}
	onlySentinelReached(t, g, recv, topic)
	hook.mu.Lock()
	calls := len(hook.calls)
	hook.mu.Unlock()
	if calls != 0 {
		t.Fatalf("%d check-backs for refused transactions", calls)
	}
}

func TestSubscriptionTagFilterRefusesControlCharacters(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "inject-sub", 1)
	for _, expr := range []string{"a\x00", "a||b\x02TRAN_MSG\x01true", "a\n||b", "a b", "a|b"} {
		r := post(t, g.URL+"/v1/subscriptions", testenv.AdminKey,
			map[string]any{"name": "filter", "topic": topic, "endpoint": "https://example.com/hook", "tagFilter": expr})
		refused(t, r, "/tagFilter")
	}
}

func TestRedriveRefusesADeadLetterItCannotSendAgain(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "inject-redrive", 1)
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, map[string]any{"maxAttempts": 1})

	// A native producer may store text the gateway never sends: a tag with
	// a space, a line feed in a property value.
	p, err := rocketmq.NewProducer(producer.WithNameServer([]string{s.NameServer}),
		producer.WithGroupName("test-native-"+topic), producer.WithInstanceName("test-native-"+topic))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	native := strings.ToUpper(strings.Repeat("ab", 16))
	msg := primitive.NewMessage(topic, []byte("reject-400 native"))
	msg.WithTag("a b")
	msg.WithProperty("note", "line one\nline two")
	msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, native)
	if res, err := p.SendSync(context.Background(), msg); err != nil || res.Status != primitive.SendOK {
		t.Fatalf("native send: %v %v", res, err)
	}
	good := publish(t, g, topic, map[string]any{"body": "reject-400 gateway", "tag": "T"})

	var dls struct {
		Items []struct {
			MessageID string `json:"messageId"`
		} `json:"items"`
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters", testenv.AdminKey)
		res.json(t, &dls)
		if len(dls.Items) < 2 {
			return fmt.Errorf("%d dead letters: %s", len(dls.Items), res.Body)
		}
		return nil
	})
	r.mu.Lock()
	r.fixed = true
	r.mu.Unlock()
	redrive := g.URL + "/v1/subscriptions/" + sub.ID + "/dead-letters/redrive"
	res := post(t, redrive, testenv.AdminKey, map[string]any{})
	if res.Status != http.StatusUnprocessableEntity || res.problemType() != "message-rejected" || !contains(string(res.Body), native) {
		t.Fatalf("redrive with an unsendable dead letter: %d %s", res.Status, res.Body)
	}
	res = post(t, redrive, testenv.AdminKey, map[string]any{"messageIds": []string{good.MessageID}})
	if res.Status != http.StatusOK {
		t.Fatalf("redrive of the well-formed dead letter: %d %s", res.Status, res.Body)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		for _, d := range r.ledger() {
			if d.Body == "reject-400 gateway" {
				return nil
			}
		}
		return fmt.Errorf("the redriven dead letter was not delivered; ledger %d", len(r.ledger()))
	})
	res = getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/dead-letters", testenv.AdminKey)
	res.json(t, &dls)
	if len(dls.Items) != 1 || dls.Items[0].MessageID != native {
		t.Fatalf("dead letters after redrive: %s", res.Body)
	}
}
