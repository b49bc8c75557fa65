package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/lease"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func TestLease(t *testing.T) {
	rdb := testenv.Shared(t).Redis(t)
	ctx := context.Background()
	key := "zl:test:lease:{" + lease.NewToken() + "}"
	t.Cleanup(func() { rdb.Del(context.Background(), key) })

	first, ok, err := lease.Acquire(ctx, rdb, key, time.Minute)
	if err != nil || !ok {
		t.Fatalf("first Acquire = %v, %v; want taken", ok, err)
	}
	if _, ok, err := lease.Acquire(ctx, rdb, key, time.Minute); err != nil || ok {
		t.Fatalf("second Acquire while held = %v, %v; want refused", ok, err)
	}
	if err := lease.Release(ctx, rdb, lease.Lease{Key: key, Token: "someone-else"}); !errors.Is(err, lease.ErrNotHeld) {
		t.Fatalf("Release with another token = %v; want ErrNotHeld", err)
	}
	if err := lease.Release(ctx, rdb, first); err != nil {
		t.Fatalf("Release by the owner = %v", err)
	}
	if err := lease.Release(ctx, rdb, first); !errors.Is(err, lease.ErrNotHeld) {
		t.Fatalf("second Release = %v; want ErrNotHeld", err)
	}

	// A lease that ran out is taken by another owner; the first owner's late
	// Release must not free it.
	old, ok, err := lease.Acquire(ctx, rdb, key, time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Acquire short lease = %v, %v", ok, err)
	}
	var next lease.Lease
	for {
		if next, ok, err = lease.Acquire(ctx, rdb, key, time.Minute); err != nil {
			t.Fatal(err)
		} else if ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := lease.Release(ctx, rdb, old); !errors.Is(err, lease.ErrNotHeld) {
		t.Fatalf("late Release by the expired owner = %v; want ErrNotHeld", err)
	}
	if got, err := rdb.Get(ctx, key).Result(); err != nil || got != next.Token {
		t.Fatalf("key = %q, %v; want the new owner's token", got, err)
	}
}

func TestReleaseMany(t *testing.T) {
	rdb := testenv.Shared(t).Redis(t)
	ctx := context.Background()
	var held []lease.Lease
	for range 5 {
		l, ok, err := lease.Acquire(ctx, rdb, "zl:test:lease:{"+lease.NewToken()+"}", time.Minute)
		if err != nil || !ok {
			t.Fatalf("Acquire = %v, %v", ok, err)
		}
		held = append(held, l)
	}
	// The script cache emptied (as after a Redis restart): the pipeline
	// must fall back from EVALSHA to EVAL.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	stale := append(held[:4:4], lease.Lease{Key: held[4].Key, Token: "not-the-owner"})
	if n := lease.ReleaseMany(ctx, rdb, stale); n != 4 {
		t.Fatalf("ReleaseMany released %d; want 4 (the fifth has another owner)", n)
	}
	if n, err := rdb.Exists(ctx, held[0].Key, held[4].Key).Result(); err != nil || n != 1 {
		t.Fatalf("keys left = %d, %v; want only the fifth", n, err)
	}
	rdb.Del(ctx, held[4].Key)
}
