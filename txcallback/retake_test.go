package txcallback

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestRetakenBeginStartsItsCheckWindowAnew: a begin retried after its first
// attempt was aborted (a broker outage longer than the check window) takes
// the record over with the retry's createdAt, so the resolver measures the
// check window from the half message the retry sends, not from the first
// attempt (which would expire the new half message at once).
func TestRetakenBeginStartsItsCheckWindowAnew(t *testing.T) {
	s := testenv.Shared(t)
	ctx := context.Background()
	st := NewStore(s.RedisDB(t, 2), time.Hour)
	first := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Millisecond)
	tx := Transaction{ID: "tx_" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36)), Tenant: "t", ProducerID: "prd_x", Topic: "orders",
		MessageID: "01A2RETAKE", CreatedAt: first, State: Sending}
	if out, _, err := st.CreateTx(ctx, tx, time.Second, 0); err != nil || out != "created" {
		t.Fatalf("create: %s %v", out, err)
	}
	if moved, err := st.Abort(ctx, tx.ID); err != nil || !moved {
		t.Fatalf("abort: %v %v", moved, err)
	}
	retry := tx
	retry.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	out, was, err := st.CreateTx(ctx, retry, time.Second, 0)
	if err != nil || out != "retaken" || was != Aborted {
		t.Fatalf("retry: %s (was %s) %v", out, was, err)
	}
	got, err := st.GetTx(ctx, tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(retry.CreatedAt) || got.State != Sending {
		t.Fatalf("retaken record: createdAt %s state %s; want %s sending", got.CreatedAt, got.State, retry.CreatedAt)
	}
}
