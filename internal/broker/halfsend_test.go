package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func newHalfProducer(t *testing.T, s testenv.Stack, sendTimeout time.Duration) *broker.TxProducer {
	t.Helper()
	group := "test-half-" + msgid.New(time.Now()).String()[:12]
	return startTxProducer(t, broker.TxConfig{
		NameServers: []string{s.NameServer}, Group: group, InstanceName: group,
		SendTimeout: sendTimeout, Retries: 1,
	}, func(context.Context, broker.CheckRequest) {}) // unknown: the broker asks again
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestHalfSendFollowsAFailover: a producer whose route still names a dead
// master (right after a failover) refreshes the route on the failed send
// and stores the half message on the current master at once, instead of
// failing until its periodic route refresh.
func TestHalfSendFollowsAFailover(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "halfover", 1)
	recv := s.Consume(t, topic)
	p := newHalfProducer(t, s, 3*time.Second)
	ctx := context.Background()
	warm := msgid.New(time.Now()).ID(0)
	testenv.Eventually(t, 30*time.Second, func() error { // the topic routed
		h, err := p.SendHalf(ctx, broker.Message{ID: warm, Topic: topic, Body: []byte("warm")})
		if err == nil {
			err = p.End(ctx, h, broker.Rollback)
		}
		return err
	})

	p.PinHalfRoute(topic, "broker-a", deadAddr(t))
	id := msgid.New(time.Now()).ID(0)
	h, err := p.SendHalf(ctx, broker.Message{ID: id, Topic: topic, Body: []byte("after the failover")})
	if err != nil {
		t.Fatalf("the first half message after a failover: %v", err)
	}
	if err := p.End(ctx, h, broker.Commit); err != nil {
		t.Fatal(err)
	}
	recv.WaitForID(t, id, 30*time.Second)
}

// answerSwallower forwards requests to the broker and drops its answers,
// counting the request frames.
type answerSwallower struct {
	ln     net.Listener
	frames atomic.Int64
}

func swallowAnswers(t *testing.T, to string) *answerSwallower {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sw := &answerSwallower{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); b.Close() })
			go func() { _, _ = io.Copy(io.Discard, b) }()
			go func() {
				var lens [4]byte
				for {
					if _, err := io.ReadFull(c, lens[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(lens[:])
					if _, err := b.Write(lens[:]); err != nil {
						return
					}
					if _, err := io.CopyN(b, c, int64(n)); err != nil {
						return
					}
					sw.frames.Add(1)
				}
			}()
		}
	}()
	return sw
}

// TestUnansweredHalfSendIsNotRetried: a half message whose request reached
// the broker (and was stored) but got no answer is reported unconfirmed
// after exactly one request: no hidden retry stores a second copy, and the
// verdict rests on the one attempt made.
func TestUnansweredHalfSendIsNotRetried(t *testing.T) {
	s := testenv.Shared(t)
	topic := s.Topic(t, "halfnoanswer", 1)
	p := newHalfProducer(t, s, time.Second)
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, func() error {
		h, err := p.SendHalf(ctx, broker.Message{ID: msgid.New(time.Now()).ID(0), Topic: topic, Body: []byte("warm")})
		if err == nil {
			err = p.End(ctx, h, broker.Rollback)
		}
		return err
	})
	sw := swallowAnswers(t, s.BrokerAddr)
	p.PinHalfRoute(topic, "broker-a", sw.ln.Addr().String())
	_, err := p.SendHalf(ctx, broker.Message{ID: msgid.New(time.Now()).ID(0), Topic: topic, Body: []byte("no answer")})
	if !errors.Is(err, broker.ErrUnconfirmed) {
		t.Fatalf("SendHalf = %v, want ErrUnconfirmed", err)
	}
	if n := sw.frames.Load(); n != 1 {
		t.Fatalf("%d requests reached the broker, want 1", n)
	}
}
