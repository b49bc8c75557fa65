package txcallback

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/durable"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestStoreWritesBehindAnswersWaitForReplicas runs the store with a writer
// that waits for one replica on the test Redis, a lone master: the half
// coordinates (also written with the record, CreateSent), the decision and
// a repeated decision are applied on the
// master but each reports durable.ErrNotReplicated, so the service never
// answers 201/200 nor sends END_TRANSACTION on them.
func TestStoreWritesBehindAnswersWaitForReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis (run without -short)")
	}
	ctx := context.Background()
	rdb := testenv.Shared(t).RedisDB(t, 2)
	w, err := durable.New(rdb, durable.Config{Replicas: 1, Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(rdb, time.Hour).WithWriter(w)
	tx := Transaction{ID: "tx_" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36)), Tenant: "t", ProducerID: "prd_x",
		Topic: "orders", MessageID: "01A2WAIT", CreatedAt: time.Now().UTC(), State: Sending}
	if out, _, err := st.CreateTx(ctx, tx, time.Minute, time.Minute); err != nil || out != Created {
		t.Fatalf("create: %s %v", out, err)
	}
	if err := st.SetHalf(ctx, tx.ID, broker.Half{MessageID: tx.MessageID, BrokerName: "broker-a"}); !errors.Is(err, durable.ErrNotReplicated) {
		t.Fatalf("set half: %v, want ErrNotReplicated", err)
	}
	if err := st.Confirm(ctx, tx.ID); !errors.Is(err, durable.ErrNotReplicated) {
		t.Fatalf("confirm: %v, want ErrNotReplicated", err)
	}
	for i := range 2 { // the decision, then the same decision again (a retry)
		if _, _, _, err := st.Decide(ctx, tx.ID, broker.Commit, "api", newToken(), time.Minute, nil); !errors.Is(err, durable.ErrNotReplicated) {
			t.Fatalf("decide %d: %v, want ErrNotReplicated", i, err)
		}
	}
	got, err := st.GetTx(ctx, tx.ID)
	if err != nil || got.State != Committed || got.Half.BrokerName != "broker-a" {
		t.Fatalf("on the master: %+v %v; want committed with its half", got, err)
	}

	// A begin without Idempotency-Key writes its record once, after the send.
	sent := tx
	sent.ID += "S"
	if err := st.CreateSent(ctx, sent, &broker.Half{MessageID: tx.MessageID, BrokerName: "broker-a"}, time.Minute); !errors.Is(err, durable.ErrNotReplicated) {
		t.Fatalf("create sent: %v, want ErrNotReplicated", err)
	}
	_ = st.Settled(ctx, sent.ID)

	plain := NewStore(rdb, time.Hour).WithWriter(nil)
	if err := plain.Confirm(ctx, tx.ID); err != nil {
		t.Fatalf("confirm without a waiting writer: %v", err)
	}
}
