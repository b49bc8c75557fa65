package pop_test

import (
	"errors"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

func TestParseHandle(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want pop.Handle
		out  string // String() of the parsed handle
	}{
		{
			name: "broker extraInfo",
			in:   "12 1764140000123 30000 3 0 broker-a 2 14",
			want: pop.Handle{CheckpointOffset: 12, PopTime: time.UnixMilli(1764140000123), InvisibleTime: 30 * time.Second,
				ReviveQueue: 3, Kind: pop.TopicNormal, BrokerName: "broker-a", QueueID: 2, Offset: 14},
			out: "12 1764140000123 30000 3 0 broker-a 2 14",
		},
		{
			name: "retry topic, proxy handle with commit log offset",
			in:   "0 1764140000123 2000 999 1 broker-b 0 7 123456",
			want: pop.Handle{CheckpointOffset: 0, PopTime: time.UnixMilli(1764140000123), InvisibleTime: 2 * time.Second,
				ReviveQueue: 999, Kind: pop.TopicRetryV1, BrokerName: "broker-b", QueueID: 0, Offset: 7},
			out: "0 1764140000123 2000 999 1 broker-b 0 7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := pop.ParseHandle(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !h.PopTime.Equal(tt.want.PopTime) {
				t.Fatalf("PopTime %v, want %v", h.PopTime, tt.want.PopTime)
			}
			h.PopTime = tt.want.PopTime
			if h != tt.want {
				t.Fatalf("got %+v, want %+v", h, tt.want)
			}
			if got := h.String(); got != tt.out {
				t.Fatalf("String() = %q, want %q", got, tt.out)
			}
		})
	}
}

func TestParseHandleRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"1 2 3 4 0 b 5",            // seven fields
		"x 2 3 4 0 b 5 6",          // not a number
		"1 2 3 4 3 b 5 6",          // unknown topic kind
		"1 2 3 4 0  5 6",           // empty broker name
		"1 2 3 4 0 b five 6",       // queue id
		"1 2 3 4 0 b 5 6.5",        // offset
		"1 2 3 4 0 b 5 6 7 8 nine", // extra fields are ignored, but field 7 is checked
	} {
		_, err := pop.ParseHandle(in)
		if in == "1 2 3 4 0 b 5 6 7 8 nine" {
			if err != nil {
				t.Errorf("ParseHandle(%q): %v", in, err)
			}
			continue
		}
		if !errors.Is(err, pop.ErrBadHandle) {
			t.Errorf("ParseHandle(%q) = %v, want ErrBadHandle", in, err)
		}
	}
}

func TestHandleOrderly(t *testing.T) {
	h, err := pop.ParseHandle("5 1000 2000 999 0 b 1 5")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Orderly() {
		t.Fatal("revive queue 999 is an orderly pop")
	}
	if got, want := h.VisibleAt(), time.UnixMilli(3000); !got.Equal(want) {
		t.Fatalf("VisibleAt %v, want %v", got, want)
	}
}
