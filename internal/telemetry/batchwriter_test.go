package telemetry_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zeroloss/zeroloss/internal/telemetry"
)

// slowWriter records the writes it gets; each write waits for a token.
type slowWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{}
}

func (s *slowWriter) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func TestBatchWriterKeepsEveryLineInOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
	}{{"roomy", 1 << 20}, {"tight buffer blocks writers", 64}} {
		t.Run(tc.name, func(t *testing.T) {
			sw := &slowWriter{}
			b := telemetry.NewBatchWriter(sw, tc.max)
			var want strings.Builder
			for i := range 1000 {
				line := fmt.Sprintf("line %d\n", i)
				want.WriteString(line)
				if n, err := b.Write([]byte(line)); n != len(line) || err != nil {
					t.Fatalf("write: %d, %v", n, err)
				}
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if sw.buf.String() != want.String() {
				t.Fatalf("written %d bytes, want the %d written in order", sw.buf.Len(), want.Len())
			}
			if _, err := b.Write([]byte("after close\n")); err != nil || !strings.HasSuffix(sw.buf.String(), "after close\n") {
				t.Fatalf("write after close: %v", err)
			}
		})
	}
}

func TestBatchWriterCoalescesWhileAWriteIsInFlight(t *testing.T) {
	sw := &slowWriter{gate: make(chan struct{})}
	b := telemetry.NewBatchWriter(sw, 1<<20)
	_, _ = b.Write([]byte("first\n")) // the loop takes it and waits in w.Write
	for i := range 100 {
		_, _ = fmt.Fprintf(b, "queued %d\n", i) // never blocks on the stuck write
	}
	close(sw.gate)
	_ = b.Close()
	if sw.writes > 3 {
		t.Fatalf("%d writes for 101 lines written while one write was in flight", sw.writes)
	}
	if !strings.HasPrefix(sw.buf.String(), "first\nqueued 0\n") || !strings.HasSuffix(sw.buf.String(), "queued 99\n") {
		t.Fatalf("unexpected output %q", sw.buf.String()[:40])
	}
}
