package txcallback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/lease"
)

// State is a transaction's state.
type State string

// The states. Sending is internal (exposed as pending): the record exists
// and the half message is on its way.
const (
	Sending         State = "sending"
	Pending         State = "pending"
	Committed       State = "committed"
	RolledBack      State = "rolled_back"
	Aborted         State = "aborted"
	UnknownAfterMax State = "unknown_after_max_checks"
)

// Errors of the store.
var (
	ErrNotFound = errors.New("txcallback: not found")
	// ErrConflict means the transaction is in a state that forbids the change.
	ErrConflict = errors.New("txcallback: state conflict")
)

// Transaction is the durable record of one transaction.
type Transaction struct {
	ID         string            `json:"id"`
	Tenant     string            `json:"tenant"`
	ProducerID string            `json:"producer"`
	Topic      string            `json:"topic"`
	Tag        string            `json:"tag,omitempty"`
	Keys       []string          `json:"keys,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
	MessageID  string            `json:"messageId"`
	// CheckAfter is the begin's checkAfterSeconds: nobody asks the check
	// URL earlier.
	CheckAfter  time.Duration `json:"checkAfter,omitempty"`
	State       State         `json:"-"`
	DecidedBy   string        `json:"-"`
	CreatedAt   time.Time     `json:"createdAt"`
	DecidedAt   time.Time     `json:"-"`
	CheckCount  int           `json:"-"`
	LastCheck   string        `json:"-"`
	LastCheckAt time.Time     `json:"-"`
	Half        broker.Half   `json:"-"`
	Ended       bool          `json:"-"`
	EndingAt    time.Time     `json:"-"`
	SendingAt   time.Time     `json:"-"`
}

// Store keeps producers and transactions in Redis. Every script touches one
// key (a transaction's hash, or a tenant's producer hash), so it runs on
// Redis Cluster; the tenant's transaction index is a separate key written
// after the record it points to.
type Store struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

// NewStore returns a store whose transaction records expire ttl after they
// were created (keep it longer than the broker's whole check window).
func NewStore(rdb redis.UniversalClient, ttl time.Duration) *Store {
	return &Store{rdb: rdb, ttl: ttl}
}

func txKey(id string) string            { return "zl:tx:{" + id + "}" }
func txLockKey(id string) string        { return "zl:tx:{" + id + "}:check" }
func txIndexKey(tenant string) string   { return "zl:txidx:{" + tenant + "}" }
func producersKey(tenant string) string { return "zl:prd:{" + tenant + "}" }

// pendingKey is the resolver's schedule: every transaction not yet settled
// (sending, pending, or decided without an acknowledged END_TRANSACTION),
// scored by when the resolver should look at it next (Unix ms).
const pendingKey = "zl:{txpending}"

// createScript creates a record in state sending, or takes over an
// existing one whose begin failed (aborted) or whose sender vanished
// (sending for longer than ARGV[3] ms); it answers created, retaken or
// exists, with the state found. Redis's clock decides.
var createScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'sending', 'checks', 0, 'sendingAt', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'created', ''}
end
local since = tonumber(redis.call('HGET', KEYS[1], 'sendingAt') or '0')
if st == 'aborted' or (st == 'sending' and now - since > tonumber(ARGV[3])) then
  -- The retry's record (its createdAt) replaces the first attempt's, so the
  -- resolver measures the check window from the half message now sent.
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'sending', 'sendingAt', now)
  redis.call('HDEL', KEYS[1], 'decidedAt', 'decidedBy')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'retaken', st}
end
return {'exists', st}
`)

// CreateOutcome says what CreateTx did.
type CreateOutcome string

// The outcomes of CreateTx.
const (
	// Created: a new record in state sending.
	Created CreateOutcome = "created"
	// Retaken: a record of the same id whose begin failed or whose sender
	// vanished is sending again (a retry with the same Idempotency-Key).
	Retaken CreateOutcome = "retaken"
	// Exists: a record of the same id exists in the state returned.
	Exists CreateOutcome = "exists"
)

