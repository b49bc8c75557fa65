package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestGatewayOnRedisCluster runs a gateway on a three-master Redis Cluster
// (redis.addrs with no master name: go-redis's cluster client) and goes
// through every Redis store: an Idempotency-Key send and its replay
// (idempotency), a transaction begun, committed and read back (txcallback
// records, decisions, the resolver's schedule and the tenant's index), a
// push subscription created, delivered to and paused (subscriptions, the
// dedup marks, dead-letter reasons). Any script touching keys of two
// slots would fail here with CROSSSLOT.
func TestGatewayOnRedisCluster(t *testing.T) {
	s := stack(t)
	cluster := testenv.RedisCluster(t)
	addrs := strings.Join(cluster.Options().Addrs, ",")
	g := testenv.StartGateway(t, s, "ZEROLOSS_REDIS_ADDRS="+addrs)
	topic := s.Topic(t, "orders-cluster", 2)
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, nil)

	url := g.URL + "/v1/topics/" + topic + "/messages"
	body := map[string]any{"body": "pay 12 EUR"}
	first := post(t, url, testenv.AdminKey, body, "Idempotency-Key", "cluster-"+topic)
	second := post(t, url, testenv.AdminKey, body, "Idempotency-Key", "cluster-"+topic)
	if first.Status != http.StatusCreated || second.Status != http.StatusCreated || string(first.Body) != string(second.Body) ||
		second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("send and replay on the cluster: %d %s / %d %s %q", first.Status, first.Body, second.Status, second.Body,
			second.Header.Get("Idempotent-Replayed"))
	}
	var sent published
	first.json(t, &sent)

	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.OrdersOpsKey, hook)
	tx := begin(t, g, testenv.OrdersKey, prd, topic, "commit me", "C")
	if res := decide(t, g, testenv.OrdersKey, tx.TransactionID, "commit"); res.Status != http.StatusOK {
		t.Fatalf("commit on the cluster: %d %s", res.Status, res.Body)
	}
	if code, v := getTx(t, g, testenv.OrdersKey, tx.TransactionID); code != http.StatusOK || v.State != "committed" {
		t.Fatalf("transaction on the cluster: %d %+v", code, v)
	}
	if res := getAuth(t, g.URL+"/v1/transactions?state=committed", testenv.OrdersKey); res.Status != http.StatusOK ||
		!strings.Contains(string(res.Body), tx.TransactionID) {
		t.Fatalf("transaction list on the cluster: %d %s", res.Status, res.Body)
	}

	got := r.waitProcessed(t, 2, time.Minute)
	ids := map[string]bool{}
	for _, d := range got {
		ids[d.ID] = true
	}
	if !ids[sent.MessageID] || !ids[tx.MessageID] {
		t.Fatalf("delivered %v, want %s and %s", ids, sent.MessageID, tx.MessageID)
	}
	if res := post(t, g.URL+"/v1/subscriptions/"+sub.ID+"/pause", testenv.AdminKey, ""); res.Status != http.StatusOK {
		t.Fatalf("pause on the cluster: %d %s", res.Status, res.Body)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID, testenv.AdminKey)
		var v subView
		res.json(t, &v)
		if v.State != "paused" {
			return fmt.Errorf("subscription %s", res.Body)
		}
		return nil
	})
	if log := g.Log(); strings.Contains(log, "CROSSSLOT") || strings.Contains(log, "non local key") {
		t.Fatalf("the gateway's Redis scripts crossed slots:\n%s", log)
	}
}
