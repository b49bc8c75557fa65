package txcallback

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestBeginRetriesReuseTheTransaction: a begin retried with the same
// Idempotency-Key (the same seed, hence the same ids) after its replica
// died mid-send, after a failed send, or after it succeeded gets the same
// transaction and message; a record left sending with no retry is aborted
// by the resolver, not listed as pending.
func TestBeginRetriesReuseTheTransaction(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	e := newRaceEnv(t, s, Config{SendBudget: time.Second, ResolveAfter: time.Second}, nil)
	// Let the topic be routed before the assertions below.
	warm := e.begin(t, "warm-up")
	if warm.ID == "" {
		t.FailNow()
	}

	input := func(seed msgid.Seed, body string) BeginInput {
		return BeginInput{ID: IDFromSeed(seed), Tenant: "t", ProducerID: e.producer, MessageID: seed.ID(0), Topic: e.topic, Body: []byte(body)}
	}
	// died leaves a record as a replica that stopped right after writing
	// it does: sending, no half message.
	died := func(in BeginInput) {
		t.Helper()
		now := time.Now()
		tx := Transaction{ID: in.ID, Tenant: in.Tenant, ProducerID: in.ProducerID, Topic: in.Topic, MessageID: in.MessageID, CreatedAt: now, State: Sending}
		if out, _, err := e.a.store.CreateTx(ctx, tx, time.Second, time.Second); err != nil || out != Created {
			t.Fatalf("create: %s %v", out, err)
		}
	}

	// 1. The replica died mid-begin; the client retries on another one.
	seed1 := msgid.New(time.Now())
	in1 := input(seed1, "retried after a crash")
	died(in1)
	if _, err := e.b.Begin(ctx, in1); !errors.Is(err, ErrBeginInProgress) {
		t.Fatalf("retry while the first attempt may still be sending: %v, want ErrBeginInProgress", err)
	}
	var tx1 Transaction
	testenv.Eventually(t, 10*time.Second, func() error {
		var err error
		tx1, err = e.b.Begin(ctx, in1)
		return err
	})
	if tx1.ID != in1.ID || tx1.MessageID != seed1.ID(0) || tx1.State != Pending {
		t.Fatalf("retry after the send budget = %+v", tx1)
	}

	// 2. The first attempt failed (aborted); the retry sends again.
	seed2 := msgid.New(time.Now())
	in2 := input(seed2, "retried after a failure")
	died(in2)
	if moved, err := e.a.store.Abort(ctx, in2.ID); err != nil || !moved {
		t.Fatalf("abort: %v %v", moved, err)
	}
	tx2, err := e.a.Begin(ctx, in2)
	if err != nil || tx2.ID != in2.ID || tx2.MessageID != seed2.ID(0) || tx2.State != Pending {
		t.Fatalf("retry after a failed send = %+v, %v", tx2, err)
	}

	// 3. The first attempt succeeded (its answer was lost): same
	// transaction, no second half message.
	again, err := e.b.Begin(ctx, in2)
	if err != nil || again.ID != tx2.ID || again.Half != tx2.Half || again.State != Pending {
		t.Fatalf("retry after success = %+v, %v; want %+v", again, err, tx2)
	}

	// 4. Nobody retries: the resolver aborts the stuck record.
	seed3 := msgid.New(time.Now())
	in3 := input(seed3, "abandoned")
	died(in3)
	testenv.Eventually(t, 15*time.Second, func() error {
		e.a.resolveDue(ctx)
		got, err := e.a.Get(ctx, "t", in3.ID)
		if err != nil || got.State != Aborted {
			return errors.New("still " + string(got.State))
		}
		return nil
	})
	pending, _, err := e.a.List(ctx, "t", "", Pending, "", 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.ID == in3.ID {
			t.Fatal("an abandoned begin is listed as pending")
		}
	}

	// Every transaction exists once; committed, each message is consumed once.
	all, _, err := e.a.List(ctx, "t", "", "", "", 500)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tx := range all {
		seen[tx.ID]++
	}
	for _, id := range []string{in1.ID, in2.ID, in3.ID} {
		if seen[id] != 1 {
			t.Errorf("transaction %s listed %d times", id, seen[id])
		}
	}
	for _, tx := range []Transaction{warm, tx1, tx2} {
		if _, err := e.a.Decide(ctx, "t", tx.ID, broker.Commit, allowAll); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(t, []string{warm.MessageID, tx1.MessageID, tx2.MessageID}, []string{seed3.ID(0)})
}

// TestBeginWithoutKeyWritesOneRecordAfterTheSend: a begin without
// Idempotency-Key is pending with its half message's coordinates once it
// returns, and commits like any other; one on a topic that does not exist
// (nothing stored) leaves no record behind.
func TestBeginWithoutKeyWritesOneRecordAfterTheSend(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	e := newRaceEnv(t, s, Config{}, nil)
	rdb := s.RedisDB(t, 2)

	mid := msgid.New(time.Now()).ID(0)
	var tx Transaction
	testenv.Eventually(t, 30*time.Second, func() error { // a new topic may not be routed yet
		var err error
		tx, err = e.a.Begin(ctx, BeginInput{Tenant: "t", ProducerID: e.producer, MessageID: mid, Topic: e.topic, Body: []byte("fresh")})
		return err
	})
	got, err := e.b.Get(ctx, "t", tx.ID)
	if err != nil || got.State != Pending || got.Half.CommitLogOffset == 0 && got.Half.QueueOffset == 0 || got.Half.MessageID != mid {
		t.Fatalf("record after begin = %s %+v (%v); want pending with the half's coordinates", got.State, got.Half, err)
	}
	if _, err := e.b.Decide(ctx, "t", tx.ID, broker.Commit, allowAll); err != nil {
		t.Fatal(err)
	}

	before := rdb.ZCard(ctx, txIndexKey("t")).Val()
	_, err = e.a.Begin(ctx, BeginInput{Tenant: "t", ProducerID: e.producer, MessageID: msgid.New(time.Now()).ID(0),
		Topic: "no-such-topic-" + strings.ToLower(msgid.New(time.Now()).String()[:12]), Body: []byte("x")})
	if !errors.Is(err, broker.ErrTopicNotFound) {
		t.Fatalf("begin on a missing topic: %v, want ErrTopicNotFound", err)
	}
	if after := rdb.ZCard(ctx, txIndexKey("t")).Val(); after != before {
		t.Fatalf("a begin that stored nothing left %d index entries", after-before)
	}
	e.settle(t, []string{mid}, nil)
}