// CreateTx writes a new record in state Sending, indexes it and schedules
// the resolver to look at it at resolveAt. A record with the same id is
// taken over when its begin failed or has been sending for longer than
// stuck; otherwise it is left alone and its state returned.
func (s *Store) CreateTx(ctx context.Context, tx Transaction, stuck time.Duration, resolveAt time.Time) (CreateOutcome, State, error) {
	static, err := json.Marshal(tx)
	if err != nil {
		return "", "", fmt.Errorf("txcallback: encode transaction: %w", err)
	}
	// One round trip: the record, its index entry and its resolver
	// schedule. The index holds ids only, all with score 0, so it sorts by
	// id: by creation time, since ids are ULIDs; entries whose record
	// expired are skipped when listing and trimmed by the resolver. Adding
	// an id that is already indexed or scheduled changes nothing that
	// matters (the resolver settles what it finds decided).
	keys := []string{txKey(tx.ID)}
	args := []any{static, s.ttl.Milliseconds(), stuck.Milliseconds()}
	var res *redis.Cmd
	_, err = s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		res = createScript.EvalSha(ctx, pipe, keys, args...)
		pipe.ZAdd(ctx, txIndexKey(tx.Tenant), redis.Z{Member: tx.ID})
		pipe.ZAdd(ctx, pendingKey, redis.Z{Member: tx.ID, Score: float64(resolveAt.UnixMilli())})
		return nil
	})
	if err != nil && redis.HasErrorPrefix(res.Err(), "NOSCRIPT") {
		res = createScript.Run(ctx, s.rdb, keys, args...)
		err = res.Err()
	}
	if err != nil {
		return "", "", fmt.Errorf("txcallback: create transaction: %w", err)
	}
	out, err := res.StringSlice()
	if err != nil || len(out) != 2 {
		return "", "", fmt.Errorf("txcallback: create transaction: unexpected answer %v: %w", res.Val(), err)
	}
	return CreateOutcome(out[0]), State(out[1]), nil
}

// TrimIndex drops index entries older than the record TTL.
func (s *Store) TrimIndex(ctx context.Context, tenant string) error {
	return s.rdb.ZRemRangeByLex(ctx, txIndexKey(tenant), "-", "("+idPrefix+ulidAt(time.Now().Add(-s.ttl))).Err()
}

// Due returns up to limit transactions the resolver should look at now.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, pendingKey, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("txcallback: due transactions: %w", err)
	}
	return ids, nil
}

// Reschedule makes the resolver look at id again at when (if still due).
func (s *Store) Reschedule(ctx context.Context, id string, when time.Time) error {
	return s.rdb.ZAddXX(ctx, pendingKey, redis.Z{Member: id, Score: float64(when.UnixMilli())}).Err()
}

// Settled removes id from the resolver's schedule.
func (s *Store) Settled(ctx context.Context, id string) error {
	return s.rdb.ZRem(ctx, pendingKey, id).Err()
}

// transition moves a record from one of the states in from (space
// separated) to to, setting extra fields; it answers the state found.
var transitionScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'missing', ''} end
for s in string.gmatch(ARGV[1], '%S+') do
  if s == st then
    redis.call('HSET', KEYS[1], 'state', ARGV[2])
    for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
    return {'moved', st}
  end
