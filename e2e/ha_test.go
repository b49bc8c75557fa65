//go:build ha

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// The tests in this file run on the HA stack (deploy/local/stack.sh up
// --ha, through testenv.SharedHA): RocketMQ controller mode with groups
// broker-a and broker-b of two brokers each, Redis under Sentinel. Each
// kills one thing; SharedHA restarts whatever a previous test left down.

// idemPost posts body with an Idempotency-Key; transport errors are
// returned, not fatal.
func idemPost(url, key, idem string, body []byte) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// retryAfter is the reply's Retry-After, capped at 2 s.
func retryAfter(r reply) time.Duration {
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		return 200 * time.Millisecond
	}
	return min(time.Duration(n)*time.Second, 2*time.Second)
}

// waitNewMaster polls the name server until group's master is not old and
// returns the new address.
func waitNewMaster(t *testing.T, h testenv.HA, group, old string) string {
	t.Helper()
	var addr string
	testenv.Eventually(t, 2*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		m, err := h.Masters(ctx)
		if err != nil {
			return err
		}
		if a := m[group]; a != "" && a != old {
			addr = a
			return nil
		}
		return fmt.Errorf("%s master is %q", group, m[group])
	})
	return addr
}

// currentMaster waits until group has a routed master and returns it.
func currentMaster(t *testing.T, h testenv.HA, group string) string {
	t.Helper()
	var addr string
	testenv.Eventually(t, 2*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := h.Masters(ctx)
		if err != nil || m[group] == "" {
			return fmt.Errorf("master of %s: %v %v", group, m, err)
		}
		addr = m[group]
		return nil
	})
	return addr
}

