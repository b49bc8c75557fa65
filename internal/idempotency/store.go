// Package idempotency keeps Idempotency-Key records in Redis
// (draft-ietf-httpapi-idempotency-key-header semantics).
//
// A record is one Redis hash whose key carries a hash tag, so every script
// touches one slot and works on Redis Cluster. Its life:
//
//	absent --Begin--> running (lease) --Complete--> done (answer kept for TTL)
//	                     |  \--Release--> open --Begin--> running (same seed)
//	                     \--lease expired--Begin--> running (same seed)
//
// The record also keeps the request's message-id seed, so a retry after an
// unconfirmed send, or after the replica that ran it died, sends with the
// same message ids.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/rscript"
)

// Outcome says what Begin found.
type Outcome int

const (
	// Acquired: the caller runs the request and must Complete or Release.
	Acquired Outcome = iota + 1
	// Replayed: a stored answer exists; send it instead of running.
	Replayed
	// InProgress: another request with this key is running.
	InProgress
	// Mismatch: the key was used with another payload.
	Mismatch
)

// Response is a stored answer.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Claim is the result of Begin.
type Claim struct {
	Outcome Outcome
	// Seed is the request's message-id seed (Acquired).
	Seed msgid.Seed
	// TakeOver is true when an earlier attempt with this key ran before.
	TakeOver bool
	// Response is the stored answer (Replayed).
	Response Response
	// RetryAfter is how long the running request's lease lasts (InProgress).
	RetryAfter time.Duration

	key   string
	token string
}

// Config tunes a Store.
type Config struct {
	// TTL keeps a record this long after it was created or completed.
	TTL time.Duration
	// Lease is how long a running request holds its key.
	Lease time.Duration
	// Prefix starts every Redis key; default "zl:idem:".
	Prefix string
	// Writer, when set, runs the scripts that back an answer (Begin, whose
	// seed fixes the message ids, and Complete): durable.Writer follows
	// each with WAIT, so a Redis failover cannot lose a record a client
	// relies on. Nil runs them plainly.
	Writer Writer
	// MaxPipeline is the most scripts of concurrent requests sent in one
	// round trip; default 64.
	MaxPipeline int
}

// Writer runs a script whose write must reach Redis's replicas before it
// counts (durable.Writer). Waits reports whether it waits at all.
type Writer interface {
	Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd
	Waits() bool
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.TTL <= 0 || c.Lease <= 0 {
		return errors.New("idempotency: TTL and Lease must be positive")
	}
	if c.Lease >= c.TTL {
		return errors.New("idempotency: Lease must be shorter than TTL")
	}
	return nil
}

// Store keeps records in Redis: one script, one atomic step, per phase;
// the scripts of concurrent requests share round trips (rscript.Batcher).
// It is safe for concurrent use.
type Store struct {
	rdb   redis.UniversalClient
	cfg   Config
	pipe  *rscript.Batcher
	touch string // "1": a replay writes, so the WAIT after it covers the answer
}

// run runs a script that backs an answer: through the Writer when it
// waits for replicas, else in the pipeline concurrent requests share.
func (s *Store) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	return s.pipe.Write(ctx, s.cfg.Writer, script, keys, args...)
}

// NewStore returns a Store on rdb.
func NewStore(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "zl:idem:"
	}
	if cfg.MaxPipeline == 0 {
		cfg.MaxPipeline = 64
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st := &Store{rdb: rdb, cfg: cfg, pipe: rscript.NewBatcher(rdb, rscript.Config{MaxBatch: cfg.MaxPipeline}), touch: "0"}
	if cfg.Writer != nil && cfg.Writer.Waits() {
		st.touch = "1"
	}
	return st, nil
}

// beginScript claims a record. It reads the clock with TIME so replicas with
// skewed clocks agree on leases. With ARGV[6] = "1" a replay writes the
// record's replayedAt: WAIT counts only the writes of its own connection,
// and the answer replayed may have been written on another one.
var beginScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('HMGET', KEYS[1], 'state', 'fp', 'seed', 'lease', 'status', 'ctype', 'body')
if not r[1] then
  redis.call('HSET', KEYS[1], 'state', 'running', 'fp', ARGV[1], 'seed', ARGV[2], 'owner', ARGV[3], 'lease', now + tonumber(ARGV[4]))
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {'acquired', ARGV[2], '0'}
end
if r[2] ~= ARGV[1] then return {'mismatch'} end
if r[1] == 'done' then
  if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'replayedAt', now) end
  return {'done', r[5], r[6], r[7]}
