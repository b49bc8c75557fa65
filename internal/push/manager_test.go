package push

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// fakeSubscriptions serves a fixed list; Watch calls changed once.
type fakeSubscriptions struct {
	mu     sync.Mutex
	all    []subscription.Subscription
	allErr error
	paused map[string]string
}

func (f *fakeSubscriptions) All(context.Context) ([]subscription.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.all, f.allErr
}

func (f *fakeSubscriptions) SetPaused(_ context.Context, id, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused[id] = reason
	return nil
}

func (f *fakeSubscriptions) Watch(_ context.Context, _ time.Duration, changed func()) { changed() }

// fakeTopics refuses to create topics (so no consumer starts) and counts.
type fakeTopics struct {
	mu      sync.Mutex
	created []string
}

func (f *fakeTopics) CreateTopic(_ context.Context, _, topic string, _ int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, topic)
	return errors.New("broker: no route")
}

func (f *fakeTopics) Lag(context.Context, string, string) (int64, error) { return 0, nil }

// claimOnce claims every id the first time and reports it delivered after.
type claimOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *claimOnce) ClaimFor(_ context.Context, _, id string, _ time.Duration) (dedup.Claim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[id] {
		return dedup.Claim{Status: dedup.Delivered}, nil
	}
	c.seen[id] = true
	return dedup.Claim{Status: dedup.Claimed}, nil
}
func (c *claimOnce) Delivered(context.Context, dedup.Claim) error { return nil }
func (c *claimOnce) Release(context.Context, dedup.Claim) error   { return nil }

type noErrors struct{}

func (noErrors) RecordFailure(context.Context, string, string, string, int) error { return nil }

func newTestManager(t *testing.T, subs *fakeSubscriptions, topics *fakeTopics, dd Deduper) *Manager {
	t.Helper()
	return NewManager(Config{}, subs, topics, dd, webhook.NewClient(true, "test"), noErrors{},
		noop.NewTracerProvider(), propagation.TraceContext{}, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
}

// TestManagersChainDeliversSignedOnce runs the chain NewManager assembles
// against an HTTP endpoint: a signed CloudEvent, then a suppressed duplicate.
func TestManagersChainDeliversSignedOnce(t *testing.T) {
	secret := webhook.NewSecret()
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhook.SecretPrefix))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
		if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	m := newTestManager(t, &fakeSubscriptions{}, &fakeTopics{}, &claimOnce{seen: map[string]bool{}})
	s := subscription.Subscription{ID: "s1", Endpoint: srv.URL, Timeout: 5 * time.Second, Secret: secret, DedupSource: subscription.DedupMessageID}
	msg := &primitive.MessageExt{Message: primitive.Message{Topic: "orders", Body: []byte("hello")}}
	msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, "MSG1")
	msg.WithProperty("region", "eu")
	if r := m.handle(context.Background(), &Delivery{Sub: s, Msg: msg}); r.Outcome != Delivered || r.Status != 204 {
		t.Fatalf("first delivery %+v", r)
	}
	if r := m.handle(context.Background(), &Delivery{Sub: s, Msg: msg}); r.Outcome != Suppressed {
		t.Fatalf("second delivery %+v, want suppressed", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Header.Get("webhook-id") != "MSG1" || got[0].Header.Get("ce-id") != "MSG1" || got[0].Header.Get("ce-properties") != "region=eu" {
		t.Fatalf("endpoint got %d calls: %v", len(got), got)
	}
}

func TestReconcileStartsNothingItCannotPrepare(t *testing.T) {
	tests := []struct {
		name    string
		subs    *fakeSubscriptions
		created int
	}{
		{"unreadable subscriptions", &fakeSubscriptions{allErr: errors.New("redis down")}, 0},
		{"paused subscriptions", &fakeSubscriptions{all: []subscription.Subscription{{ID: "s1", Paused: true}}}, 0},
		{"retry topic refused", &fakeSubscriptions{all: []subscription.Subscription{{ID: "s1"}}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topics := &fakeTopics{}
			m := newTestManager(t, tc.subs, topics, &claimOnce{seen: map[string]bool{}})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			m.reconcile(context.Background())
			if len(m.runners) != 0 || len(topics.created) != tc.created {
				t.Fatalf("runners %v, topics %v", m.runners, topics.created)
			}
			m.Run(ctx) // ends at once: ctx is done, no runner to stop
			m.reconcile(context.Background())
			if len(topics.created) != tc.created {
				t.Fatalf("reconciled after Run ended: topics %v", topics.created)
			}
		})
	}
}

func TestManagerPauseIsStored(t *testing.T) {
	subs := &fakeSubscriptions{paused: map[string]string{}, allErr: errors.New("not now")}
	m := newTestManager(t, subs, &fakeTopics{}, &claimOnce{seen: map[string]bool{}})
	if !m.pause(context.Background(), subscription.Subscription{ID: "s1"}, "endpoint answered 410 Gone") {
		t.Fatal("pause not stored")
	}
	subs.mu.Lock()
	defer subs.mu.Unlock()
	if subs.paused["s1"] != "endpoint answered 410 Gone" {
		t.Fatalf("paused %v", subs.paused)
	}
}

func TestConsumerKeyChangesWithWhatBuildsTheConsumer(t *testing.T) {
	base := subscription.Subscription{Topic: "t", TagFilter: "a", Concurrency: 2, MaxAttempts: 3}
	same := base
	same.Endpoint, same.Timeout, same.Secret = "https://other", time.Minute, "whsec_x"
	if consumerKey(base) != consumerKey(same) {
		t.Error("an endpoint, timeout or secret change restarts the consumer")
	}
	for _, change := range []func(*subscription.Subscription){
		func(s *subscription.Subscription) { s.Topic = "u" },
		func(s *subscription.Subscription) { s.TagFilter = "b" },
		func(s *subscription.Subscription) { s.Ordered = true },
		func(s *subscription.Subscription) { s.Concurrency = 3 },
		func(s *subscription.Subscription) { s.MaxAttempts = 4 },
	} {
		s := base
		change(&s)
		if consumerKey(s) == consumerKey(base) {
			t.Errorf("%+v keeps the consumer", s)
		}
	}
}
