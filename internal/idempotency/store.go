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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
// the scripts of concurrent requests, begins and completions alike, share
// round trips (one rscript.Batcher, yielding: requests woken together by
// one broker answer complete in one pipeline).
// It is safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	cfg  Config
	pipe *rscript.Batcher
	// The scripts' fixed arguments, boxed once (an argument is an any).
	leaseMs, ttlMs any
	touch          any // "1": a replay writes, so the WAIT after it covers the answer
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
	st := &Store{rdb: rdb, cfg: cfg, pipe: rscript.NewBatcher(rdb, rscript.Config{MaxBatch: cfg.MaxPipeline, Yield: true}),
		leaseMs: strconv.FormatInt(cfg.Lease.Milliseconds(), 10), ttlMs: strconv.FormatInt(cfg.TTL.Milliseconds(), 10), touch: "0"}
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

// completeScript stores the answer if the caller still owns the record. The
// lease field stays: beginScript reads it only in the running state.
var completeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'ctype', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// releaseScript reopens the record (keeping its seed) if the caller owns it
// (the lease field stays, read only in the running state).
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open')
return 1
`)

// ErrNotOwner is returned by Complete and Release when the lease expired and
// another request took the key over.
var ErrNotOwner = errors.New("idempotency: record is owned by another request")

// redisKey is the record's key: the prefix, then the first half of the
// SHA-256 of scope NUL key in hex as the hash tag (one record, one slot).
func (s *Store) redisKey(scope, key string) string {
	var in [256]byte
	h := sha256.Sum256(append(append(append(in[:0], scope...), 0), key...))
	var tag [2 + 2*16]byte
	tag[0], tag[len(tag)-1] = '{', '}'
	hex.Encode(tag[1:], h[:16])
	var b strings.Builder
	b.Grow(len(s.cfg.Prefix) + len(tag))
	b.WriteString(s.cfg.Prefix)
	b.Write(tag[:])
	return b.String()
}

// Begin claims key in scope for a request whose payload has fingerprint fp.
//
// The seed it proposes (a fresh one: 48 bits of milliseconds and 64 random
// bits) is also the attempt's owner token: unique per attempt, whether the
// record then keeps this seed (a first attempt) or an earlier one.
func (s *Store) Begin(ctx context.Context, scope, key, fp string) (Claim, error) {
	var token any = msgid.New(time.Now()).String()
	rk := s.redisKey(scope, key)
	cmd := s.run(ctx, beginScript, []string{rk}, fp, token, token, s.leaseMs, s.ttlMs, s.touch)
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
		return Claim{Outcome: Acquired, Seed: seed, TakeOver: res[2] == "1", key: rk, token: token.(string)}, nil
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
		resp.Body, s.ttlMs).Int()
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
