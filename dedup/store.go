// Package dedup is the delivery dedup store of push subscriptions: it
// remembers, per subscription and dedup id, that a message is being
// delivered (in flight, under a lease) or was delivered, so that a message
// RocketMQ hands out again is not POSTed to the subscriber twice.
//
// A record is one Redis string under one key per (subscription, dedup id).
// Its hash tag is a digest of both, so every script touches exactly one key
// (Redis Cluster) and the records of one busy subscription spread over all
// the shards instead of filling one. Its life:
//
//	absent --Claim--> in flight (owner token; key TTL = Lease)
//	in flight --Delivered--> delivered (key TTL = Window) --Window ran out--> absent
//	in flight --Release by the owner, Forget, or the Lease ran out--> absent
//
// so the next Claim after a Release, a Forget or a lease that ran out (its
// replica died) claims the message again. Delivered marks the record
// delivered whatever it holds: the endpoint accepted the message, even when
// the caller's lease had run out and another replica took it over.
//
// Every transition is one atomic Redis command or Lua script on that one
// key; nothing reads a record and writes it back in two steps. The lease is
// the key's own expiry, kept by Redis's clock, so replicas with skewed
// clocks agree on it. Claims and delivered marks can be batched: ClaimMany
// and DeliveredMany pipeline one command per message into one round trip
// (on a cluster, one per shard, in parallel).
//
// # The window
//
// A delivered message is remembered for Config.Window (24 h by default). A
// duplicate that arrives later (a redrive, a producer's resend, a RocketMQ
// re-delivery after a long outage) is delivered again. Every attempt of a
// message carries the same webhook-id header (the dedup id), so a subscriber
// that needs exactly-once processing beyond the window deduplicates on that
// header itself. Within the window the store is a strong filter, not a
// guarantee: a Redis restart without persistence, a failover that loses
// the last writes or an evicted key (run Redis with maxmemory-policy
// noeviction) forgets marks, and a lease that runs out while the endpoint
// is still answering lets a second replica deliver too. Subscribers must be
// idempotent on webhook-id anyway.
//
// # Fail closed
//
// Every method returns an error when Redis does not answer. An error never
// means "not delivered": a caller that cannot Claim must not deliver; it
// leaves the message unacknowledged and tries again later. A Claim whose
// answer was lost (for example, ctx ended mid-call) may hold the record
// until its lease runs out; the message is then Busy for at most Lease.
package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/lease"
	"github.com/zeroloss/zeroloss/internal/rscript"
)

// Defaults for the zero fields of Config.
const (
	DefaultWindow = 24 * time.Hour
	DefaultLease  = time.Minute
	DefaultPrefix = "zl:dedup:"
)

// Config tunes a Store. Zero fields take the defaults.
type Config struct {
	// Window is how long a delivered message is remembered (DefaultWindow).
	Window time.Duration
	// Lease is how long a claim holds a message in flight before another
	// replica may take it over (DefaultLease). It must exceed the longest
	// webhook call plus the time to mark it delivered, or a slow endpoint
	// can see a live delivery a second time.
	Lease time.Duration
	// Prefix starts every Redis key (DefaultPrefix). It must not contain
	// '{' or '}': the key's hash tag follows it.
	Prefix string
}

func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	return c
}