// TestHASendsAcrossBrokerFailover sends continuously through one gateway
// while broker-a's master is killed (-9). Every answer is 201 or 503
// send-unconfirmed; a client retrying with the same Idempotency-Key gets
// 201; every 201'd message is consumable afterwards, and every stored copy
// of a message carries the id the 201 reported. The killed broker, started
// again, rejoins as a slave.
func TestHASendsAcrossBrokerFailover(t *testing.T) {
	h := testenv.SharedHA(t)
	g := h.StartGateway(t, "ZEROLOSS_SEND_TIMEOUT=2s")
	topic := h.Topic(t, "ha-send", 2)
	url := g.URL + "/v1/topics/" + topic + "/messages"

	type outcome struct {
		id, broker  string
		unconfirmed int
		acked       time.Time
	}
	var (
		mu      sync.Mutex
		acked   = map[int]outcome{}
		bad     []string
		next    atomic.Int64
		afterA  atomic.Int64 // 201s from broker-a for sends begun after the election
		elected atomic.Int64
		// when the first send begun after the election was stored on broker-a
		firstAfter atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1))
				body, _ := json.Marshal(map[string]any{"body": fmt.Sprintf("m-%d", i)})
				idem := fmt.Sprintf("%s-%d", topic, i)
				began := time.Now()
				o := outcome{}
				deadline := time.Now().Add(3 * time.Minute)
				for {
					r, err := idemPost(url, testenv.AdminKey, idem, body)
					if err == nil && r.Status == http.StatusCreated {
						var p published
						if err := json.Unmarshal(r.Body, &p); err != nil {
							mu.Lock()
							bad = append(bad, fmt.Sprintf("decode %s", r.Body))
							mu.Unlock()
							break
						}
						o.id, o.broker, o.acked = p.MessageID, p.BrokerName, time.Now()
						mu.Lock()
						acked[i] = o
						mu.Unlock()
						if e := elected.Load(); e != 0 && began.UnixNano() > e && p.BrokerName == "broker-a" {
							if afterA.Add(1) == 1 {
								firstAfter.Store(time.Now().UnixNano())
							}
						}
						break
					}
					if err != nil || r.Status != http.StatusServiceUnavailable || r.problemType() != "send-unconfirmed" {
						mu.Lock()
						if err != nil {
							bad = append(bad, fmt.Sprintf("message %d: %v", i, err))
						} else {
							bad = append(bad, fmt.Sprintf("message %d: %d %s", i, r.Status, r.Body))
						}
						mu.Unlock()
						break
					}
					o.unconfirmed++
					if time.Now().After(deadline) {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("message %d: still 503 after 3 min", i))
						mu.Unlock()
						break
					}
					time.Sleep(retryAfter(r))
				}
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	testenv.Eventually(t, time.Minute, func() error {
		if n := count(); n < 40 {
			return fmt.Errorf("%d sends acknowledged before the kill", n)
		}
		return nil
	})

	old := currentMaster(t, h, "broker-a")
	killed, killDone := h.KillMaster(t, "broker-a")
	newAddr := waitNewMaster(t, h, "broker-a", old)
	electedAt := time.Now()
	elected.Store(electedAt.UnixNano())
	t.Logf("killed %s (%s); new master %s routed %s after the kill",
		killed, old, newAddr, electedAt.Sub(killDone).Round(time.Millisecond))

	testenv.Eventually(t, 3*time.Minute, func() error {
		if n := afterA.Load(); n < 20 {
			return fmt.Errorf("%d sends to broker-a acknowledged after the election", n)
		}
		return nil
	})
	close(stop)
	wg.Wait()

	mu.Lock()
	if len(bad) > 0 {
		mu.Unlock()
		t.Fatalf("%d sends ended outside 201 / 503 send-unconfirmed, e.g. %v", len(bad), bad[:min(len(bad), 5)])
	}
	var retried int
	for _, o := range acked {
		if o.unconfirmed > 0 {
			retried++
		}
	}
	total := len(acked)
	mu.Unlock()
	t.Logf("%d sends acknowledged, %d after one or more 503 send-unconfirmed; broker-a stored sends again %s after the kill",
		total, retried, time.Unix(0, firstAfter.Load()).Sub(killDone).Round(time.Millisecond))

	recv := h.Consume(t, topic)
	testenv.Eventually(t, 3*time.Minute, func() error {
		got := map[string]bool{}
		for _, m := range recv.All() {
			got[testenv.ID(m)] = true
		}
		missing := 0
		for _, o := range acked {
			if !got[o.id] {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d acknowledged messages not consumed", missing, total)
		}
		return nil
	})
	byBody := map[string]string{}
	for i, o := range acked {
		byBody[fmt.Sprintf("m-%d", i)] = o.id
	}
	for _, m := range recv.All() {
		if want, ok := byBody[string(m.Body)]; ok && testenv.ID(m) != want {
			t.Fatalf("a copy of %s carries id %s, the 201 said %s", m.Body, testenv.ID(m), want)
		}
	}

	h.Start(t, killed)
	if now := currentMaster(t, h, "broker-a"); now == old {
		t.Fatalf("the restarted broker %s took the master role back", killed)
	}
}

