// Package lease is the owner-token lease the Redis stores share: a key that
// holds a random owner token for a time measured on Redis's clock (its TTL),
// taken only when absent and given back only by its owner
// (compare-and-delete), so a caller whose lease ran out can never release
// the lease another replica has taken over since.
package lease

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/rscript"
)

// ErrNotHeld is returned by Release when the key no longer holds the
// caller's token: the lease ran out, and another owner may hold it now.
var ErrNotHeld = errors.New("lease: no longer held")

// Lease is one taken lease: the key and the owner's token.
type Lease struct {
	Key   string
	Token string
}

// NewToken returns a fresh owner token (26 base32 characters, 130 bits).
func NewToken() string { return rand.Text() }

// releaseScript deletes KEYS[1] if it still holds the token ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// Acquire takes key for ttl if nobody holds it. ok is false (and the Lease
// empty) when another owner holds it.
func Acquire(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration) (l Lease, ok bool, err error) {
	token := NewToken()
	ok, err = rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease: acquire %s: %w", key, err)
	}
	if !ok {
		return Lease{}, false, nil
	}
	return Lease{Key: key, Token: token}, true, nil
}

// Release gives l back if its owner still holds it, else ErrNotHeld.
func Release(ctx context.Context, rdb redis.UniversalClient, l Lease) error {
	n, err := releaseScript.Run(ctx, rdb, []string{l.Key}, l.Token).Int()
	if err != nil {
		return fmt.Errorf("lease: release %s: %w", l.Key, err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// ReleaseMany gives back every lease in ls still held by its owner, in one
// round trip, and reports how many it released. Failures are not reported:
// a lease that could not be released runs out by itself.
func ReleaseMany(ctx context.Context, rdb redis.UniversalClient, ls []Lease) int {
	keys := make([]string, len(ls))
	args := make([][]any, len(ls))
	for i, l := range ls {
		keys[i], args[i] = l.Key, []any{l.Token}
	}
	released := 0
	for _, cmd := range rscript.RunMany(ctx, rdb, releaseScript, keys, args) {
		if n, err := cmd.Int(); err == nil && n == 1 {
			released++
		}
	}
	return released
}