// Validate checks the configuration (zero fields count as their defaults)
// and lists every problem.
func (c Config) Validate() error {
	c = c.withDefaults()
	var bad []string
	if c.Window < time.Millisecond {
		bad = append(bad, "Window must be at least 1ms")
	}
	if c.Lease < time.Millisecond {
		bad = append(bad, "Lease must be at least 1ms")
	}
	if c.Lease >= c.Window {
		bad = append(bad, "Lease must be shorter than Window")
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		bad = append(bad, "Prefix must not contain '{' or '}'")
	}
	if len(bad) > 0 {
		return fmt.Errorf("dedup: invalid config: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Status says what Claim found.
type Status int

const (
	// Claimed: the message is in flight for the caller, who delivers it and
	// then calls Delivered (2xx) or Release (any failure).
	Claimed Status = iota + 1
	// Delivered: the message was delivered before; acknowledge it without
	// calling the endpoint (a suppressed duplicate).
	Delivered
	// Busy: another owner holds the message in flight; try again after
	// Claim.RetryAfter, do not deliver it now.
	Busy
)

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Delivered:
		return "delivered"
	case Busy:
		return "busy"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Claim is the answer of Claim for one message. The zero Claim is no claim.
type Claim struct {
	Status Status
	// RetryAfter is how long the current owner's lease still runs (Busy).
	RetryAfter time.Duration

	key   string
	token string // the owner token (Claimed)
}

// ErrNotOwner is returned by Release when the caller no longer holds the
// message: its lease ran out (and another replica may have taken it over)
// or the message was marked delivered.
var ErrNotOwner = errors.New("dedup: claim no longer held")

// ErrNotClaimed is returned for a Claim the method cannot use: Release
// needs a Claimed claim, Delivered any claim returned by Claim or
// ClaimMany (not the zero Claim).
var ErrNotClaimed = errors.New("dedup: not a claim of this message")

// ErrAlreadyDelivered is returned by Forget when the message was delivered
// within the window: the record stays, and a redriven copy is suppressed.
var ErrAlreadyDelivered = errors.New("dedup: message already delivered")

// deliveredValue marks a delivered record; an in-flight record holds its
// owner's lease token (lease.NewToken, never "d").
const deliveredValue = "d"

// claimScript claims a record: absent -> in flight for ARGV[1] with a lease
// of ARGV[2] ms (the key's TTL, on Redis's clock). Claims use it on Redis
// before 7.0 and in ClaimMany; otherwise a claim is one SET NX GET
// (claimWith). It answers {1, 0}
// (claimed), {2, 0} (delivered) or {3, lease left in ms} (busy).
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, 0}
end
if v == 'd' then return {2, 0} end
return {3, redis.call('PTTL', KEYS[1])}
`)

// forgetScript drops a record unless it is delivered.
var forgetScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == 'd' then return 0 end
if v then redis.call('DEL', KEYS[1]) end
return 1
`)

// Store keeps dedup records in Redis (single node, Sentinel or Cluster). It
// is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	cfg     Config
	leaseMS int64
	// scriptClaims is set once Redis refused SET NX GET (before 7.0):
	// claims then run the claim script.
	scriptClaims atomic.Bool
}

