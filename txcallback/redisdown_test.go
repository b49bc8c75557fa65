package txcallback

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

var errRedisDown = errors.New("dial tcp: connection refused (test: Redis is down)")

// redisOutage fails every command of its client while down is set, as an
// unreachable Redis does; the server itself stays up for the test's reads.
type redisOutage struct{ down *atomic.Bool }

func (o redisOutage) DialHook(next redis.DialHook) redis.DialHook { return next }

func (o redisOutage) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if o.down.Load() {
			cmd.SetErr(errRedisDown)
			return errRedisDown
		}
		return next(ctx, cmd)
	}
}

func (o redisOutage) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if o.down.Load() {
			for _, c := range cmds {
				c.SetErr(errRedisDown)
			}
			return errRedisDown
		}
		return next(ctx, cmds)
	}
}

// orderBroker is the real transactional producer, noting for each half
// message whether its transaction's record existed when it was sent.
type orderBroker struct {
	*broker.TxProducer
	rdb         redis.UniversalClient // bypasses the outage
	mu          sync.Mutex
	recordFirst []bool
}

func (b *orderBroker) SendHalf(ctx context.Context, m broker.Message) (broker.Half, error) {
	n, err := b.rdb.Exists(ctx, txKey(m.Properties[TxPropertyKey])).Result()
	if err != nil {
		return broker.Half{}, err
	}
	b.mu.Lock()
	b.recordFirst = append(b.recordFirst, n == 1)
	b.mu.Unlock()
	return b.TxProducer.SendHalf(ctx, m)
}

func (b *orderBroker) sends() []bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]bool(nil), b.recordFirst...)
}

// While Redis is down, a begin without Idempotency-Key fails once after
// sending (its record could not be written), and the next ones fail before
// sending: no half message piles up for the broker to check back. Once a
// record is written again, begins send first again. Nothing a client was
// answered 201 for is lost, and the half message of the failed begin is
// never delivered.
func TestBeginsWithoutKeyStopSendingWhileRedisIsDown(t *testing.T) {
	s := testenv.Shared(t)
	e := newRaceEnv(t, s, Config{}, nil)
	base := s.RedisDB(t, 2)
	opts := *base.(*redis.Client).Options()
	rdb := redis.NewClient(&opts)
	t.Cleanup(func() { _ = rdb.Close() })
	var down atomic.Bool
	rdb.AddHook(redisOutage{down: &down})

	group := "test-redisdown-" + msgid.New(time.Now()).String()[:16]
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var mq *orderBroker
	svc := startReplica(t, s, group, "c", rdb, Config{CheckMax: 5, AllowPrivateWebhooks: true}, log, func(p *broker.TxProducer) Broker {
		mq = &orderBroker{TxProducer: p, rdb: base}
		return mq
	})

	ctx := context.Background()
	begin := func() (Transaction, string, error) {
		mid := msgid.New(time.Now()).ID(0)
		// The producer is known (as a begin within producerTTL of the
		// last one finds it): the outage meets the begin itself.
		svc.producers.Store("t\x00"+e.producer, time.Now())
		tx, err := svc.Begin(ctx, BeginInput{Tenant: "t", ProducerID: e.producer, MessageID: mid, Topic: e.topic, Body: []byte("outage")})
		return tx, mid, err
	}
	var first Transaction
	testenv.Eventually(t, 30*time.Second, func() error { // a new topic may not be routed yet
		var err error
		first, _, err = begin()
		return err
	})
	if got := mq.sends(); got[len(got)-1] {
		t.Fatalf("a keyless begin with Redis up wrote its record before sending (%v)", got)
	}
	before := len(mq.sends())

	down.Store(true)
	_, lostMID, err := begin()
	if err == nil {
		t.Fatal("begin with Redis down succeeded")
	}
	if n := len(mq.sends()) - before; n != 1 {
		t.Fatalf("first begin in the outage sent %d half messages, want 1 (it sends first)", n)
	}
	for range 3 {
		if _, _, err := begin(); err == nil {
			t.Fatal("begin with Redis down succeeded")
		}
	}
	if n := len(mq.sends()) - before; n != 1 {
		t.Fatalf("begins in the outage sent %d half messages in all, want only the first one's", n)
	}

	down.Store(false)
	second, _, err := begin()
	if err != nil {
		t.Fatalf("begin after the outage: %v", err)
	}
	third, _, err := begin()
	if err != nil {
		t.Fatal(err)
	}
	got := mq.sends()[before:]
	if want := []bool{false, true, false}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("record written before the send, per half message from the outage on: %v, want %v", got, want)
	}
	for _, tx := range []Transaction{first, second, third} {
		if _, err := svc.Decide(ctx, "t", tx.ID, broker.Commit, allowAll); err != nil {
			t.Fatalf("commit %s: %v", tx.ID, err)
		}
	}
	e.settle(t, []string{first.MessageID, second.MessageID, third.MessageID}, []string{lostMID})
}
