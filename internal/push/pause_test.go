package push

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/subscription"
)

// fakePauser stores pauses, or fails with err.
type fakePauser struct {
	err      error
	paused   map[string]string
	deadline bool
}

func (f *fakePauser) SetPaused(ctx context.Context, id, reason string) error {
	_, f.deadline = ctx.Deadline()
	if f.err != nil {
		return f.err
	}
	f.paused[id] = reason
	return nil
}

func TestPauser(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"stored", nil},
		{"store down", errors.New("redis: connection refused")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakePauser{err: tc.err, paused: map[string]string{}}
			changed := 0
			p := pauser{store: store, timeout: time.Minute, changed: func() { changed++ }, log: slog.New(slog.DiscardHandler)}
			// The consume context may be cancelled: the pause is still asked for.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			got := p.pause(ctx, subscription.Subscription{ID: "s1"}, "gone")
			want := tc.err == nil
			if got != want || !store.deadline {
				t.Fatalf("pause = %v (deadline %v), want %v with a deadline", got, store.deadline, want)
			}
			if want && (store.paused["s1"] != "gone" || changed != 1) {
				t.Errorf("paused %v, changed %d", store.paused, changed)
			}
			if !want && changed != 0 {
				t.Errorf("a failed pause announced a change")
			}
		})
	}
}