end
return {'stayed', st}
`)

// transition moves id from any of from to to; moved reports whether it did,
// and prev is the state found.
func (s *Store) transition(ctx context.Context, id string, from []State, to State, fields ...string) (moved bool, prev State, err error) {
	fs := ""
	for i, f := range from {
		if i > 0 {
			fs += " "
		}
		fs += string(f)
	}
	args := append([]any{fs, string(to)}, toAny(fields)...)
	res, err := transitionScript.Run(ctx, s.rdb, []string{txKey(id)}, args...).StringSlice()
	if err != nil {
		return false, "", fmt.Errorf("txcallback: transition %s: %w", id, err)
	}
	if res[0] == "missing" {
		return false, "", ErrNotFound
	}
	return res[0] == "moved", State(res[1]), nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// SetHalf records the stored half message and makes the transaction pending.
func (s *Store) SetHalf(ctx context.Context, id string, h broker.Half) error {
	half, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("txcallback: encode half: %w", err)
	}
	moved, prev, err := s.transition(ctx, id, []State{Sending}, Pending, "half", string(half))
	if err != nil {
		return err
	}
	if !moved {
		return fmt.Errorf("%w: transaction %s is %s", ErrConflict, id, prev)
	}
	return nil
}

// Abort marks a transaction whose half message was not confirmed (or
// whose sender vanished); moved reports whether this call did.
func (s *Store) Abort(ctx context.Context, id string) (bool, error) {
	moved, _, err := s.transition(ctx, id, []State{Sending}, Aborted, "decidedAt", nowMs())
	return moved, err
}

// decideScript moves a pending record to ARGV[1] and claims the right to
// send its END_TRANSACTION (endingAt, on Redis's clock). On a record
// already in ARGV[1] it claims that right only when no END_TRANSACTION was
// acknowledged and the last claim is older than ARGV[3] ms (the sender
// failed or vanished). It answers moved, claimed, same or stayed, with the
// state found.
var decideScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'missing', ''} end
local res = 'stayed'
if st == 'pending' and ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'decidedAt', now, 'decidedBy', ARGV[2], 'endingAt', now)
  res = 'moved'
elseif st == ARGV[1] or (ARGV[1] == '' and (st == 'committed' or st == 'rolled_back')) then
  res = 'same'
  if redis.call('HGET', KEYS[1], 'ended') ~= '1' then
    local e = tonumber(redis.call('HGET', KEYS[1], 'endingAt') or '0')
    if now - e > tonumber(ARGV[3]) then
      redis.call('HSET', KEYS[1], 'endingAt', now)
      res = 'claimed'
    end
  end
end
local f = redis.call('HMGET', KEYS[1], 'decidedAt', 'decidedBy', 'checks', 'lastCheck', 'lastCheckAt', 'ended')
for i = 1, 6 do if not f[i] then f[i] = '' end end
return {res, st, f[1], f[2], f[3], f[4], f[5], f[6]}
`)

// Decide moves a pending transaction to committed or rolled back, by "api"
// or "check", in one step that also claims the right to send its
// END_TRANSACTION: end is true for exactly one caller per decision (and
// again only after that caller's END_TRANSACTION failed, see MarkEnded, or
// its claim of endLease ran out). moved reports whether this call made the
// decision; deciding what is already decided is not a conflict. Anything
// else wraps ErrConflict and returns the current state. When tx is not nil
// it gets the record's state and decision fields as the step left them.
func (s *Store) Decide(ctx context.Context, id string, d broker.Decision, by string, endLease time.Duration, tx *Transaction) (moved, end bool, state State, err error) {
	to := Committed
	if d == broker.Rollback {
		to = RolledBack
	}
	res, prev, err := s.decide(ctx, id, string(to), by, endLease, tx)
	switch {
	case err != nil:
		return false, false, "", err
	case res == "moved":
		return true, true, to, nil
	case prev == to:
		return false, res == "claimed", to, nil
	}
	return false, false, prev, fmt.Errorf("%w: transaction %s is %s", ErrConflict, id, prev)
}

// ClaimEnd claims the right to send a decided transaction's
// END_TRANSACTION (see Decide); it returns the state and whether this
// caller holds the claim.
func (s *Store) ClaimEnd(ctx context.Context, id string, endLease time.Duration) (bool, State, error) {
	res, prev, err := s.decide(ctx, id, "", "", endLease, nil)
	return res == "claimed", prev, err
}

func (s *Store) decide(ctx context.Context, id, to, by string, endLease time.Duration, tx *Transaction) (string, State, error) {
	res, err := decideScript.Run(ctx, s.rdb, []string{txKey(id)}, to, by, endLease.Milliseconds()).StringSlice()
	if err != nil {
		return "", "", fmt.Errorf("txcallback: decide %s: %w", id, err)
	}
	if res[0] == "missing" {
		return "", "", ErrNotFound
	}
	if tx != nil && len(res) == 8 {
		tx.State = State(res[1])
		if res[0] == "moved" {
			tx.State = State(to)
		}
		tx.DecidedAt, tx.DecidedBy = fromMs(res[2]), res[3]
		tx.CheckCount, _ = strconv.Atoi(res[4])
		tx.LastCheck, tx.LastCheckAt, tx.Ended = res[5], fromMs(res[6]), res[7] == "1"
	}
	return res[0], State(res[1]), nil
}

// ExpireMaxChecks marks a still-pending transaction that the broker has
// stopped checking.
func (s *Store) ExpireMaxChecks(ctx context.Context, id string) (bool, error) {
	moved, _, err := s.transition(ctx, id, []State{Pending}, UnknownAfterMax, "decidedAt", nowMs(), "decidedBy", "check")
	return moved, err
}

