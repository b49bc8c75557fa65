package txcallback

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestCheckCallsStayBoundedWithASlowCheckURL: with a check URL that takes
// a second to answer, the check URL calls one replica has in flight (its
// resolver and the broker's check-backs together) never exceed
// MaxConcurrentChecks, and every transaction is still resolved.
func TestCheckCallsStayBoundedWithASlowCheckURL(t *testing.T) {
	s := testenv.Shared(t)
	const limit, total = 3, 40
	var (
		mu       sync.Mutex
		inFlight = map[string]int{}
		peak     = map[string]int{}
		calls    atomic.Int64
	)
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua := r.Header.Get("User-Agent")
		mu.Lock()
		inFlight[ua]++
		peak[ua] = max(peak[ua], inFlight[ua])
		mu.Unlock()
		calls.Add(1)
		time.Sleep(time.Second)
		mu.Lock()
		inFlight[ua]--
		mu.Unlock()
		_, _ = io.WriteString(w, `{"decision":"commit"}`)
	})
	e := newRaceEnv(t, s, Config{MaxConcurrentChecks: limit, ResolveAfter: 100 * time.Millisecond, ResolveRetry: 200 * time.Millisecond}, hook)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, r := range []*Service{e.a, e.b} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Resolve(ctx) }()
	}
	var ids []string
	var txs []Transaction
	for i := 0; i < total; i++ {
		tx := e.begin(t, fmt.Sprintf("slow %d", i))
		txs = append(txs, tx)
		ids = append(ids, tx.MessageID)
	}
	testenv.Eventually(t, 120*time.Second, func() error {
		for _, tx := range txs {
			got, err := e.a.Get(ctx, "t", tx.ID)
			if err != nil || got.State != Committed {
				return fmt.Errorf("%s is %s (%v)", tx.ID, got.State, err)
			}
		}
		return nil
	})
	mu.Lock()
	for ua, p := range peak {
		if p > limit {
			t.Errorf("%s had %d check URL calls in flight, limit %d", ua, p, limit)
		}
	}
	t.Logf("peak calls in flight per replica: %v; %d calls for %d transactions", peak, calls.Load(), total)
	mu.Unlock()
	cancel()
	e.settle(t, ids, nil)
}
