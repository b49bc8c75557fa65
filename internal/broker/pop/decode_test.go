package pop_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

func TestParseOffsetInfo(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]int64
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "0 3 17", want: map[string]int64{"0@3": 17}},
		{in: "0 0 5;1 0 2", want: map[string]int64{"0@0": 5, "1@0": 2}},
		{in: "0 qo1%4 2;0 1 0", want: map[string]int64{"0@qo1%4": 2, "0@1": 0}},
		{in: "0 3", wantErr: true},
		{in: "0 3 x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := pop.ParseOffsetInfo(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSplitMessagesRejectsBadFraming(t *testing.T) {
	size := func(n uint32, rest int) []byte {
		b := make([]byte, 4+rest)
		binary.BigEndian.PutUint32(b, n)
		return b
	}
	for name, body := range map[string][]byte{
		"short length":       {0, 0},
		"size beyond body":   size(100, 10),
		"size below 4":       size(2, 10),
		"second one too big": append(size(8, 4), size(50, 0)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := pop.SplitMessages(body); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if ms, err := pop.SplitMessages(nil); err != nil || len(ms) != 0 {
		t.Fatalf("empty body: %v, %v", ms, err)
	}
}

func TestRemoteErrorIs(t *testing.T) {
	tests := []struct {
		code        int
		group, topc bool
	}{
		{26, true, false},
		{17, false, true},
		{1, false, false},
	}
	for _, tt := range tests {
		err := fmt.Errorf("pop: pop t from b: %w", &pop.RemoteError{Code: tt.code})
		if errors.Is(err, pop.ErrGroupNotFound) != tt.group || errors.Is(err, pop.ErrTopicNotFound) != tt.topc {
			t.Errorf("code %d: group %v topic %v", tt.code, errors.Is(err, pop.ErrGroupNotFound), errors.Is(err, pop.ErrTopicNotFound))
		}
	}
}
