package broker

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

func TestMissingNamesUnregisteredMasters(t *testing.T) {
	tests := []struct {
		name      string
		masters   map[string]string
		lookupErr error
		want      []string // substrings of the reason; nil: registered
	}{
		{"no name server answered", nil, errors.New("dial tcp: refused"), []string{"no master broker known"}},
		{"no master known", map[string]string{}, nil, []string{"no master broker known"}},
		{"two masters, none registered", map[string]string{"broker-a": "10.0.0.1:10911", "broker-b": "10.0.0.2:10911"}, nil,
			[]string{"broker-a (10.0.0.1:10911)", "broker-b (10.0.0.2:10911)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCheckLinks(&remoting{}, []string{"127.0.0.1:1"}, "g", "id", nil)
			c.masters, c.lookupErr = tc.masters, tc.lookupErr
			err := c.missing()
			var nr *NotRegisteredError
			if !errors.As(err, &nr) {
				t.Fatalf("missing() = %v, want a *NotRegisteredError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(nr.Reason(), w) {
					t.Errorf("reason %q lacks %q", nr.Reason(), w)
				}
			}
			if tc.lookupErr != nil && strings.Contains(nr.Reason(), "refused") {
				t.Error("internal error text in the reason")
			}
		})
	}
}

// TestExpiredRequestLeavesTheLinkOpen: a request out of time before it is
// written is not sent (errNotSent, so it may be retried) and does not close
// the connection other requests are waiting on.
func TestExpiredRequestLeavesTheLinkOpen(t *testing.T) {
	l, peer := linkToPeer(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.call(ctx, codeEndTransaction, nil, nil); !errors.Is(err, errNotSent) {
		t.Fatalf("call with an expired context: %v, want errNotSent", err)
	}
	if l.dead() {
		t.Fatal("the link was closed by a request that was never written")
	}
	// The link still carries a request: it reaches the peer.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = l.call(ctx, codeEndTransaction, map[string]string{"k": "v"}, nil)
	}()
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wire.ReadFrame(peer); err != nil {
		t.Fatalf("the next request did not arrive: %v", err)
	}
}

// TestConcurrentRequestsShareTheLink: requests of many goroutines at once
// (their frames grouped into shared writes) each arrive whole and get
// their own answer; once the link is closed a request is not sent.
func TestConcurrentRequestsShareTheLink(t *testing.T) {
	l, peer := linkToPeer(t)
	go func() {
		// The peer answers each request with its own ext field k, after
		// reading a few, so answers and writes interleave.
		for {
			req, err := wire.ReadFrame(peer)
			if err != nil {
				return
			}
			resp := wire.Command{Code: respSuccess, Flag: wire.FlagResponse, Opaque: req.Opaque,
				ExtFields: map[string]string{"k": req.ExtFields["k"], "body": string(req.Body)}}
			if err := wire.WriteFrame(peer, resp, nil); err != nil {
				return
			}
		}
	}()
	const n = 500
	errs := make(chan error, n)
	for i := range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			k := strings.Repeat("k", i%7) + string(rune('a'+i%26)) + "\x01" + time.Duration(i).String()
			body := strings.Repeat("b", i)
			resp, err := l.call(ctx, codeSendMessage, map[string]string{"k": k}, []byte(body))
			switch {
			case err != nil:
				errs <- err
			case resp.ExtFields["k"] != k || resp.ExtFields["body"] != body:
				errs <- errors.New("an answer to another request: " + resp.ExtFields["k"] + " for " + k)
			default:
				errs <- nil
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	l.close(errors.New("test: closed"))
	if _, err := l.call(context.Background(), codeSendMessage, nil, nil); !errors.Is(err, errNotSent) {
		t.Fatalf("call on a closed link: %v, want errNotSent", err)
	}
}

// TestWriterHandsOverItsRole: a caller that has written for others long
// enough hands the queue, untouched, to a goroutine that writes it.
func TestWriterHandsOverItsRole(t *testing.T) {
	l, peer := linkToPeer(t)
	got := make(chan int32, 3)
	go func() {
		for {
			req, err := wire.ReadFrame(peer)
			if err != nil {
				return
			}
			got <- req.Opaque
		}
	}()
	var frames []*outFrame
	l.wmu.Lock()
	l.writing = true
	for op := range int32(3) {
		f := &outFrame{ctx: context.Background(), frame: wire.AppendFrame(nil, wire.Request(codeHeartbeat, op, nil), nil), done: make(chan struct{})}
		frames = append(frames, f)
		l.queue = append(l.queue, f)
	}
	l.wmu.Unlock()
	l.flush(0) // no round left: hands over at once
	for i, f := range frames {
		<-f.done
		if f.err != nil {
			t.Fatalf("frame %d: %v", i, f.err)
		}
		if op := <-got; op != int32(i) {
			t.Fatalf("frame %d arrived as %d", i, op)
		}
	}
}

// linkToPeer dials a link to a listener of the test's own and returns it
// with the peer's end of the connection; both close when the test ends.
func linkToPeer(t *testing.T) (*link, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	l, err := dialLink(context.Background(), "broker-a", ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.close(errors.New("test done")) })
	peer, ok := <-accepted
	if !ok {
		t.Fatal("the listener accepted no connection")
	}
	t.Cleanup(func() { peer.Close() })
	return l, peer
}
