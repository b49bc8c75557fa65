package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

// BenchmarkRoundTrip is the floor of any Redis round trip from this
// process: a PING, one at a time. BenchmarkKeyLifecycle's two round trips
// compare with twice this.
func BenchmarkRoundTrip(b *testing.B) {
	rdb := testenv.Shared(b).Redis(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rdb.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyLifecycle is what an Idempotency-Key costs a first attempt
// in the store, one request at a time: Begin (acquired), then Complete
// with a send's answer: two round trips.
func BenchmarkKeyLifecycle(b *testing.B) {
	s, err := idempotency.NewStore(testenv.Shared(b).Redis(b), idempotency.Config{TTL: time.Hour, Lease: time.Minute,
		Prefix: "zl:test:bench:" + time.Now().Format("150405.000000000") + ":"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	answer := idempotency.Response{Status: 201, ContentType: "application/json",
		Body: []byte(`{"messageId":"019ABCDEF0123456789ABCDEF0120000","topic":"orders","queueId":2,"queueOffset":41}`)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c, err := s.Begin(ctx, "bench", "k"+strconv.Itoa(i), "fp")
		if err != nil || c.Outcome != idempotency.Acquired {
			b.Fatalf("begin: %+v, %v", c, err)
		}
		if err := s.Complete(ctx, c, answer); err != nil {
			b.Fatal(err)
		}
	}
}
