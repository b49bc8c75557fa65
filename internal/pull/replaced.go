package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// RedisReplaced remembers the receipt handles a nack or an extend
// replaced: the broker accepts an ack of such a handle without effect (the
// message comes back), so the gateway refuses it instead. One Redis key
// per handle (its hash tag is the subscription), expiring after it.
type RedisReplaced struct{ rdb redis.UniversalClient }

// NewRedisReplaced returns a RedisReplaced on rdb.
func NewRedisReplaced(rdb redis.UniversalClient) *RedisReplaced { return &RedisReplaced{rdb: rdb} }

func replacedKey(sub string, h pop.Handle) string {
	d := sha256.Sum256([]byte(h.String()))
	return "zl:pull:replaced:{" + sub + "}:" + hex.EncodeToString(d[:16])
}

// Mark records h as replaced for ttl.
func (r *RedisReplaced) Mark(ctx context.Context, sub string, h pop.Handle, ttl time.Duration) error {
	if err := r.rdb.Set(ctx, replacedKey(sub, h), 1, max(ttl, time.Second)).Err(); err != nil {
		return fmt.Errorf("pull: mark handle replaced: %w", err)
	}
	return nil
}

// Is reports whether h was marked replaced.
func (r *RedisReplaced) Is(ctx context.Context, sub string, h pop.Handle) (bool, error) {
	n, err := r.rdb.Exists(ctx, replacedKey(sub, h)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("pull: read replaced handle: %w", err)
	}
	return n == 1, nil
}
