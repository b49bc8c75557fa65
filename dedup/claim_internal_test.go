package dedup

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// A claim is one SET NX GET on Redis 7 and the claim script before it; both
// ways, alone or batched, give the same transitions.
func TestClaimByCommandAndByScriptAgree(t *testing.T) {
	rdb := testenv.Shared(t).Redis(t)
	for _, tc := range []struct {
		name    string
		script  bool
		batched bool
	}{
		{"command", false, false},
		{"command batched", false, true},
		{"script", true, false},
		{"script batched", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			const lease = time.Minute
			s, err := NewStore(rdb, Config{Window: time.Hour, Lease: lease, Prefix: "zl:test:dedup:" + rand.Text() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			s.scriptClaims.Store(tc.script)
			t.Cleanup(func() { _ = rdb.Del(context.Background(), s.key("sub-a", "m1"), s.key("sub-a", "m2")).Err() })
			claimFor := s.ClaimFor
			if tc.batched {
				b := NewBatcher(s, 8)
				go b.Run(ctx)
				claimFor = b.ClaimFor
			}
			claim := func(id string, want Status) Claim {
				t.Helper()
				c, err := claimFor(ctx, "sub-a", id, 0)
				if err != nil || c.Status != want {
					t.Fatalf("claim %s = %v, %v; want %v", id, c.Status, err, want)
				}
				return c
			}
			first := claim("m1", Claimed)
			busy := claim("m1", Busy)
			if busy.RetryAfter <= 0 || busy.RetryAfter > lease {
				t.Fatalf("busy RetryAfter = %s, want (0, %s]", busy.RetryAfter, lease)
			}
			if left, err := rdb.PTTL(ctx, first.key).Result(); err != nil || left <= 0 || left > lease {
				t.Fatalf("in-flight record's TTL = %s, %v; want the lease", left, err)
			}
			if err := s.Delivered(ctx, first); err != nil {
				t.Fatal(err)
			}
			claim("m1", Delivered)
			if err := s.Release(ctx, first); !errors.Is(err, ErrNotOwner) {
				t.Fatalf("Release after Delivered = %v, want ErrNotOwner", err)
			}
			second := claim("m2", Claimed)
			if err := s.Release(ctx, second); err != nil {
				t.Fatal(err)
			}
			claim("m2", Claimed)
			if got := s.scriptClaims.Load(); got != tc.script {
				t.Fatalf("script claims = %v after the claims, want %v", got, tc.script)
			}
		})
	}
}

// refuseSetGet answers SET … NX … GET as Redis 6 does (NX and GET were
// allowed together in 7.0): a syntax error, nothing set.
type refuseSetGet struct{}

func (refuseSetGet) DialHook(next redis.DialHook) redis.DialHook { return next }

func (refuseSetGet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { return next(ctx, cmd) }
}

func (refuseSetGet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var pass []redis.Cmder
		for _, c := range cmds {
			if isSetNXGet(c.Args()) {
				c.SetErr(serverError("ERR syntax error"))
				continue
			}
			pass = append(pass, c)
		}
		if len(pass) == 0 {
			return nil
		}
		return next(ctx, pass)
	}
}

// serverError is an error as Redis answers it (redis.Error).
type serverError string

func (e serverError) Error() string { return string(e) }

// RedisError marks serverError as Redis's answer.
func (serverError) RedisError() {}

func isSetNXGet(args []any) bool {
	if len(args) == 0 || !strings.EqualFold(args[0].(string), "set") {
		return false
	}
	var nx, get bool
	for _, a := range args[1:] {
		if s, ok := a.(string); ok {
			nx = nx || strings.EqualFold(s, "nx")
			get = get || strings.EqualFold(s, "get")
		}
	}
	return nx && get
}

// On a Redis that refuses SET NX GET (before 7.0), the first claim falls
// back to the script, answers as it should, and the next ones use it.
func TestClaimFallsBackToTheScriptBeforeRedis7(t *testing.T) {
	base, ok := testenv.Shared(t).Redis(t).(*redis.Client)
	if !ok {
		t.Skip("needs a single-node Redis client to copy")
	}
	rdb := redis.NewClient(base.Options())
	defer rdb.Close()
	rdb.AddHook(refuseSetGet{})
	ctx := context.Background()
	s, err := NewStore(rdb, Config{Window: time.Hour, Lease: time.Minute, Prefix: "zl:test:dedup:" + rand.Text() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = base.Del(context.Background(), s.key("sub-a", "m1")).Err() })
	c, err := s.Claim(ctx, "sub-a", "m1")
	if err != nil || c.Status != Claimed {
		t.Fatalf("first claim = %v, %v; want claimed through the script", c.Status, err)
	}
	if !s.scriptClaims.Load() {
		t.Fatal("the store did not switch to the script")
	}
	if c2, err := s.Claim(ctx, "sub-a", "m1"); err != nil || c2.Status != Busy {
		t.Fatalf("second claim = %v, %v; want busy", c2.Status, err)
	}
	if err := s.Delivered(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c3, err := s.Claim(ctx, "sub-a", "m1"); err != nil || c3.Status != Delivered {
		t.Fatalf("claim after delivery = %v, %v; want delivered", c3.Status, err)
	}
}
