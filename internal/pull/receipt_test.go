package pull_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/pull"
)

func TestReceiptRoundTrip(t *testing.T) {
	h := pop.Handle{CheckpointOffset: 7, PopTime: time.UnixMilli(1700000000123), InvisibleTime: 30 * time.Second,
		ReviveQueue: 3, Kind: pop.TopicRetryV1, BrokerName: "broker-a", QueueID: 2, Offset: 9}
	tests := map[string]pull.Receipt{
		"message id":           {Subscription: "sub_1", DedupID: "0A0B", MessageID: "0A0B", Handle: h},
		"no dedup":             {Subscription: "sub_1", MessageID: "0A0B", Handle: h},
		"key with odd bytes":   {Subscription: "sub_1", DedupID: "key:a \"b\"\n\u00e9", MessageID: "X", Handle: h},
		"property, long value": {Subscription: "sub_1", DedupID: "prop:" + strings.Repeat("v", 4096), MessageID: "X", Handle: h},
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			s := r.String()
			if !strings.HasPrefix(s, "r1.") || strings.ContainsAny(s, "+/= ") {
				t.Fatalf("token %q is not URL-safe", s)
			}
			got, err := pull.ParseReceipt(s)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subscription != r.Subscription || got.DedupID != r.DedupID || got.MessageID != r.MessageID ||
				got.Handle.String() != h.String() || !got.Handle.VisibleAt().Equal(h.VisibleAt()) {
				t.Errorf("round trip = %+v, want %+v", got, r)
			}
		})
	}
}

func TestParseReceiptRefusesGarbage(t *testing.T) {
	enc := func(s string) string { return "r1." + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := map[string]string{
		"empty":            "",
		"no prefix":        "abc",
		"other version":    "r2." + enc("[]")[3:],
		"not base64":       "r1.!!!",
		"padded base64":    "r1." + base64.URLEncoding.EncodeToString([]byte(`["s","d","m","0 1 1000 0 0 b 0 1"]`)),
		"not json":         enc("{"),
		"object":           enc(`{"a":1}`),
		"three fields":     enc(`["s","d","m"]`),
		"no subscription":  enc(`["","d","m","0 1 1000 0 0 b 0 1"]`),
		"no message id":    enc(`["s","d","","0 1 1000 0 0 b 0 1"]`),
		"short handle":     enc(`["s","d","m","0 1 2"]`),
		"handle letters":   enc(`["s","d","m","a b c d e f g h"]`),
		"bad kind":         enc(`["s","d","m","0 1 1000 0 7 b 0 1"]`),
		"no invisibility":  enc(`["s","d","m","0 1 0 0 0 b 0 1"]`),
		"negative offset":  enc(`["s","d","m","0 1 1000 0 0 b 0 -1"]`),
		"negative queue":   enc(`["s","d","m","0 1 1000 0 0 b -1 1"]`),
		"no broker name":   enc(`["s","d","m","0 1 1000 0 0  0 1"]`),
		"numbers, not str": enc(`[1,2,3,4]`),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := pull.ParseReceipt(s); !errors.Is(err, pull.ErrInvalidReceipt) {
				t.Errorf("ParseReceipt(%q) = %v, want ErrInvalidReceipt", s, err)
			}
		})
	}
}