// TestHAHalfMessagesEndOnTheNewMaster begins transactions on broker-a's
// master, kills it, and ends them through the API: commits and rollbacks
// reach the new master by the recorded coordinates (the broker checks that
// the commit-log offset and the half queue offset name the half message:
// the slave's commit log is a byte copy, so they do), committed messages
// become consumable once, rolled back ones never, and an undecided one
// begun on the new master is resolved by its check-backs.
func TestHAHalfMessagesEndOnTheNewMaster(t *testing.T) {
	h := testenv.SharedHA(t)
	g := h.StartGateway(t)
	topic := h.GroupTopic(t, "orders-ha-tx", "broker-a", 1)
	recv := h.Consume(t, topic)
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.OrdersOpsKey, hook)

	var commits, rollbacks []txView
	for i := 0; i < 3; i++ {
		commits = append(commits, begin(t, g, testenv.OrdersKey, prd, topic, fmt.Sprintf("commit %d", i), "C"))
	}
	for i := 0; i < 2; i++ {
		rollbacks = append(rollbacks, begin(t, g, testenv.OrdersKey, prd, topic, fmt.Sprintf("rollback %d", i), "R"))
	}

	old := currentMaster(t, h, "broker-a")
	killed, killDone := h.KillMaster(t, "broker-a")

	end := func(tx txView, what string) time.Time {
		t.Helper()
		var n503 int
		testenv.Eventually(t, 3*time.Minute, func() error {
			r := decide(t, g, testenv.OrdersKey, tx.TransactionID, what)
			if r.Status == http.StatusOK {
				return nil
			}
			if r.Status != http.StatusServiceUnavailable {
				t.Fatalf("%s %s after the kill: %d %s", what, tx.TransactionID, r.Status, r.Body)
			}
			n503++
			time.Sleep(retryAfter(r))
			return fmt.Errorf("%s %s: %d %s", what, tx.TransactionID, r.Status, r.Body)
		})
		if n503 > 0 {
			t.Logf("%s %s: %d × 503 before 200", what, tx.TransactionID, n503)
		}
		return time.Now()
	}
	firstEnd := end(commits[0], "commit")
	newAddr := currentMaster(t, h, "broker-a")
	if newAddr == old {
		t.Fatalf("commit acknowledged while the name server still routes the dead master %s", old)
	}
	t.Logf("killed %s (%s); first commit acknowledged by the new master %s %s after the kill",
		killed, old, newAddr, firstEnd.Sub(killDone).Round(time.Millisecond))
	for _, tx := range commits[1:] {
		end(tx, "commit")
	}
	for _, tx := range rollbacks {
		end(tx, "rollback")
	}
	// Check-backs from the new master: a transaction begun there and left
	// undecided is committed by the check URL's answer. (One begun on the
	// old master and left undecided would be checked at most
	// transactionCheckMax times, 60 in ~1 min here, then discarded.)
	hook.setAnswer(func(c checkCall) (int, string) {
		if c.Tag == "U" {
			return 200, `{"decision":"commit"}`
		}
		return 200, `{"decision":"unknown"}`
	})
	// The gateway's producer reaches the new master once its route
	// refreshes (the Go client: every 30 s): until then a begin on this
	// one-group topic answers 503 send-unconfirmed, and the client retries
	// with the same Idempotency-Key.
	var undecided txView
	var n503 int
	idem := "begin-u-" + topic
	testenv.Eventually(t, 3*time.Minute, func() error {
		r := post(t, g.URL+"/v1/transactions", testenv.OrdersKey,
			map[string]any{"producer": prd, "topic": topic, "body": "undecided", "tag": "U"}, "Idempotency-Key", idem)
		switch {
		case r.Status == http.StatusCreated:
			r.json(t, &undecided)
			return nil
		case r.Status == http.StatusServiceUnavailable && r.problemType() == "send-unconfirmed":
			n503++
			time.Sleep(retryAfter(r))
			return fmt.Errorf("begin: %d %s", r.Status, r.Body)
		}
		t.Fatalf("begin after the failover: %d %s", r.Status, r.Body)
		return nil
	})
	t.Logf("a begin on the new master succeeded %s after the kill, after %d × 503 send-unconfirmed",
		time.Since(killDone).Round(time.Millisecond), n503)

	for _, tx := range append(commits, undecided) {
		m := recv.WaitForID(t, tx.MessageID, 3*time.Minute)
		if m.GetProperty("TRAN_MSG") == "true" && m.Topic != topic {
			t.Fatalf("message %s came from the half topic", tx.MessageID)
		}
	}
	uv := waitState(t, g, testenv.OrdersKey, undecided.TransactionID, "committed")
	if uv.DecidedBy != "check" {
		t.Errorf("undecided transaction decided by %q, want check", uv.DecidedBy)
	}
	for _, tx := range rollbacks {
		waitState(t, g, testenv.OrdersKey, tx.TransactionID, "rolled_back")
	}
	sentinel(t, g, recv, topic)
	for _, tx := range rollbacks {
		if n := recv.Count(tx.MessageID); n != 0 {
			t.Fatalf("rolled-back %s delivered %d times", tx.MessageID, n)
		}
	}
	for _, tx := range append(commits, undecided) {
		if n := recv.Count(tx.MessageID); n != 1 {
			t.Fatalf("committed %s delivered %d times, want once", tx.MessageID, n)
		}
	}
	h.Start(t, killed)
}

