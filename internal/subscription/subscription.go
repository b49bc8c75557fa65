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

// Subscription is one push subscription.
type Subscription struct {
	ID           string        `json:"id"`
	Tenant       string        `json:"tenant"`
	Name         string        `json:"name"`
	Topic        string        `json:"topic"`
	TagFilter    string        `json:"tagFilter"`
	Endpoint     string        `json:"endpoint"`
	Timeout      time.Duration `json:"timeout"`
	MaxAttempts  int           `json:"maxAttempts"`
	Concurrency  int           `json:"concurrency"`
	Ordered      bool          `json:"ordered"`
	DedupSource  string        `json:"dedupSource"`
	DedupProp    string        `json:"dedupProperty,omitempty"`
	Paused       bool          `json:"paused"`
	PausedReason string        `json:"pausedReason,omitempty"`
	Secret       string        `json:"secret"`
	PrevSecret   string        `json:"prevSecret,omitempty"`
	PrevUntil    time.Time     `json:"prevUntil,omitempty"`
	CreatedAt    time.Time     `json:"createdAt"`
	UpdatedAt    time.Time     `json:"updatedAt"`
}

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

// Store keeps subscriptions in one Redis hash (id → JSON) and publishes
// each change on a channel.
type Store struct {
	rdb     redis.UniversalClient
	key     string
	channel string
}

// NewStore returns a store with keys under prefix (default "zl:").
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "zl:"
	}
	return &Store{rdb: rdb, key: prefix + "{subs}", channel: prefix + "subs:changed"}
}

// Put creates or replaces s and notifies the replicas.
func (st *Store) Put(ctx context.Context, s Subscription) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("subscription: encode: %w", err)
	}
	if err := st.rdb.HSet(ctx, st.key, s.ID, b).Err(); err != nil {
		return fmt.Errorf("subscription: store %s: %w", s.ID, err)
	}
	st.notify(ctx, s.ID)
	return nil
}

// setPausedScript pauses a stored subscription in place (its JSON), so a
// pause never writes back an older copy nor brings back a deleted one.
var setPausedScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local s = cjson.decode(v)
s['paused'] = true
s['pausedReason'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
return 1
`)

// SetPaused pauses subscription id with reason and notifies the replicas;
// a deleted subscription stays deleted.
func (st *Store) SetPaused(ctx context.Context, id, reason string) error {
	n, err := setPausedScript.Run(ctx, st.rdb, []string{st.key}, id, reason).Int()
	if err != nil {
		return fmt.Errorf("subscription: pause %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	st.notify(ctx, id)
	return nil
}

// Delete removes a tenant's subscription and notifies the replicas.
func (st *Store) Delete(ctx context.Context, tenant, id string) error {
	if _, err := st.Get(ctx, tenant, id); err != nil {
		return err
	}
	if err := st.rdb.HDel(ctx, st.key, id).Err(); err != nil {
		return fmt.Errorf("subscription: delete %s: %w", id, err)
	}
	st.notify(ctx, id)
	return nil
}

func (st *Store) notify(ctx context.Context, id string) {
	// Best effort: replicas also re-read everything periodically.
	_ = st.rdb.Publish(ctx, st.channel, id).Err()
}

// Get returns a tenant's subscription.
func (st *Store) Get(ctx context.Context, tenant, id string) (Subscription, error) {
	b, err := st.rdb.HGet(ctx, st.key, id).Bytes()
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
	if s.Tenant != tenant {
		return Subscription{}, ErrNotFound
	}
	return s, nil
}

// All returns every subscription of every tenant.
func (st *Store) All(ctx context.Context) ([]Subscription, error) {
	m, err := st.rdb.HGetAll(ctx, st.key).Result()
	if err != nil {
		return nil, fmt.Errorf("subscription: read all: %w", err)
	}
	out := make([]Subscription, 0, len(m))
	for id, v := range m {
		var s Subscription
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return nil, fmt.Errorf("subscription: decode %s: %w", id, err)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
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
