package pull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// Popper pops messages from a topic's masters (pop.Client). Brokers lists
// the masters serving a topic; EnsureGroup creates the consumer group on
// them; Pop long-polls one broker (an empty result is no message).
type Popper interface {
	Brokers(ctx context.Context, topic string) ([]pop.Broker, error)
	EnsureGroup(ctx context.Context, group string, brokers []pop.Broker) error
	Pop(ctx context.Context, b pop.Broker, r pop.Request) (pop.Result, error)
}

// Settler settles popped messages on the broker named in their handle
// (pop.Client): Ack ends a message, ChangeInvisibleTime hides it for d
// from now and returns its new handle (the old one is dead).
type Settler interface {
	Ack(ctx context.Context, group, topic string, h pop.Handle) error
	ChangeInvisibleTime(ctx context.Context, group, topic string, h pop.Handle, d time.Duration) (pop.Handle, error)
}

// Deduper is the dedup store (dedup.Store): ClaimFor marks an id in flight
// under a lease, Delivered marks it delivered for the window, Forget drops
// an undelivered record. Errors mean "unknown".
type Deduper interface {
	ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (dedup.Claim, error)
	Delivered(ctx context.Context, c dedup.Claim) error
	Forget(ctx context.Context, subscription, id string) error
}

// Errors of Receive besides the dependencies' own.
var (
	// ErrTooManyReceives: the replica holds Config.MaxReceives receives.
	ErrTooManyReceives = errors.New("pull: too many receives in flight")
	// ErrNotPull: the subscription is not in pull mode.
	ErrNotPull = errors.New("pull: not a pull subscription")
	// ErrUnavailable: Redis or the brokers did not answer and nothing was
	// received; retry later.
	ErrUnavailable = errors.New("pull: dependency unavailable")
)