// MarkEnded records that the broker acknowledged END_TRANSACTION; ok false
// gives the claim back (the next check-back or resolver pass sends it).
func (s *Store) MarkEnded(ctx context.Context, id string, ok bool) error {
	if ok {
		// Settled too: the resolver has nothing left to do for it.
		_, err := s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.HSet(ctx, txKey(id), "ended", 1)
			pipe.ZRem(ctx, pendingKey, id)
			return nil
		})
		return err
	}
	return s.rdb.HDel(ctx, txKey(id), "endingAt").Err()
}

// RecordCheck stores a check-back's count and the check webhook's outcome.
func (s *Store) RecordCheck(ctx context.Context, id string, count int, outcome string) error {
	pipe := s.rdb.TxPipeline()
	if count > 0 {
		pipe.HSet(ctx, txKey(id), "checks", count)
	}
	if outcome != "" {
		pipe.HSet(ctx, txKey(id), "lastCheck", outcome, "lastCheckAt", nowMs())
	}
	_, err := pipe.Exec(ctx)
	return err
}

// LockCheck takes the right to call the check webhook for id for ttl (an
// owner-token lease), so one replica calls it while the broker's check-backs
// reach several. ok is false when another caller holds it.
func (s *Store) LockCheck(ctx context.Context, id string, ttl time.Duration) (l lease.Lease, ok bool, err error) {
	return lease.Acquire(ctx, s.rdb, txLockKey(id), ttl)
}

// UnlockCheck gives the right back if l still holds it: a caller whose
// lease ran out never frees the next caller's.
func (s *Store) UnlockCheck(ctx context.Context, l lease.Lease) error {
	err := lease.Release(ctx, s.rdb, l)
	if errors.Is(err, lease.ErrNotHeld) {
		return nil
	}
	return err
}

// GetTx reads one transaction.
func (s *Store) GetTx(ctx context.Context, id string) (Transaction, error) {
	m, err := s.rdb.HGetAll(ctx, txKey(id)).Result()
	if err != nil {
		return Transaction{}, fmt.Errorf("txcallback: get transaction %s: %w", id, err)
	}
	if m["static"] == "" {
		return Transaction{}, ErrNotFound
	}
	var tx Transaction
	if err := json.Unmarshal([]byte(m["static"]), &tx); err != nil {
		return Transaction{}, fmt.Errorf("txcallback: decode transaction %s: %w", id, err)
	}
	tx.State = State(m["state"])
	tx.DecidedBy = m["decidedBy"]
	tx.DecidedAt = fromMs(m["decidedAt"])
	tx.CheckCount, _ = strconv.Atoi(m["checks"])
	tx.LastCheck = m["lastCheck"]
	tx.LastCheckAt = fromMs(m["lastCheckAt"])
	tx.Ended = m["ended"] == "1"
	tx.EndingAt = fromMs(m["endingAt"])
	tx.SendingAt = fromMs(m["sendingAt"])
	if h := m["half"]; h != "" {
		if err := json.Unmarshal([]byte(h), &tx.Half); err != nil {
			return Transaction{}, fmt.Errorf("txcallback: decode half of %s: %w", id, err)
		}
	}
	return tx, nil
}

// ListTx returns a tenant's transactions that keep accepts, newest first,
// older than the id cursor ("" for the first page), and the next cursor.
func (s *Store) ListTx(ctx context.Context, tenant, cursor string, limit int, keep func(Transaction) bool) ([]Transaction, string, error) {
	max := "+"
	if cursor != "" {
		max = "(" + cursor
	}
	var out []Transaction
	for {
		ids, err := s.rdb.ZRevRangeByLex(ctx, txIndexKey(tenant), &redis.ZRangeBy{Max: max, Min: "-", Count: int64(limit * 2)}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("txcallback: list transactions: %w", err)
		}
		if len(ids) == 0 {
			return out, "", nil
		}
		for _, id := range ids {
			tx, err := s.GetTx(ctx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, "", err
			}
			if keep(tx) {
				out = append(out, tx)
				if len(out) == limit {
					return out, id, nil
				}
			}
		}
		max = "(" + ids[len(ids)-1]
	}
}

func nowMs() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

func fromMs(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
