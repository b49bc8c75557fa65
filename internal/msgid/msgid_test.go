package msgid_test

import (
	"context"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/msgid"
)

func TestIDs(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	s := msgid.New(now)
	seen := map[string]bool{}
	for i := uint16(0); i < 1000; i++ {
		id := s.ID(i)
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %d = %q (dup=%v)", i, id, seen[id])
		}
		seen[id] = true
	}
	if s.ID(7) != s.ID(7) {
		t.Fatal("ids must be deterministic per seed and index")
	}
	if other := msgid.New(now); other.ID(0) == s.ID(0) {
		t.Fatal("two seeds in the same millisecond collided")
	}
	if later := msgid.New(now.Add(time.Millisecond)); later.ID(0) <= s.ID(0) {
		t.Fatal("ids must sort by creation time")
	}
}

func TestSeedRoundTrip(t *testing.T) {
	s := msgid.New(time.Now())
	got, err := msgid.Parse(s.String())
	if err != nil || got != s {
		t.Fatalf("Parse(String()) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "zz", "00"} {
		if _, err := msgid.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestContext(t *testing.T) {
	s := msgid.New(time.Now())
	if got := msgid.FromContext(msgid.WithSeed(context.Background(), s)); got != s {
		t.Fatal("seed lost in context")
	}
	a, b := msgid.FromContext(context.Background()), msgid.FromContext(context.Background())
	if a == b {
		t.Fatal("a request without a seed must get a fresh one each time")
	}
}