// Config configures a Consumer.
type Config struct {
	// MaxReceives bounds the receives in flight on this replica (each
	// holds at most one broker long poll). Default 64.
	MaxReceives int
	// RouteTTL is how long a topic's list of masters is reused. Default 10 s.
	RouteTTL time.Duration
	// SettleTimeout bounds the broker and Redis calls made for messages
	// already popped, which run even when the receive's caller went away.
	// Default 5 s.
	SettleTimeout time.Duration
	Log           *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	if c.MaxReceives < 0 || c.RouteTTL < 0 || c.SettleTimeout < 0 {
		return errors.New("pull: negative setting")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MaxReceives == 0 {
		c.MaxReceives = 64
	}
	if c.RouteTTL == 0 {
		c.RouteTTL = 10 * time.Second
	}
	if c.SettleTimeout == 0 {
		c.SettleTimeout = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Consumer receives and settles the messages of pull subscriptions. It is
// safe for concurrent use and keeps no per-message state: receipts carry
// everything a settle needs.
type Consumer struct {
	cfg      Config
	pop      Popper
	settle   Settler
	dd       Deduper
	dead     *DeadLetters
	replaced *RedisReplaced
	slots    chan struct{}
	next     atomic.Uint32 // round robin over a topic's brokers

	mu     sync.Mutex
	routes map[string]route
}

type route struct {
	brokers []pop.Broker
	at      time.Time
}

// New returns a Consumer; dead writes dead letters, replaced remembers
// the handles nacks and extends replaced.
func New(cfg Config, p Popper, s Settler, dd Deduper, dead *DeadLetters, replaced *RedisReplaced) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Consumer{cfg: cfg, pop: p, settle: s, dd: dd, dead: dead, replaced: replaced,
		slots: make(chan struct{}, cfg.MaxReceives), routes: map[string]route{}}, nil
}

// ReceiveRequest says how much to receive and how long to wait.
type ReceiveRequest struct {
	Max       int           // 1 to 32
	Wait      time.Duration // longest wait for a first message; 0 answers at once
	Invisible time.Duration // how long received messages stay hidden (at least 1 s)
}

// maxRefills bounds the extra pops of one receive whose popped messages
// were all kept back.
const maxRefills = 16

// Received is one message handed out.
type Received struct {
	Msg            *primitive.MessageExt
	MessageID      string
	DedupID        string // empty with dedup source none
	Attempt        int
	Receipt        string
	InvisibleUntil time.Time
}

// Receive hands out up to r.Max messages of s, waiting up to r.Wait for a
// first one. Messages popped are never dropped: a broker error after some
// were admitted returns them without an error.
func (c *Consumer) Receive(ctx context.Context, s subscription.Subscription, r ReceiveRequest) ([]Received, error) {
	if !s.Pull() {
		return nil, ErrNotPull
	}
	if r.Max < 1 || r.Max > 32 || r.Wait < 0 || r.Invisible < time.Second {
		return nil, fmt.Errorf("pull: bad receive request %+v", r)
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	default:
		return nil, ErrTooManyReceives
	}
	brokers, err := c.brokers(ctx, s.Topic)
	if err != nil {
		return nil, err
	}
	if len(brokers) == 0 {
		return nil, fmt.Errorf("%w: no master serves %s", ErrUnavailable, s.Topic)
	}
	deadline := time.Now().Add(r.Wait)
	n := len(brokers)
	start := int(c.next.Add(1))
	var (
		out      []Received
		admitErr error
		ensured  bool
		again    bool
		refills  int
	)
	// With several brokers a first sweep pops each without waiting; then,
	// as with one broker, one long poll at a time.
	swept := n == 1
	for i := 0; ; i++ {
		if i >= n {
			swept = true
		}
		remaining := max(time.Until(deadline), 0)
		if swept && (len(out) > 0 || (remaining == 0 && !again)) {
			break
		}
		again = false
		var poll time.Duration
		if swept {
			poll = remaining
			if n > 1 {
				poll = min(remaining, max(remaining/time.Duration(n), time.Second))
			}
		}
		b := brokers[(start+i)%n]
		res, err := c.pop.Pop(ctx, b, pop.Request{Group: s.Group(), Topic: s.Topic, MaxMessages: r.Max - len(out),
			InvisibleTime: r.Invisible, PollTime: poll, Filter: s.TagFilter, Orderly: s.Ordered})
		if errors.Is(err, pop.ErrGroupNotFound) && !ensured {
			// Brokers without autoCreateSubscriptionGroup: create it once.
			ensured = true
			if err = c.pop.EnsureGroup(ctx, s.Group(), brokers); err == nil {
				i--
				continue
			}
		}
		if err != nil {
			if len(out) > 0 {
				c.cfg.Log.Warn("pull: pop", slog.String("subscription", s.ID), slog.Any("error", err))
				break
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		got, err := c.admit(ctx, s, r.Invisible, res.Messages)
		out = append(out, got...)
		if err != nil {
			admitErr = err
		}
		if len(res.Messages) > 0 && len(got) == 0 && err == nil && refills < maxRefills {
			// Everything popped was kept back (duplicates, dead letters,
			// history): the broker has more, pop it again at once.
			refills++
			again = true
			i--
		}
		if len(out) >= r.Max {
			break
		}
	}
	if len(out) == 0 && admitErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, admitErr)
	}
	return out, nil
}

// brokers returns the masters serving topic, reused for RouteTTL.
func (c *Consumer) brokers(ctx context.Context, topic string) ([]pop.Broker, error) {
	c.mu.Lock()
	rt, ok := c.routes[topic]
	c.mu.Unlock()
	if ok && time.Since(rt.at) < c.cfg.RouteTTL {
		return rt.brokers, nil
	}
	bs, err := c.pop.Brokers(ctx, topic)
	if err != nil {
		if errors.Is(err, pop.ErrTopicNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	c.mu.Lock()
	c.routes[topic] = route{brokers: bs, at: time.Now()}
	c.mu.Unlock()
	return bs, nil
}

// admit decides for each popped message whether it is handed out (see
// the package doc). The calls it makes for messages it keeps back run to
// the end even when ctx ends: the messages are already popped.
func (c *Consumer) admit(ctx context.Context, s subscription.Subscription, invisible time.Duration, msgs []pop.Message) ([]Received, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.SettleTimeout)
	defer cancel()
	var (
		out      []Received
		storeErr error
	)
	// A new group pops from each queue's first message (POP's other
	// choice, the last offset, would skip what was sent between the
	// subscription's 201 and its first receive); what was stored before
	// the subscription existed (a second early for clock skew, as push
	// delivery starts) is acked unseen.
	since := s.CreatedAt.Add(-time.Second).UnixMilli()
	for _, m := range msgs {
		if m.ReconsumeTimes == 0 && m.StoreTimestamp > 0 && m.StoreTimestamp < since {
			if err := c.settle.Ack(sctx, s.Group(), s.Topic, m.Handle); err != nil {
				c.cfg.Log.Warn("pull: ack a message older than the subscription", slog.String("subscription", s.ID), slog.Any("error", err))
			}
			continue
		}
		id := ""
		if s.DedupSource != subscription.DedupNone {
			id = push.DedupID(s, m.MessageExt)
		}
		msgID := push.MessageID(m.MessageExt)
		attempt := int(m.ReconsumeTimes) + 1
		log := c.cfg.Log.With(slog.String("subscription", s.ID), slog.String("messageId", msgID))
		if id != "" {
			cl, err := c.dd.ClaimFor(sctx, s.ID, id, invisible)
			if err != nil {
				// Fail closed: never hand out unchecked; back in a second.
				storeErr = err
				log.Warn("pull: dedup store unreachable; message hidden for a second", slog.Any("error", err))
				c.hide(sctx, s, m.Handle, time.Second, log)
				continue
			}
			switch cl.Status {
			case dedup.Delivered:
				log.Debug("pull: duplicate of an acked message dropped")
				if err := c.settle.Ack(sctx, s.Group(), s.Topic, m.Handle); err != nil {
					log.Warn("pull: ack a duplicate", slog.Any("error", err))
				}
				continue
			case dedup.Busy:
				// A copy with the same dedup id is out under another receipt.
				c.hide(sctx, s, m.Handle, max(cl.RetryAfter, time.Second), log)
				continue
			}
		}
		if attempt > s.MaxAttempts {
			if err := c.dead.Write(sctx, s, m.MessageExt, attempt-1); err != nil {
				log.Warn("pull: dead-letter copy; message hidden for a second", slog.Any("error", err))
				c.forget(sctx, s, id, log)
				c.hide(sctx, s, m.Handle, time.Second, log)
				continue
			}
			if err := c.settle.Ack(sctx, s.Group(), s.Topic, m.Handle); err != nil {
				// It comes back and is dead-lettered again: a duplicate
				// dead letter, never a lost one.
				log.Warn("pull: ack a dead-lettered message", slog.Any("error", err))
			}
			c.forget(sctx, s, id, log)
			log.Info("pull: dead-lettered", slog.Int("attempts", attempt-1))
			continue
		}
		out = append(out, Received{Msg: m.MessageExt, MessageID: msgID, DedupID: id, Attempt: attempt,
			Receipt:        Receipt{Subscription: s.ID, DedupID: id, MessageID: msgID, Handle: m.Handle}.String(),
			InvisibleUntil: m.Handle.VisibleAt()})
	}
	return out, storeErr
}

// hide makes a message visible again after d; a failure leaves it hidden
// until its invisibility ends, which also brings it back.
func (c *Consumer) hide(ctx context.Context, s subscription.Subscription, h pop.Handle, d time.Duration, log *slog.Logger) {
	if _, err := c.settle.ChangeInvisibleTime(ctx, s.Group(), s.Topic, h, d); err != nil {
		log.Warn("pull: change invisible time", slog.Any("error", err))
	}
}

func (c *Consumer) forget(ctx context.Context, s subscription.Subscription, id string, log *slog.Logger) {
	if id == "" {
		return
	}
	if err := c.dd.Forget(ctx, s.ID, id); err != nil && !errors.Is(err, dedup.ErrAlreadyDelivered) {
		log.Warn("pull: drop dedup claim", slog.Any("error", err))
	}
}