// NewStore returns a Store on rdb after validating cfg.
func NewStore(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("dedup: nil Redis client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Store{rdb: rdb, cfg: cfg, leaseMS: max(cfg.Lease.Milliseconds(), 1)}, nil
}

// key is the record's key: the prefix, then a hash tag that is a digest of
// (subscription, id) — one record, one slot, records spread over the
// shards — then the subscription, for people reading the keyspace.
func (s *Store) key(subscription, id string) string {
	h := sha256.Sum256([]byte(strconv.Itoa(len(subscription)) + ":" + subscription + id))
	return s.cfg.Prefix + "{" + hex.EncodeToString(h[:16]) + "}:" + subscription
}

func (s *Store) newClaim(subscription, id string) (Claim, error) {
	if subscription == "" || id == "" {
		return Claim{}, errors.New("dedup: empty subscription or id")
	}
	return Claim{key: s.key(subscription, id), token: lease.NewToken()}, nil
}

// Claim marks the message with dedup id in subscription in flight for the
// caller, in one atomic step, unless it is delivered (Delivered) or in
// flight under another owner's lease (Busy). A lease that ran out is taken
// over (Claimed). On error the caller must not deliver.
func (s *Store) Claim(ctx context.Context, subscription, id string) (Claim, error) {
	return s.ClaimFor(ctx, subscription, id, 0)
}

// ClaimFor is Claim with a lease of its own (the store's Lease when zero),
// for callers whose attempts are bounded more tightly than the longest one:
// a replica that dies then blocks the message for less time.
func (s *Store) ClaimFor(ctx context.Context, subscription, id string, lease time.Duration) (Claim, error) {
	return s.claimWith(ctx, subscription, id, lease, s.do, s.eval)
}

// doFunc queues one caller's commands with fill and returns once they ran:
// alone (Store.do) or in a shared pipeline (rscript.Batcher.Do). Each
// command then holds its own result or error.
type doFunc func(ctx context.Context, fill func(redis.Cmdable)) error

func (s *Store) do(ctx context.Context, fill func(redis.Cmdable)) error {
	p := s.rdb.Pipeline()
	fill(p)
	_, _ = p.Exec(ctx) // each command holds its own error
	return nil
}

// evalFunc runs a script: alone (Store.eval) or in a shared pipeline
// (rscript.Batcher.Eval).
type evalFunc func(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd

func (s *Store) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	return script.Run(ctx, s.rdb, keys, args...)
}

// claimWith is ClaimFor with its commands run by do, or its script by
// eval on a Redis older than 7.0.
//
// A claim is one command, SET key token NX PX lease GET: it sets the
// record only if it is absent, and answers what it held (nothing: claimed;
// "d": delivered; a token: busy). That is the claim script's transition
// at a fraction of its cost in Redis (a script call costs about four times
// a SET). Only a busy claim asks for the lease left (PTTL) in a second
// command: a hint of when to try again, which may be a moment stale. Redis
// before 7.0 refuses NX with GET (a syntax error); the store then claims
// with the script from that call on.
func (s *Store) claimWith(ctx context.Context, subscription, id string, lease time.Duration, do doFunc, eval evalFunc) (Claim, error) {
	c, err := s.newClaim(subscription, id)
	if err != nil {
		return Claim{}, err
	}
	ms := s.leaseMS
	if lease > 0 {
		ms = max(lease.Milliseconds(), 1)
	}
	if !s.scriptClaims.Load() {
		var set *redis.StatusCmd
		err := do(ctx, func(p redis.Cmdable) {
			set = p.SetArgs(ctx, c.key, c.token, redis.SetArgs{Mode: "NX", Get: true, TTL: time.Duration(ms) * time.Millisecond})
		})
		if err == nil {
			err = set.Err()
		}
		switch {
		case errors.Is(err, redis.Nil):
			c.Status = Claimed
			return c, nil
		case err == nil && set.Val() == deliveredValue:
			c.Status, c.token = Delivered, ""
			return c, nil
		case err == nil && set.Val() == c.token:
			// This claim's own SET, applied once already (a retry of
			// the command after a lost answer): it holds the record.
			c.Status = Claimed
			return c, nil
		case err == nil:
			return s.busy(ctx, c, do)
		case !redis.HasErrorPrefix(err, "syntax error"):
			return Claim{}, fmt.Errorf("dedup: claim: %w", err)
		}
		s.scriptClaims.Store(true)
	}
	res, err := eval(ctx, claimScript, []string{c.key}, c.token, ms).Int64Slice()
	if err != nil {
		return Claim{}, fmt.Errorf("dedup: claim: %w", err)
	}
	return c.answer(res)
}

// busy answers a claim that found c's record held by another owner, with
// the lease it has left (1 ms when it ran out since, or on error: try
// again soon).
func (s *Store) busy(ctx context.Context, c Claim, do doFunc) (Claim, error) {
	c.Status, c.token, c.RetryAfter = Busy, "", time.Millisecond
	var left *redis.DurationCmd
	if err := do(ctx, func(p redis.Cmdable) { left = p.PTTL(ctx, c.key) }); err == nil && left.Err() == nil && left.Val() > 0 {
		c.RetryAfter = left.Val()
	}
	return c, nil
}

// ClaimMany claims the messages ids of subscription as Claim would, in one
// Redis round trip (a pipeline of one script call per message). claims[i]
// answers ids[i]; an id that appears twice is Claimed once and Busy after.
// On error it returns no claims and releases those it made (best effort; a
// release that fails runs out with its lease): the caller delivers none.
func (s *Store) ClaimMany(ctx context.Context, subscription string, ids []string) ([]Claim, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	claims := make([]Claim, len(ids))
	keys := make([]string, len(ids))
	args := make([][]any, len(ids))
	for i, id := range ids {
		c, err := s.newClaim(subscription, id)
		if err != nil {
			return nil, err
		}
		claims[i], keys[i], args[i] = c, c.key, []any{c.token, s.leaseMS}
	}
	cmds := rscript.RunMany(ctx, s.rdb, claimScript, keys, args)
	var (
		firstErr error
		failed   int
		held     []Claim
	)
	for i, cmd := range cmds {
		res, err := cmd.Int64Slice()
		if err == nil {
			claims[i], err = claims[i].answer(res)
		}
		if err != nil {
			failed++
			firstErr = firstOf(firstErr, err)
			continue
		}
		if claims[i].Status == Claimed {
			held = append(held, claims[i])
		}
	}
	if firstErr == nil {
		return claims, nil
	}
	if len(held) > 0 {
		// ctx may be what failed; a release later than the lease is moot.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Lease)
		defer cancel()
		s.releaseMany(rctx, held)
	}
	return nil, fmt.Errorf("dedup: claim %d of %d messages: %w", failed, len(ids), firstErr)
}

// answer fills c from the claim script's answer.
func (c Claim) answer(res []int64) (Claim, error) {
	if len(res) != 2 {
		return Claim{}, fmt.Errorf("dedup: claim: unexpected script answer %v", res)
	}
	switch res[0] {
	case 1:
		c.Status = Claimed
		return c, nil
	case 2:
		c.Status, c.token = Delivered, ""
		return c, nil
	case 3:
		c.Status, c.token = Busy, ""
		c.RetryAfter = time.Duration(max(res[1], 1)) * time.Millisecond
		return c, nil
	}
	return Claim{}, fmt.Errorf("dedup: claim: unexpected script answer %v", res)
}

// Delivered records that the endpoint accepted c's message (2xx): the
// record becomes delivered for the window. It does so even when c's lease
// ran out or another replica took the message over — the endpoint did
// accept it — and for a Busy claim the caller delivered anyway. For a
// claim that found the message Delivered it does nothing.
func (s *Store) Delivered(ctx context.Context, c Claim) error {
	return s.markWith(ctx, c, func(ctx context.Context, key string) error {
		return s.rdb.Set(ctx, key, deliveredValue, s.cfg.Window).Err()
	})
}

// markWith is Delivered with the key's mark written by set.
func (s *Store) markWith(ctx context.Context, c Claim, set func(ctx context.Context, key string) error) error {
	if c.key == "" {
		return ErrNotClaimed
	}
	if c.Status == Delivered {
		return nil
	}
	if err := set(ctx, c.key); err != nil {
		return fmt.Errorf("dedup: mark delivered: %w", err)
	}
	return nil
}

// DeliveredMany does what Delivered does for every claim of cs, in one
// Redis round trip. It marks every usable claim even when some are not
// (the error then wraps ErrNotClaimed) and reports the marks that failed.
func (s *Store) DeliveredMany(ctx context.Context, cs []Claim) error {
	var notClaimed int
	p := s.rdb.Pipeline()
	for _, c := range cs {
		switch {
		case c.key == "":
			notClaimed++
		case c.Status != Delivered:
			p.Set(ctx, c.key, deliveredValue, s.cfg.Window)
		}
	}
	var errs []error
	if notClaimed > 0 {
		errs = append(errs, fmt.Errorf("dedup: mark delivered: %d of %d claims: %w", notClaimed, len(cs), ErrNotClaimed))
	}
	if p.Len() > 0 {
		cmds, _ := p.Exec(ctx)
		var (
			firstErr error
			failed   int
		)
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil {
				failed++
				firstErr = firstOf(firstErr, err)
			}
		}
		if firstErr != nil {
			errs = append(errs, fmt.Errorf("dedup: mark %d of %d delivered: %w", failed, len(cmds), firstErr))
		}
	}
	return errors.Join(errs...)
}