end
if r[1] == 'running' and tonumber(r[4]) > now then return {'running', tostring(tonumber(r[4]) - now)} end
redis.call('HSET', KEYS[1], 'state', 'running', 'owner', ARGV[3], 'lease', now + tonumber(ARGV[4]))
return {'acquired', r[3], '1'}
`)

// completeScript stores the answer if the caller still owns the record.
var completeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'ctype', ARGV[3], 'body', ARGV[4])
redis.call('HDEL', KEYS[1], 'lease')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// releaseScript reopens the record (keeping its seed) if the caller owns it.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open')
redis.call('HDEL', KEYS[1], 'lease')
return 1
`)

// ErrNotOwner is returned by Complete and Release when the lease expired and
// another request took the key over.
var ErrNotOwner = errors.New("idempotency: record is owned by another request")

func (s *Store) redisKey(scope, key string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + key))
	// The whole digest is the hash tag: one record, one slot.
	return s.cfg.Prefix + "{" + hex.EncodeToString(h[:16]) + "}"
}

// Begin claims key in scope for a request whose payload has fingerprint fp.
func (s *Store) Begin(ctx context.Context, scope, key, fp string) (Claim, error) {
	token := newToken()
	rk := s.redisKey(scope, key)
	seed := msgid.New(time.Now())
	cmd := s.run(ctx, beginScript, []string{rk}, fp, seed.String(), token,
		s.cfg.Lease.Milliseconds(), s.cfg.TTL.Milliseconds(), s.touch)
	res, err := cmd.StringSlice()
	if err != nil {
		if v, ok := cmd.Val().([]any); ok && len(v) > 0 && v[0] == "acquired" {
			// Claimed on the master but not confirmed by the replicas:
			// reopen it so the client's retry need not wait for the lease.
			_ = releaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{rk}, token).Err()
		}
		return Claim{}, fmt.Errorf("idempotency: begin: %w", err)
	}
	switch res[0] {
	case "acquired":
		seed, err := msgid.Parse(res[1])
		if err != nil {
			return Claim{}, fmt.Errorf("idempotency: begin: %w", err)
		}
		return Claim{Outcome: Acquired, Seed: seed, TakeOver: res[2] == "1", key: rk, token: token}, nil
	case "mismatch":
		return Claim{Outcome: Mismatch}, nil
	case "running":
		ms, _ := strconv.ParseInt(res[1], 10, 64)
		return Claim{Outcome: InProgress, RetryAfter: time.Duration(ms) * time.Millisecond}, nil
	case "done":
		status, err := strconv.Atoi(res[1])
		if err != nil {
			return Claim{}, fmt.Errorf("idempotency: corrupt record %s: %w", rk, err)
		}
		return Claim{Outcome: Replayed, Response: Response{Status: status, ContentType: res[2], Body: []byte(res[3])}}, nil
	}
	return Claim{}, fmt.Errorf("idempotency: begin: unexpected script answer %q", res[0])
}

// Complete stores resp as the key's answer. With a waiting Writer, an
// error wrapping durable.ErrNotReplicated means the answer is stored on the
// master only: tell the client nothing was confirmed (its retry replays it).
func (s *Store) Complete(ctx context.Context, c Claim, resp Response) error {
	n, err := s.run(ctx, completeScript, []string{c.key}, c.token, resp.Status, resp.ContentType,
		resp.Body, s.cfg.TTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
	}
	if n == 0 {
		return ErrNotOwner
	}
	return nil
}

// Release reopens the key so a retry may run again with the same seed.
func (s *Store) Release(ctx context.Context, c Claim) error {
	n, err := s.pipe.Eval(ctx, releaseScript, []string{c.key}, c.token).Int()
	if err != nil {
		return fmt.Errorf("idempotency: release: %w", err)
	}
	if n == 0 {
		return ErrNotOwner
	}
	return nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
