// Package subscription keeps push subscriptions in Redis and tells every
// gateway replica when one changes (Redis pub/sub, backed by a periodic full
// read, so a missed notification costs seconds, not correctness).
package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/brokertext"
)

// Dedup key sources.
const (
	DedupMessageID = "message_id"
	DedupKey       = "key"
	DedupProperty  = "property"
	DedupNone      = "none"
)

// Delivery modes: push delivers to the endpoint; pull waits for the client
// to receive. An empty or unknown mode is push.
const (
	ModePush = "push"
	ModePull = "pull"
)

// What an ordered subscription does after a message of a queue is
// dead-lettered.
const (
	// AfterDeadLetterContinue stores the dead-letter copy and delivers the
	// queue's next message (the default).
	AfterDeadLetterContinue = "continue"
	// AfterDeadLetterBlock keeps the message at the head of its queue,
	// retried at the schedule's last delay, until it is delivered: order
	// is never broken, the queue waits.
	AfterDeadLetterBlock = "block"
)

// Subscription is one push or pull subscription.
type Subscription struct {
	ID          string        `json:"id"`
	Tenant      string        `json:"tenant"`
	Name        string        `json:"name"`
	Topic       string        `json:"topic"`
	TagFilter   string        `json:"tagFilter"`
	Endpoint    string        `json:"endpoint"`
	Timeout     time.Duration `json:"timeout"`
	MaxAttempts int           `json:"maxAttempts"`
	Concurrency int           `json:"concurrency"`
	Ordered     bool          `json:"ordered"`
	// Mode is ModePush or ModePull; empty means push.
	Mode string `json:"mode,omitempty"`
	// RetryDelays is an explicit retry schedule: the wait before the
	// second, third … attempt; its last entry repeats. Empty: exponential
	// from RetryInitial up to RetryMax, with jitter.
	RetryDelays  []time.Duration `json:"retryDelays,omitempty"`
	RetryInitial time.Duration   `json:"retryInitial,omitempty"`
	RetryMax     time.Duration   `json:"retryMax,omitempty"`
	// AfterDeadLetter is what an ordered subscription does after a dead
	// letter: AfterDeadLetterContinue (empty) or AfterDeadLetterBlock.
	AfterDeadLetter string `json:"afterDeadLetter,omitempty"`
	// RateLimit bounds deliveries per second on each replica; 0 = none.
	RateLimit    float64   `json:"rateLimit,omitempty"`
	DedupSource  string    `json:"dedupSource"`
	DedupProp    string    `json:"dedupProperty,omitempty"`
	Paused       bool      `json:"paused"`
	PausedReason string    `json:"pausedReason,omitempty"`
	Secret       string    `json:"secret"`
	PrevSecret   string    `json:"prevSecret,omitempty"`
	PrevUntil    time.Time `json:"prevUntil,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	// Version is the store's version of the last change (not stored in
	// the document): a change is stored only if it is still the latest.
	Version int64 `json:"-"`
}

// Push reports whether the subscription is delivered by push (ModePush,
// or a mode this version does not know).
func (s Subscription) Push() bool { return s.Mode != ModePull }

// Pull reports whether the consumer pulls (ModePull): push delivery must
// never deliver such a subscription.
func (s Subscription) Pull() bool { return s.Mode == ModePull }

// Group is the subscription's RocketMQ consumer group; its retry topic is
// %RETRY%<group> and its dead-letter queue %DLQ%<group>.
func (s Subscription) Group() string { return "zl-sub-" + s.ID }

// Secrets returns the secrets that sign a delivery made at now.
func (s Subscription) Secrets(now time.Time) []string {
	if s.PrevSecret != "" && now.Before(s.PrevUntil) {
		return []string{s.Secret, s.PrevSecret}
	}
	return []string{s.Secret}
}

// NewID returns a new subscription id (sub_ + ULID).
func NewID() string { return "sub_" + ulid.Make().String() }

// ErrNotFound means no such subscription (for this tenant).
var ErrNotFound = errors.New("subscription: not found")

// Store keeps subscriptions in Redis: one hash of JSON documents (id →
// JSON), one hash of their versions (id → version) and one counter, the
// store's version, which every change increments. Every change is one
// Lua script that compares the version the caller read and sets the new
// one (compare-and-set), so concurrent changes on several replicas never
// lose one another and a change made from a stale read — a delete
// included — fails instead of undoing a newer one. Each change is
// published on a channel.
type Store struct {
	rdb     redis.UniversalClient
	key     string
	vers    string
	counter string
	channel string
}

// NewStore returns a store with keys under prefix (default "zl:").
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "zl:"
	}
	// One hash tag ({subs}): the scripts touch the three keys at once,
	// also on Redis Cluster.
	return &Store{rdb: rdb, key: prefix + "{subs}", vers: prefix + "{subs}:versions", counter: prefix + "{subs}:version",
		channel: prefix + "subs:changed"}
}

// ErrConflict means the subscription changed since it was read.
var ErrConflict = errors.New("subscription: changed meanwhile")

// casScript writes a subscription if its version is still ARGV[2]
// ("new": it must not exist yet; "0": stored before versions existed)
// and returns its new version; -1 if it does not exist (deleted), -2 if
// its version differs. ARGV[3] empty deletes it.
var casScript = redis.NewScript(`
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
local cur = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
if ARGV[2] == 'new' then
  if exists then return -2 end
else
  if not exists then return -1 end
  if cur ~= ARGV[2] then return -2 end
end
local v = redis.call('INCR', KEYS[3])
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[1], v)
end
return v
`)

// cas writes s (nil deletes) if its stored version is still version
// ("new": absent), and returns the new version.
func (st *Store) cas(ctx context.Context, id string, version string, s *Subscription) (int64, error) {
	doc := ""
	if s != nil {
		b, err := json.Marshal(s)
		if err != nil {
			return 0, fmt.Errorf("subscription: encode: %w", err)
		}
		doc = string(b)
	}
	v, err := casScript.Run(ctx, st.rdb, []string{st.key, st.vers, st.counter}, id, version, doc).Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("subscription: store %s: %w", id, err)
	case v == -1:
		return 0, ErrNotFound
	case v == -2:
		return 0, ErrConflict
	}
	st.notify(ctx, id)
	return v, nil
}

// Create stores a new subscription; ErrConflict if its id exists.
func (st *Store) Create(ctx context.Context, s Subscription) (Subscription, error) {
	v, err := st.cas(ctx, s.ID, "new", &s)
	if err != nil {
		return Subscription{}, err
	}
	s.Version = v
	return s, nil
}

// Change applies f to the stored subscription id and stores the result
// if nothing changed it meanwhile; on a conflict it reads again and
// applies f again (f must be safe to call more than once). keep, when not
// nil, decides on the read copy whether the caller may see it (tenant
// check): ErrNotFound otherwise.
func (st *Store) Change(ctx context.Context, id string, keep func(Subscription) bool, f func(*Subscription) error) (Subscription, error) {
	for {
		s, err := st.get(ctx, id)
		if err != nil {
			return Subscription{}, err
		}
		if keep != nil && !keep(s) {
			return Subscription{}, ErrNotFound
		}
		if err := f(&s); err != nil {
			return Subscription{}, err
		}
		v, err := st.cas(ctx, id, strconv.FormatInt(s.Version, 10), &s)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Subscription{}, err
		}
		s.Version = v
		return s, nil
	}
}

// SetPaused pauses subscription id with reason and notifies the replicas;
// a deleted subscription stays deleted (ErrNotFound).
func (st *Store) SetPaused(ctx context.Context, id, reason string) error {
	_, err := st.Change(ctx, id, nil, func(s *Subscription) error {
		s.Paused, s.PausedReason = true, reason
		return nil
	})
	return err
}

// Delete removes a tenant's subscription and notifies the replicas. A
// change from a copy read before the delete fails (ErrNotFound): nothing
// brings a deleted subscription back.
func (st *Store) Delete(ctx context.Context, tenant, id string) error {
	for {
		s, err := st.Get(ctx, tenant, id)
		if err != nil {
			return err
		}
		_, err = st.cas(ctx, id, strconv.FormatInt(s.Version, 10), nil)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
}

func (st *Store) notify(ctx context.Context, id string) {
	// Best effort: replicas also re-read everything periodically.
	_ = st.rdb.Publish(ctx, st.channel, id).Err()
}

func (st *Store) get(ctx context.Context, id string) (Subscription, error) {
	pipe := st.rdb.TxPipeline()
	doc := pipe.HGet(ctx, st.key, id)
	ver := pipe.HGet(ctx, st.vers, id)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Subscription{}, fmt.Errorf("subscription: get %s: %w", id, err)
	}
	b, err := doc.Bytes()
	if errors.Is(err, redis.Nil) {
		return Subscription{}, ErrNotFound
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("subscription: get %s: %w", id, err)
	}
	var s Subscription
	if err := json.Unmarshal(b, &s); err != nil {
		return Subscription{}, fmt.Errorf("subscription: decode %s: %w", id, err)
	}
	// A subscription stored before versions existed has version 0.
	s.Version, _ = ver.Int64()
	return s, nil
}

// Get returns a tenant's subscription.
func (st *Store) Get(ctx context.Context, tenant, id string) (Subscription, error) {
	s, err := st.get(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	if s.Tenant != tenant {
		return Subscription{}, ErrNotFound
	}
	return s, nil
}

// All returns every subscription of every tenant.
func (st *Store) All(ctx context.Context) ([]Subscription, error) {
	_, all, err := st.Snapshot(ctx)
	return all, err
}

// Snapshot returns every subscription and the store's version they are
// the state of, read in one atomic step: a later snapshot never has a
// lower version.
func (st *Store) Snapshot(ctx context.Context) (int64, []Subscription, error) {
	pipe := st.rdb.TxPipeline()
	ver := pipe.Get(ctx, st.counter)
	docs := pipe.HGetAll(ctx, st.key)
	vers := pipe.HGetAll(ctx, st.vers)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, nil, fmt.Errorf("subscription: read all: %w", err)
	}
	version, _ := ver.Int64()
	vs := vers.Val()
	out := make([]Subscription, 0, len(docs.Val()))
	for id, v := range docs.Val() {
		var s Subscription
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return 0, nil, fmt.Errorf("subscription: decode %s: %w", id, err)
		}
		s.Version, _ = strconv.ParseInt(vs[id], 10, 64)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return version, out, nil
}

// List returns a page of a tenant's subscriptions after the id cursor.
func (st *Store) List(ctx context.Context, tenant, cursor string, limit int) ([]Subscription, string, error) {
	all, err := st.All(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []Subscription
	for _, s := range all {
		if s.Tenant == tenant && s.ID > cursor {
			out = append(out, s)
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Watch calls changed whenever a subscription may have changed: on every
// notification and every interval, until ctx ends.
func (st *Store) Watch(ctx context.Context, interval time.Duration, changed func()) {
	ps := st.rdb.Subscribe(ctx, st.channel)
	defer ps.Close()
	ch := ps.Channel()
	t := time.NewTicker(interval)
	defer t.Stop()
	changed()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-t.C:
		}
		changed()
	}
}

// ValidTagFilter reports whether expr is a RocketMQ tag expression the
// gateway accepts: "*" or tags joined by "||" (brokertext.CheckTagFilter).
func ValidTagFilter(expr string) bool {
	return len(brokertext.CheckTagFilter("/tagFilter", expr)) == 0
}
