package broker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/brokertext"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func startProducer(t *testing.T, s testenv.Stack, group string) *broker.Producer {
	t.Helper()
	p, err := broker.NewProducer(broker.Config{NameServers: []string{s.NameServer}, Group: group,
		SendTimeout: 3 * time.Second, Retries: 2, Coalesce: true, CoalesceMax: 64, MaxBytes: 4 << 20})
	return started(t, p, err)
}

// fortyKiB is 10 properties of 4 KiB: over the broker's 32,767 bytes.
func fortyKiB() map[string]string {
	props := map[string]string{}
	for i := range 10 {
		props[fmt.Sprintf("p%d", i)] = strings.Repeat("x", 4096)
	}
	return props
}

func TestSendRefusesUnencodableProperties(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "unencodable", 1)
	recv := s.Consume(t, topic)
	p := startProducer(t, s, "test-unencodable")
	ctx := context.Background()
	seed := msgid.New(time.Now())
	tests := []struct {
		name string
		m    broker.Message
		want error
	}{
		{"separator in tag", broker.Message{Tag: "x\x02TRAN_MSG\x01true"}, brokertext.ErrSeparator},
		{"separator in key", broker.Message{Keys: []string{"k\x02DELAY\x013"}}, brokertext.ErrSeparator},
		{"separator in sharding key", broker.Message{ShardingKey: "s\x02UNIQ_KEY\x01x"}, brokertext.ErrSeparator},
		{"separator in property name", broker.Message{Properties: map[string]string{"a\x01b": "v"}}, brokertext.ErrSeparator},
		{"separator in property value", broker.Message{Properties: map[string]string{"a": "v\x02TIMER_DELIVER_MS\x011"}}, brokertext.ErrSeparator},
		{"empty property name", broker.Message{Properties: map[string]string{"": "v"}}, brokertext.ErrSeparator},
		{"40 KiB of properties", broker.Message{Properties: fortyKiB()}, brokertext.ErrTooLarge},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.ID, tc.m.Topic, tc.m.Body = seed.ID(uint16(i)), topic, []byte("refused")
			if _, err := p.Send(ctx, tc.m); !errors.Is(err, tc.want) {
				t.Fatalf("send: %v, want %v", err, tc.want)
			}
			if tc.m.ShardingKey != "" {
				return // a batch refuses sharding keys before anything else
			}
			if _, err := p.SendBatch(ctx, topic, []broker.Message{tc.m}); !errors.Is(err, tc.want) {
				t.Fatalf("batch: %v, want %v", err, tc.want)
			}
		})
	}
	sentinel, err := p.Send(ctx, broker.Message{ID: seed.ID(1000), Topic: topic, Body: []byte("sentinel")})
	if err != nil {
		t.Fatal(err)
	}
	recv.WaitForID(t, sentinel.MessageID, 60*time.Second)
	if all := recv.All(); len(all) != 1 {
		t.Fatalf("topic holds %d messages, want only the sentinel", len(all))
	}
}

func TestCoalescedBatchWithARejectedMemberAnswersEachOnItsOwn(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "coalesce-reject", 1)
	recv := s.Consume(t, topic)
	p := startProducer(t, s, "test-coalesce-reject")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seed := msgid.New(time.Now())
	bad := broker.Message{ID: seed.ID(100), Topic: topic, Body: []byte("oversized")}

	// Alone, the real broker's refusal is ErrRejected, not ErrUnconfirmed.
	if _, err := p.SendUnchecked(ctx, bad, fortyKiB(), false); !errors.Is(err, broker.ErrRejected) || errors.Is(err, broker.ErrUnconfirmed) {
		t.Fatalf("oversized message alone: %v, want ErrRejected", err)
	}

	// Every send below queues behind a held request, then all leave as one
	// coalesced batch.
	held := p.HoldQueue(topic)
	const good = 8
	errs := make([]error, good+1)
	rcs := make([]broker.Receipt, good+1)
	var wg sync.WaitGroup
	for i := range good + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == good {
				rcs[i], errs[i] = p.SendUnchecked(ctx, bad, fortyKiB(), true)
				return
			}
			rcs[i], errs[i] = p.Send(ctx, broker.Message{ID: seed.ID(uint16(i)), Topic: topic, Body: []byte(fmt.Sprintf("good-%d", i))})
		}()
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := held.Queued(); n != good+1 {
			return fmt.Errorf("%d of %d sends queued", n, good+1)
		}
		return nil
	})
	if n := held.Release(); n != good+1 {
		t.Fatalf("the batch took %d of %d queued sends", n, good+1)
	}
	wg.Wait()

	if !errors.Is(errs[good], broker.ErrRejected) {
		t.Fatalf("oversized member: %v, want ErrRejected", errs[good])
	}
	for i := range good {
		if errs[i] != nil || rcs[i].MessageID != seed.ID(uint16(i)) {
			t.Fatalf("well-formed member %d: %+v, %v", i, rcs[i], errs[i])
		}
	}
	for i := range good {
		m := recv.WaitForID(t, seed.ID(uint16(i)), 60*time.Second)
		if string(m.Body) != fmt.Sprintf("good-%d", i) {
			t.Errorf("member %d received as %q", i, m.Body)
		}
	}
	if n := recv.Count(bad.ID); n != 0 {
		t.Fatalf("the rejected message was stored %d times", n)
	}
}
