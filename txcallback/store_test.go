package txcallback

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func newTestID(prefix string) string {
	return "tx_" + prefix + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36))
}

// TestStoreWritesNeverLeaveARecordWithoutTTL: every write to a transaction
// record keeps its TTL, and none recreates a record that expired (it would
// then never expire).
func TestStoreWritesNeverLeaveARecordWithoutTTL(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	rdb := s.RedisDB(t, 2)
	st := NewStore(rdb, time.Hour)

	writes := []struct {
		name  string
		state State // the record's state before the write
		write func(id string) error
	}{
		{"mark ended", Committed, func(id string) error { return st.MarkEnded(ctx, id) }},
		{"end refused", Committed, func(id string) error { return st.EndRefused(ctx, id, "tok") }},
		{"record a check-back", Pending, func(id string) error { return st.RecordCheck(ctx, id, 3, "") }},
		{"record a check outcome", Pending, func(id string) error { return st.RecordCheck(ctx, id, 0, "unknown") }},
		{"set half", Sending, func(id string) error { return ignore(ErrConflict, st.SetHalf(ctx, id, broker.Half{MessageID: "m"})) }},
		{"abort", Sending, func(id string) error { _, err := st.Abort(ctx, id); return err }},
		{"expire", Pending, func(id string) error { _, err := st.ExpireMaxChecks(ctx, id); return err }},
		{"decide", Pending, func(id string) error {
			_, _, _, err := st.Decide(ctx, id, broker.Commit, "api", "tok", time.Second, nil)
			return err
		}},
		{"claim end", Committed, func(id string) error { _, _, err := st.ClaimEnd(ctx, id, "tok", 0); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			id := newTestID("TTL")
			tx := Transaction{ID: id, Tenant: "t", ProducerID: "prd_x", Topic: "orders", MessageID: "m", CreatedAt: time.Now().UTC()}
			if _, _, err := st.CreateTx(ctx, tx, time.Minute, time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := rdb.HSet(ctx, txKey(id), "state", string(w.state)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := ignore(ErrNotFound, w.write(id)); err != nil {
				t.Fatalf("write on a live record: %v", err)
			}
			if ttl := rdb.PTTL(ctx, txKey(id)).Val(); ttl <= 0 {
				t.Fatalf("after the write the record's TTL is %s", ttl)
			}
			// The record expires (DEL stands for the expiry); the write
			// comes late.
			if err := rdb.Del(ctx, txKey(id)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := ignore(ErrNotFound, w.write(id)); err != nil {
				t.Fatalf("write on an expired record: %v", err)
			}
			if n := rdb.Exists(ctx, txKey(id)).Val(); n != 0 {
				t.Fatalf("the write recreated an expired record (TTL %s)", rdb.PTTL(ctx, txKey(id)).Val())
			}
		})
	}
}

func ignore(target, err error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}

// TestResolverMeasuresAgesOnRedisClock: the resolver measures a
// transaction's age on Redis's clock, so a replica whose clock is an hour
// behind (its createdAt an hour early) does not make a fresh transaction
// look past its check window, and a resolver whose clock is ahead does not
// find transactions due early.
func TestResolverMeasuresAgesOnRedisClock(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	st := NewStore(s.RedisDB(t, 2), time.Hour)
	svc := New(st, nil, nil, Config{CheckWindow: 10 * time.Minute}, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))

	id := newTestID("SKEW")
	skewed := time.Now().Add(-time.Hour).UTC() // the beginning replica's clock
	tx := Transaction{ID: id, Tenant: "t", ProducerID: "prd_x", Topic: "orders", MessageID: "m", CreatedAt: skewed}
	if _, _, err := st.CreateTx(ctx, tx, time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.SetHalf(ctx, id, broker.Half{MessageID: "m"}); err != nil {
		t.Fatal(err)
	}
	now, ids, err := st.Due(ctx, 1000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range ids {
		found = found || d == id
	}
	if !found {
		t.Fatalf("a transaction scheduled for now is not due at Redis's %s", now)
	}
	svc.resolveOne(ctx, id, now)
	got, err := st.GetTx(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Pending {
		t.Fatalf("a transaction begun just now (on a replica an hour behind) became %s", got.State)
	}
	// Taken by the pass above, it is not due again before the next look.
	_, ids, err = st.Due(ctx, 1000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ids {
		if d == id {
			t.Fatal("a transaction is due again right after a pass rescheduled it")
		}
	}
	_ = st.Settled(ctx, id)
}

// TestCreateSentWritesTheWholeBeginInOneStep: the record of a begin whose
// half message was sent first is written pending with its coordinates, with
// a TTL, indexed and scheduled for the resolver; a failed send's record is
// aborted and not scheduled; an existing record is never overwritten.
func TestCreateSentWritesTheWholeBeginInOneStep(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis (run without -short)")
	}
	ctx := context.Background()
	rdb := testenv.Shared(t).RedisDB(t, 2)
	st := NewStore(rdb, time.Hour)
	half := broker.Half{MessageID: "m", Topic: "orders", BrokerName: "broker-a", QueueOffset: 7, CommitLogOffset: 42}

	tests := []struct {
		name      string
		half      *broker.Half
		state     State
		scheduled bool
	}{
		{"sent", &half, Pending, true},
		{"send failed", nil, Aborted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := newTestID("SENT")
			tx := Transaction{ID: id, Tenant: "t-sent", ProducerID: "prd_x", Topic: "orders", MessageID: "m", CreatedAt: time.Now().UTC()}
			if err := st.CreateSent(ctx, tx, tc.half, time.Hour); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Settled(ctx, id) })
			got, err := st.GetTx(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.state || got.BornAt.IsZero() || tc.half != nil && got.Half != half {
				t.Fatalf("record = %s born %s half %+v; want %s with the half", got.State, got.BornAt, got.Half, tc.state)
			}
			if ttl := rdb.PTTL(ctx, txKey(id)).Val(); ttl <= 0 {
				t.Fatalf("record TTL %s", ttl)
			}
			if err := rdb.ZScore(ctx, txIndexKey(tx.Tenant), id).Err(); err != nil {
				t.Fatalf("not indexed: %v", err)
			}
			if err := rdb.ZScore(ctx, pendingKey, id).Err(); (err == nil) != tc.scheduled {
				t.Fatalf("scheduled for the resolver: %v, want %v", err == nil, tc.scheduled)
			}
			if err := st.CreateSent(ctx, tx, &broker.Half{MessageID: "other"}, time.Hour); !errors.Is(err, ErrConflict) {
				t.Fatalf("second create: %v, want ErrConflict", err)
			}
			if again, _ := st.GetTx(ctx, id); again.State != tc.state || again.Half != got.Half {
				t.Fatalf("the second create changed the record: %s %+v", again.State, again.Half)
			}
		})
	}
}