// TestHARedisFailoverKeepsAcknowledgedRecords acknowledges an idempotency
// record and two transaction decisions, kills the Redis master (-9), and
// after Sentinel promoted the replica finds all three: the retried send is
// a replay with the same message id (stored once), the transactions keep
// their decided states.
func TestHARedisFailoverKeepsAcknowledgedRecords(t *testing.T) {
	h := testenv.SharedHA(t)
	g := h.StartGateway(t)
	topic := h.GroupTopic(t, "orders-ha-redis", "broker-b", 1)
	recv := h.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	prd := registerProducer(t, g, testenv.OrdersOpsKey, hook)

	body := []byte(`{"body":"pay 10 EUR"}`)
	idem := "pay-" + topic
	first, err := idemPost(url, testenv.AdminKey, idem, body)
	if err != nil || first.Status != http.StatusCreated {
		t.Fatalf("send: %v %d %s", err, first.Status, first.Body)
	}
	var sent published
	first.json(t, &sent)
	c := begin(t, g, testenv.OrdersKey, prd, topic, "commit me", "C")
	rb := begin(t, g, testenv.OrdersKey, prd, topic, "roll me back", "R")
	if r := decide(t, g, testenv.OrdersKey, c.TransactionID, "commit"); r.Status != 200 {
		t.Fatalf("commit: %d %s", r.Status, r.Body)
	}
	if r := decide(t, g, testenv.OrdersKey, rb.TransactionID, "rollback"); r.Status != 200 {
		t.Fatalf("rollback: %d %s", r.Status, r.Body)
	}

	killDone := time.Now()
	old := h.KillRedisMaster(t)
	testenv.Eventually(t, time.Minute, func() error {
		if m := h.RedisMaster(t); m == old {
			return fmt.Errorf("sentinels still name %s", m)
		}
		return nil
	})
	promoted := time.Now()
	var replay reply
	testenv.Eventually(t, time.Minute, func() error {
		r, err := idemPost(url, testenv.AdminKey, idem, body)
		if err != nil || r.Status != http.StatusCreated {
			return fmt.Errorf("replay: %v %d %s", err, r.Status, r.Body)
		}
		replay = r
		return nil
	})
	served := time.Now()
	t.Logf("Redis master %s killed; sentinels promoted the replica %s later; first answer through the new master %s after the kill",
		old, promoted.Sub(killDone).Round(time.Millisecond), served.Sub(killDone).Round(time.Millisecond))
	if replay.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.Body, first.Body) {
		t.Fatalf("after the failover the same Idempotency-Key sent again: %s %s (first %s)",
			replay.Header.Get("Idempotent-Replayed"), replay.Body, first.Body)
	}
	if code, v := getTx(t, g, testenv.OrdersKey, c.TransactionID); code != 200 || v.State != "committed" {
		t.Fatalf("committed transaction after the failover: %d %+v", code, v)
	}
	if code, v := getTx(t, g, testenv.OrdersKey, rb.TransactionID); code != 200 || v.State != "rolled_back" {
		t.Fatalf("rolled-back transaction after the failover: %d %+v", code, v)
	}
	recv.WaitForID(t, c.MessageID, time.Minute)
	sentinel(t, g, recv, topic)
	if recv.Count(sent.MessageID) != 1 || recv.Count(c.MessageID) != 1 || recv.Count(rb.MessageID) != 0 {
		t.Fatalf("stored: send %d, committed %d, rolled back %d (want 1, 1, 0)",
			recv.Count(sent.MessageID), recv.Count(c.MessageID), recv.Count(rb.MessageID))
	}
	h.Start(t, old)
	if m := h.RedisMaster(t); m == old {
		t.Fatalf("restarted %s is master again", old)
	}
}
