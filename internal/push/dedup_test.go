package push_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// fakeDeduper answers ClaimFor from claims (one per call, the last
// repeated) and records what the middleware asked.
type fakeDeduper struct {
	mu        sync.Mutex
	claims    []claimAnswer
	onClaim   func(n int) // called with the call's number, from 1
	markErr   error
	calls     int
	leases    []time.Duration
	delivered []dedup.Claim
	released  []dedup.Claim
}

type claimAnswer struct {
	c   dedup.Claim
	err error
}

func (f *fakeDeduper) ClaimFor(_ context.Context, sub, id string, lease time.Duration) (dedup.Claim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.leases = append(f.leases, lease)
	if f.onClaim != nil {
		f.onClaim(f.calls)
	}
	a := f.claims[min(f.calls, len(f.claims))-1]
	return a.c, a.err
}

func (f *fakeDeduper) Delivered(_ context.Context, c dedup.Claim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, c)
	return f.markErr
}

func (f *fakeDeduper) Release(_ context.Context, c dedup.Claim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, c)
	return f.markErr
}

var (
	claimed     = claimAnswer{c: dedup.Claim{Status: dedup.Claimed}}
	wasSent     = claimAnswer{c: dedup.Claim{Status: dedup.Delivered}}
	busy        = claimAnswer{c: dedup.Claim{Status: dedup.Busy, RetryAfter: 40 * time.Second}}
	unreachable = claimAnswer{err: errors.New("redis: connection refused")}
)

func TestDedup(t *testing.T) {
	sub := subscription.Subscription{ID: "sub_1", DedupSource: subscription.DedupMessageID, Timeout: 2 * time.Second}
	none := sub
	none.DedupSource = subscription.DedupNone
	tests := []struct {
		name      string
		sub       subscription.Subscription
		claims    []claimAnswer
		endpoint  push.Result
		markErr   error
		want      push.Result
		posts     int
		claimsN   int
		delivered int
		released  int
	}{
		{"claimed and delivered is marked", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Delivered}, nil,
			push.Result{Outcome: push.Delivered}, 1, 1, 1, 0},
		{"a failed mark still counts as delivered", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Delivered}, errors.New("down"),
			push.Result{Outcome: push.Delivered}, 1, 1, 1, 0},
		{"claimed and retried is released", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Retry, Reason: "HTTP 503"}, nil,
			push.Result{Outcome: push.Retry, Reason: "HTTP 503"}, 1, 1, 0, 1},
		{"claimed and dead is released", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Dead}, nil,
			push.Result{Outcome: push.Dead}, 1, 1, 0, 1},
		{"claimed and gone is released", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Gone}, nil,
			push.Result{Outcome: push.Gone}, 1, 1, 0, 1},
		{"a failed release keeps the result", sub, []claimAnswer{claimed}, push.Result{Outcome: push.Retry}, errors.New("down"),
			push.Result{Outcome: push.Retry}, 1, 1, 0, 1},
		{"delivered before is suppressed, not sent", sub, []claimAnswer{wasSent}, push.Result{Outcome: push.Delivered}, nil,
			push.Result{Outcome: push.Suppressed}, 0, 1, 0, 0},
		{"busy past the lease wait is retried, not sent", sub, []claimAnswer{busy}, push.Result{Outcome: push.Delivered}, nil,
			push.Result{Outcome: push.Retry, Wait: 40 * time.Second, Busy: true, Reason: "in flight on another replica"}, 0, 1, 0, 0},
		{"an unreachable store is asked again, never skipped", sub, []claimAnswer{unreachable, unreachable, claimed}, push.Result{Outcome: push.Delivered}, nil,
			push.Result{Outcome: push.Delivered}, 1, 3, 1, 0},
		{"dedup none never asks the store", none, []claimAnswer{unreachable}, push.Result{Outcome: push.Retry}, nil,
			push.Result{Outcome: push.Retry}, 1, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakeDeduper{claims: tc.claims, markErr: tc.markErr}
			storeErrors := 0
			posts := 0
			h := push.Dedup(store, push.DedupConfig{LeaseWait: time.Nanosecond, Backoff: time.Millisecond,
				OnStoreError: func() { storeErrors++ }})(respond(tc.endpoint, &posts))
			got := h(context.Background(), &push.Delivery{Sub: tc.sub, Msg: message("MSG1"), Stop: make(chan struct{})})
			if got != tc.want {
				t.Errorf("result %+v, want %+v", got, tc.want)
			}
			if posts != tc.posts || store.calls != tc.claimsN || len(store.delivered) != tc.delivered || len(store.released) != tc.released {
				t.Errorf("posts %d claims %d delivered %d released %d; want %d %d %d %d", posts, store.calls, len(store.delivered),
					len(store.released), tc.posts, tc.claimsN, tc.delivered, tc.released)
			}
			if want := tc.claimsN - 1; tc.claimsN > 0 && storeErrors != want && tc.claims[0].err != nil {
				t.Errorf("store errors counted %d, want %d", storeErrors, want)
			}
			for _, l := range store.leases {
				if l != tc.sub.Timeout+5*time.Second {
					t.Errorf("lease %s, want the timeout plus the default margin", l)
				}
			}
		})
	}
}

func TestDedupHoldsWhileTheStoreIsDownUntilStop(t *testing.T) {
	stop := make(chan struct{})
	store := &fakeDeduper{claims: []claimAnswer{unreachable}, onClaim: func(n int) {
		if n == 3 {
			close(stop)
		}
	}}
	posts := 0
	h := push.Dedup(store, push.DedupConfig{Backoff: time.Millisecond})(respond(push.Result{Outcome: push.Delivered}, &posts))
	got := h(context.Background(), &push.Delivery{Sub: subscription.Subscription{ID: "s"}, Msg: message("M"), Stop: stop})
	if !errors.Is(got.Err, push.ErrStopping) || posts != 0 || store.calls != 3 {
		t.Fatalf("result %+v after %d claims, %d posts; want ErrStopping after 3 claims and no post", got, store.calls, posts)
	}
}

func TestDedupHoldEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := &fakeDeduper{claims: []claimAnswer{unreachable}, onClaim: func(n int) {
		if n == 2 {
			cancel()
		}
	}}
	posts := 0
	h := push.Dedup(store, push.DedupConfig{Backoff: time.Millisecond})(respond(push.Result{Outcome: push.Delivered}, &posts))
	got := h(ctx, &push.Delivery{Sub: subscription.Subscription{ID: "s"}, Msg: message("M"), Stop: make(chan struct{})})
	if !errors.Is(got.Err, context.Canceled) || posts != 0 {
		t.Fatalf("result %+v, %d posts; want context.Canceled and no post", got, posts)
	}
}

func TestDedupWaitsForAnotherReplicasClaim(t *testing.T) {
	shortBusy := claimAnswer{c: dedup.Claim{Status: dedup.Busy, RetryAfter: time.Millisecond}}
	store := &fakeDeduper{claims: []claimAnswer{shortBusy, shortBusy, wasSent}}
	posts := 0
	h := push.Dedup(store, push.DedupConfig{LeaseWait: time.Hour})(respond(push.Result{Outcome: push.Delivered}, &posts))
	got := h(context.Background(), &push.Delivery{Sub: subscription.Subscription{ID: "s"}, Msg: message("M"), Stop: make(chan struct{})})
	if got.Outcome != push.Suppressed || posts != 0 || store.calls != 3 {
		t.Fatalf("result %+v after %d claims; want suppressed after the other replica delivered", got, store.calls)
	}
}
