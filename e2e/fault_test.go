package e2e_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestBrokerDownThenBack kills the broker of a private stack: sends answer
// 503 send-unconfirmed and /readyz 503; once the broker is back, the same
// gateway process sends again, and the retry of the unconfirmed send (same
// Idempotency-Key) stores the message under the first attempt's id.
func TestBrokerDownThenBack(t *testing.T) {
	s := testenv.Private(t)
	g := testenv.StartGateway(t, s, "ZEROLOSS_SEND_TIMEOUT=1s", "ZEROLOSS_SEND_RETRIES=1")
	topic := s.Topic(t, "fault", 2)
	url := g.URL + "/v1/topics/" + topic + "/messages"
	before := mustPublish(t, url, testenv.AdminKey, map[string]any{"body": "before"})

	s.StopBroker(t)
	down := post(t, url, testenv.AdminKey, map[string]any{"body": "during"}, "Idempotency-Key", "fault-"+topic)
	if down.Status != http.StatusServiceUnavailable || down.problemType() != "send-unconfirmed" || down.Header.Get("Retry-After") == "" {
		t.Fatalf("send with the broker down: %d %s", down.Status, down.Body)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		r := get(t, g.URL+"/readyz")
		if r.Status != http.StatusServiceUnavailable || r.problemType() != "not-ready" {
			return fmt.Errorf("readyz %d %s", r.Status, r.Body)
		}
		return nil
	})

	s.StartBroker(t)
	var after published
	testenv.Eventually(t, 90*time.Second, func() error {
		r := post(t, url, testenv.AdminKey, map[string]any{"body": "during"}, "Idempotency-Key", "fault-"+topic)
		if r.Status != http.StatusCreated {
			return fmt.Errorf("retry: %d %s", r.Status, r.Body)
		}
		r.json(t, &after)
		return nil
	})
	testenv.Eventually(t, 60*time.Second, func() error {
		if r := get(t, g.URL+"/readyz"); r.Status != http.StatusOK {
			return fmt.Errorf("readyz %d %s", r.Status, r.Body)
		}
		return nil
	})

	recv := s.Consume(t, topic)
	recv.WaitForID(t, before.MessageID, 60*time.Second)
	m := recv.WaitForID(t, after.MessageID, 60*time.Second)
	if string(m.Body) != "during" {
		t.Fatalf("retried message body %q", m.Body)
	}
	// Every stored copy of "during" carries the one id: a consumer that
	// deduplicates on messageId processes it once.
	for _, m := range recv.All() {
		if string(m.Body) == "during" && testenv.ID(m) != after.MessageID {
			t.Fatalf("a copy of the retried message has another id %s (want %s)", testenv.ID(m), after.MessageID)
		}
	}
}

// TestShutdownLosesNothingAcknowledged sends a stream of messages and
// SIGTERMs the gateway in the middle: every message that got a 201 is
// consumable, and the process drains and exits.
func TestShutdownLosesNothingAcknowledged(t *testing.T) {
	s := stack(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "drain", 4)
	recv := s.Consume(t, topic)
	url := g.URL + "/v1/topics/" + topic + "/messages"

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := tryPost(url, testenv.AdminKey, fmt.Sprintf(`{"body":"w%d-%d"}`, w, i))
				if err != nil {
					return // the listener is closed: no answer, nothing acknowledged
				}
				if r.Status == http.StatusCreated {
					var p published
					r.json(t, &p)
					mu.Lock()
					acked = append(acked, p.MessageID)
					mu.Unlock()
				}
			}
		}()
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 50 {
			return fmt.Errorf("%d acknowledged so far", len(acked))
		}
		return nil
	})
	g.Stop() // SIGTERM, waits for the drain and exit
	close(stop)
	wg.Wait()
	if log := g.Log(); !contains(log, `"msg":"stopped"`) {
		t.Fatalf("gateway did not stop cleanly:\n%s", log)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range acked {
		recv.WaitForID(t, id, 60*time.Second)
	}
	t.Logf("%d acknowledged messages, all consumed", len(acked))
}