// Release drops c's in-flight mark so that a retry can claim the message,
// if c still holds it; otherwise it returns ErrNotOwner (its lease ran out,
// or the message was marked delivered) and changes nothing. Call it when a
// delivery failed. c must be Claimed (else ErrNotClaimed).
func (s *Store) Release(ctx context.Context, c Claim) error {
	if c.Status != Claimed || c.key == "" {
		return ErrNotClaimed
	}
	// An in-flight record is an owner-token lease (the key holds the
	// token); a delivered one holds "d", which no token equals.
	err := lease.Release(ctx, s.rdb, lease.Lease{Key: c.key, Token: c.token})
	if errors.Is(err, lease.ErrNotHeld) {
		return ErrNotOwner
	}
	if err != nil {
		return fmt.Errorf("dedup: release: %w", err)
	}
	return nil
}

// releaseMany releases held claims in one round trip, ignoring failures.
func (s *Store) releaseMany(ctx context.Context, held []Claim) {
	ls := make([]lease.Lease, len(held))
	for i, c := range held {
		ls[i] = lease.Lease{Key: c.key, Token: c.token}
	}
	lease.ReleaseMany(ctx, s.rdb, ls)
}

// Forget drops the record of the message with dedup id in subscription
// unless it is delivered, whoever holds it in flight, so that a redriven
// dead letter that was never delivered is delivered at once. For a
// delivered message it returns ErrAlreadyDelivered and keeps the record.
func (s *Store) Forget(ctx context.Context, subscription, id string) error {
	c, err := s.newClaim(subscription, id)
	if err != nil {
		return err
	}
	n, err := forgetScript.Run(ctx, s.rdb, []string{c.key}).Int()
	if err != nil {
		return fmt.Errorf("dedup: forget: %w", err)
	}
	if n == 0 {
		return ErrAlreadyDelivered
	}
	return nil
}

// firstOf keeps the first error.
func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
