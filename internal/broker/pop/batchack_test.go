package pop_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

func TestEncodeBatchAck(t *testing.T) {
	popped := time.UnixMilli(1_700_000_000_000)
	h := func(kind pop.TopicKind, queue int, ck, off int64) pop.Handle {
		return pop.Handle{CheckpointOffset: ck, PopTime: popped, InvisibleTime: 30 * time.Second, ReviveQueue: 3,
			Kind: kind, BrokerName: "broker-a", QueueID: queue, Offset: off}
	}
	type entry struct {
		C  string `json:"c"`
		T  string `json:"t"`
		R  string `json:"r"`
		SO int64  `json:"so"`
		Q  int    `json:"q"`
		RQ int    `json:"rq"`
		PT int64  `json:"pt"`
		IT int64  `json:"it"`
		B  []byte `json:"b"`
	}
	tests := []struct {
		name string
		acks []pop.AckRequest
		want []entry
	}{
		{
			name: "one check point: offsets as bits from its start",
			acks: []pop.AckRequest{{"g", "t", h(pop.TopicNormal, 2, 100, 100)}, {"g", "t", h(pop.TopicNormal, 2, 100, 103)},
				{"g", "t", h(pop.TopicNormal, 2, 100, 109)}},
			want: []entry{{"g", "t", "0", 100, 2, 3, popped.UnixMilli(), 30000, []byte{0b1001, 0b10}}},
		},
		{
			name: "queues, retry topic and groups are entries of their own",
			acks: []pop.AckRequest{{"g", "t", h(pop.TopicNormal, 0, 7, 7)}, {"g", "t", h(pop.TopicNormal, 1, 7, 8)},
				{"g", "t", h(pop.TopicRetryV1, 0, 7, 7)}, {"g2", "t", h(pop.TopicNormal, 0, 7, 7)}},
			want: []entry{
				{"g", "t", "0", 7, 0, 3, popped.UnixMilli(), 30000, []byte{1}},
				{"g", "t", "0", 7, 1, 3, popped.UnixMilli(), 30000, []byte{2}},
				{"g", "t", "1", 7, 0, 3, popped.UnixMilli(), 30000, []byte{1}},
				{"g2", "t", "0", 7, 0, 3, popped.UnixMilli(), 30000, []byte{1}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := pop.EncodeBatchAck("broker-a", tc.acks)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				BrokerName string  `json:"brokerName"`
				Acks       []entry `json:"acks"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.BrokerName != "broker-a" || len(got.Acks) != len(tc.want) {
				t.Fatalf("body %s", body)
			}
			for i, w := range tc.want {
				g := got.Acks[i]
				if g.C != w.C || g.T != w.T || g.R != w.R || g.SO != w.SO || g.Q != w.Q || g.RQ != w.RQ || g.PT != w.PT ||
					g.IT != w.IT || string(g.B) != string(w.B) {
					t.Errorf("entry %d: %+v, want %+v (body %s)", i, g, w, body)
				}
			}
		})
	}
}

func TestEncodeBatchAckRefuses(t *testing.T) {
	ok := pop.Handle{CheckpointOffset: 5, PopTime: time.Now(), InvisibleTime: time.Minute, ReviveQueue: 1, BrokerName: "b", Offset: 6}
	orderly := ok
	orderly.ReviveQueue = 999
	before := ok
	before.Offset = 4
	far := ok
	far.Offset = 5 + 1<<16
	other := ok
	other.BrokerName = "c"
	tests := map[string]pop.AckRequest{
		"orderly handle":          {"g", "t", orderly},
		"offset before its start": {"g", "t", before},
		"offset far from start":   {"g", "t", far},
		"another broker's handle": {"g", "t", other},
		"no group":                {"", "t", ok},
	}
	for name, a := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := pop.EncodeBatchAck("b", []pop.AckRequest{{"g", "t", ok}, a}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := pop.EncodeBatchAck("b", []pop.AckRequest{{"g", "t", orderly}}); !errors.Is(err, pop.ErrBadHandle) {
		t.Fatalf("orderly: %v, want ErrBadHandle", err)
	}
}

// TestAckBatch: the real broker takes a BATCH_ACK_MESSAGE built by
// AckBatch: the messages acked in one request (several queues, several
// per queue) never come back, the others do, from the retry topic, and a
// batch ack of those (retry-topic handles) ends them too.
func TestAckBatch(t *testing.T) {
	f := setup(t, 4)
	const n = 12
	sent := bodies("b", n)
	f.send(t, "", sent...)

	first := map[string]pop.Message{}
	popUntil(t, f.client, f.brokers, f.request(3*time.Second, time.Second), 60*time.Second, func(m pop.Message) {
		if _, dup := first[string(m.Body)]; !dup {
			first[string(m.Body)] = m
		}
	}, func() bool { return len(first) == n })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acked := map[string]bool{}
	var acks []pop.AckRequest
	queues := map[int]int{}
	for i, b := range sent {
		if i%3 == 2 {
			continue // left to come back
		}
		m := first[b]
		acks = append(acks, pop.AckRequest{Group: f.group, Topic: f.topic, Handle: m.Handle})
		acked[b] = true
		queues[m.Handle.QueueID]++
	}
	if len(queues) < 2 {
		t.Logf("acked messages are on %d queue(s) only", len(queues))
	}
	if err := f.client.AckBatch(ctx, f.brokers[0].Name, acks); err != nil {
		t.Fatal(err)
	}

	// Popped again with a short invisible time, so that the final check
	// also sees those whose batch ack did not work. One popped early may
	// come back again before the others: its latest handle is acked.
	back := map[string]pop.Message{}
	popUntil(t, f.client, f.brokers, f.request(5*time.Second, time.Second), 60*time.Second, func(m pop.Message) {
		b := string(m.Body)
		if acked[b] {
			t.Fatalf("batch-acked message %s came back", b)
		}
		back[b] = m
	}, func() bool { return len(back) == n-len(acked) })

	acks = acks[:0]
	for _, m := range back {
		if m.Handle.Kind != pop.TopicRetryV1 {
			t.Fatalf("%s came back with handle %s, want the retry topic's", m.Body, m.Handle)
		}
		acks = append(acks, pop.AckRequest{Group: f.group, Topic: f.topic, Handle: m.Handle})
	}
	if err := f.client.AckBatch(ctx, f.brokers[0].Name, acks); err != nil {
		t.Fatal(err)
	}
	// Nothing may come back: pop past the 5 s invisible time and the
	// broker's revive scan. (A negative check has to wait.)
	if res := popFor(t, f, pop.Request{Group: f.group, Topic: f.topic, InvisibleTime: 3 * time.Second}, 9*time.Second); len(res) != 0 {
		t.Fatalf("acked messages came back: %v", res)
	}
}
