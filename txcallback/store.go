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
	"github.com/zeroloss/zeroloss/internal/rscript"
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
	// BornAt is when this record (or the retry that took it over) was
	// created, on Redis's clock: the resolver measures ages from it, never
	// from a replica's clock (CreatedAt is the beginning replica's).
	BornAt time.Time `json:"-"`
}

// Store keeps producers and transactions in Redis. Every script touches one
// key (a transaction's hash, or a tenant's producer hash), so it runs on
// Redis Cluster; the tenant's transaction index is a separate key written
// after the record it points to.
type Store struct {
	rdb    redis.UniversalClient
	ttl    time.Duration
	pipe   *rscript.Batcher // the state changes of concurrent transactions
	writer Writer
	touch  string // "1": scripts write even when they change nothing, so WAIT covers what they report
	// observeBatch, when set (before the first call), gets the number of
	// state changes sharing each Redis round trip.
	observeBatch func(changes int)
}

// Writer runs a script whose write must reach Redis's replicas before it
// counts (durable.Writer). Waits reports whether it waits at all.
type Writer interface {
	Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd
	Waits() bool
}

// NewStore returns a store whose transaction records expire ttl after they
// were created (keep it longer than the broker's whole check window).
func NewStore(rdb redis.UniversalClient, ttl time.Duration) *Store {
	s := &Store{rdb: rdb, ttl: ttl, touch: "0"}
	// Two pipelines in flight: a begin's CreateTx and SetHalf, and a
	// commit's Decide and MarkEnded, alternate with broker calls, so a
	// second pipeline keeps Redis busy while the first one's answer is read.
	s.pipe = rscript.NewBatcher(rdb, rscript.Config{MaxInFlight: 2, MaxBatch: 128, Yield: true, Observe: func(n int) {
		if s.observeBatch != nil {
			s.observeBatch(n)
		}
	}})
	return s
}

// WithWriter makes the writes that back an answer run through w: the half
// message's coordinates (SetHalf, behind a begin's 201), decisions and
// claims to end (Decide, ClaimEnd: behind a commit's 200 and before any
// END_TRANSACTION) and Confirm. durable.Writer follows each with WAIT, so a
// Redis failover cannot lose them; its ErrNotReplicated then comes back
// wrapped, and the caller must not acknowledge. It returns s.
func (s *Store) WithWriter(w Writer) *Store {
	s.writer = w
	if w != nil && w.Waits() {
		s.touch = "1"
	}
	return s
}

// run runs a state change: through the writer when it waits for replicas
// (each change then carries its own WAIT), else in the pipeline concurrent
// transactions share.
func (s *Store) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	return s.pipe.Write(ctx, s.writer, script, keys, args...)
}

// confirmScript writes the record's confirmedAt (when ARGV[1] is "1"), so
// the WAIT after it covers the record as it stands.
var confirmScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 0 end
if ARGV[1] == '1' then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'confirmedAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
return 1
`)

// Confirm makes sure the record of id, as read before, is on the replicas
// the writer waits for (a retried begin answering from the first attempt's
// record); without a waiting writer it does nothing.
func (s *Store) Confirm(ctx context.Context, id string) error {
	if s.touch != "1" {
		return nil
	}
	if err := s.run(ctx, confirmScript, []string{txKey(id)}, s.touch).Err(); err != nil {
		return fmt.Errorf("txcallback: confirm %s: %w", id, err)
	}
	return nil
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
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'sending', 'checks', 0, 'sendingAt', now, 'bornAt', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'created', ''}
end
local since = tonumber(redis.call('HGET', KEYS[1], 'sendingAt') or '0')
if st == 'aborted' or (st == 'sending' and now - since > tonumber(ARGV[3])) then
  -- The retry's record (its createdAt) replaces the first attempt's, so the
  -- resolver measures the check window from the half message now sent.
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'sending', 'sendingAt', now, 'bornAt', now)
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
// the resolver to look at it resolveIn from now (Redis's clock). A record
// with the same id is taken over when its begin failed or has been sending
// for longer than stuck; otherwise it is left alone and its state returned.
func (s *Store) CreateTx(ctx context.Context, tx Transaction, stuck, resolveIn time.Duration) (CreateOutcome, State, error) {
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
	var (
		res, sched *redis.Cmd
		index      redis.Cmder
	)
	if err := s.pipe.Do(ctx, func(p rscript.Pipe) {
		res = p.Eval(createScript, keys, args...)
		index = p.ZAdd(ctx, txIndexKey(tx.Tenant), redis.Z{Member: tx.ID})
		sched = p.Eval(scheduleScript, []string{pendingKey}, tx.ID, resolveIn.Milliseconds(), "")
	}); err != nil {
		return "", "", fmt.Errorf("txcallback: create transaction: %w", err)
	}
	if err := errors.Join(res.Err(), index.Err(), sched.Err()); err != nil {
		return "", "", fmt.Errorf("txcallback: create transaction: %w", err)
	}
	out, err := res.StringSlice()
	if err != nil || len(out) != 2 {
		return "", "", fmt.Errorf("txcallback: create transaction: unexpected answer %v: %w", res.Val(), err)
	}
	return CreateOutcome(out[0]), State(out[1]), nil
}

// createSentScript writes the record of a transaction whose half message
// was sent before any record existed (a begin without Idempotency-Key):
// pending with its coordinates (ARGV[3]), or aborted when ARGV[3] is empty
// (the send failed or went unconfirmed). An existing record is left alone
// (answer 0). Redis's clock stamps it.
var createSentScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '' then
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'aborted', 'checks', 0, 'sendingAt', now, 'bornAt', now, 'decidedAt', now)
else
  redis.call('HSET', KEYS[1], 'static', ARGV[1], 'state', 'pending', 'checks', 0, 'sendingAt', now, 'bornAt', now, 'half', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// CreateSent writes, in one round trip, the record of a transaction whose
// half message was sent before it had one: pending with the half's
// coordinates, its index entry and its resolver schedule (resolveIn from
// now, Redis's clock); or, with half nil (the send failed), aborted and
// indexed, so a copy the broker kept is rolled back on check-back. It is
// for transactions no retry can name (no Idempotency-Key): a record of
// the same id is an error (ErrConflict), never overwritten. The record
// goes through the writer when it waits for replicas (behind a begin's
// 201, like SetHalf).
func (s *Store) CreateSent(ctx context.Context, tx Transaction, half *broker.Half, resolveIn time.Duration) error {
	static, err := json.Marshal(tx)
	if err != nil {
		return fmt.Errorf("txcallback: encode transaction: %w", err)
	}
	hv := ""
	if half != nil {
		b, err := json.Marshal(half)
		if err != nil {
			return fmt.Errorf("txcallback: encode half: %w", err)
		}
		hv = string(b)
	}
	keys := []string{txKey(tx.ID)}
	args := []any{static, s.ttl.Milliseconds(), hv}
	var (
		res, sched *redis.Cmd
		index      redis.Cmder
	)
	waits := s.writer != nil && s.writer.Waits()
	// With a waiting writer the index entry and the schedule are written
	// first and the record last: its WAIT then covers all three (a
	// replica that has the record has what the master wrote before it),
	// so a failover after the 201 cannot keep the record and lose the
	// schedule that has the resolver look at it. A schedule whose record
	// never came is settled by the resolver (no record: dropped).
	if err := s.pipe.Do(ctx, func(p rscript.Pipe) {
		if !waits {
			res = p.Eval(createSentScript, keys, args...)
		}
		index = p.ZAdd(ctx, txIndexKey(tx.Tenant), redis.Z{Member: tx.ID})
		if half != nil {
			sched = p.Eval(scheduleScript, []string{pendingKey}, tx.ID, resolveIn.Milliseconds(), "")
		}
	}); err != nil {
		return fmt.Errorf("txcallback: create transaction %s: %w", tx.ID, err)
	}
	errs := []error{index.Err()}
	if sched != nil {
		errs = append(errs, sched.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("txcallback: create transaction %s: %w", tx.ID, err)
	}
	if waits {
		res = s.writer.Run(ctx, createSentScript, keys, args...)
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("txcallback: create transaction %s: %w", tx.ID, err)
	}
	if n, err := res.Int(); err != nil || n != 1 {
		return fmt.Errorf("%w: transaction %s exists (%v)", ErrConflict, tx.ID, err)
	}
	return nil
}

// TrimIndex drops index entries older than the record TTL.
func (s *Store) TrimIndex(ctx context.Context, tenant string) error {
	return s.rdb.ZRemRangeByLex(ctx, txIndexKey(tenant), "-", "("+idPrefix+ulidAt(time.Now().Add(-s.ttl))).Err()
}

// scheduleScript sets when the resolver looks at ARGV[1] next: ARGV[2] ms
// from now on Redis's clock; with ARGV[3] = 'XX' only if it is scheduled.
var scheduleScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == 'XX' then
  return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
end
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`)

// dueScript takes up to ARGV[1] transactions due now (Redis's clock) and
// pushes each ARGV[2] ms ahead, so another replica's pass meanwhile skips
// them; it answers the time it used, then the ids.
var dueScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id) end
table.insert(ids, 1, tostring(now))
return ids
`)

// Due takes up to limit transactions the resolver should look at now and
// schedules their next look again after; it returns them with Redis's
// current time, the clock every age is measured on.
func (s *Store) Due(ctx context.Context, limit int, again time.Duration) (time.Time, []string, error) {
	res, err := dueScript.Run(ctx, s.rdb, []string{pendingKey}, limit, again.Milliseconds()).StringSlice()
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("txcallback: due transactions: %w", err)
	}
	if len(res) == 0 {
		return time.Time{}, nil, errors.New("txcallback: due transactions: empty answer")
	}
	return fromMs(res[0]), res[1:], nil
}

// Settled removes id from the resolver's schedule.
func (s *Store) Settled(ctx context.Context, id string) error {
	return s.rdb.ZRem(ctx, pendingKey, id).Err()
}

// transition moves a record from one of the states in from (space
// separated) to to, setting extra fields (a value of nowValue becomes
// Redis's time in ms); it answers the state found. A missing record is
// not recreated.
var transitionScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'missing', ''} end
local t = redis.call('TIME')
local now = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
for s in string.gmatch(ARGV[1], '%S+') do
  if s == st then
    redis.call('HSET', KEYS[1], 'state', ARGV[2])
    for i = 3, #ARGV, 2 do
      local v = ARGV[i+1]
      if v == '` + nowValue + `' then v = now end
      redis.call('HSET', KEYS[1], ARGV[i], v)
    end
    return {'moved', st}
  end
end
return {'stayed', st}
`)

// nowValue stands for "Redis's time now" in a script's field values.
const nowValue = "$now"

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
	res, err := s.run(ctx, transitionScript, []string{txKey(id)}, args...).StringSlice()
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
	moved, _, err := s.transition(ctx, id, []State{Sending}, Aborted, "decidedAt", nowValue)
	return moved, err
}

// decideScript moves a pending record to ARGV[1] and claims the right to
// send its END_TRANSACTION (endingAt on Redis's clock, endBy = the claim's
// token ARGV[4]). On a record already in ARGV[1] it claims that right only
// when no END_TRANSACTION was acknowledged and no claim is held: none
// (given back after the broker refused an END), or one older than ARGV[3]
// ms (its END went unanswered, or its sender vanished, long enough ago that
// it can no longer land). It answers moved, claimed, same or stayed, with
// the state found.
// With ARGV[5] = "1" a same answer writes confirmedAt: WAIT counts only its
// own connection's writes, and the decision reported may have been written
// on another.
var decideScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'missing', ''} end
local res = 'stayed'
if st == 'pending' and ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'decidedAt', now, 'decidedBy', ARGV[2], 'endingAt', now, 'endBy', ARGV[4])
  res = 'moved'
elseif st == ARGV[1] or (ARGV[1] == '' and (st == 'committed' or st == 'rolled_back')) then
  res = 'same'
  if redis.call('HGET', KEYS[1], 'ended') ~= '1' then
    local e = tonumber(redis.call('HGET', KEYS[1], 'endingAt') or '0')
    if now - e > tonumber(ARGV[3]) then
      redis.call('HSET', KEYS[1], 'endingAt', now, 'endBy', ARGV[4])
      res = 'claimed'
    end
  end
  if res == 'same' and ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'confirmedAt', now) end
end
local f = redis.call('HMGET', KEYS[1], 'decidedAt', 'decidedBy', 'checks', 'lastCheck', 'lastCheckAt', 'ended')
for i = 1, 6 do if not f[i] then f[i] = '' end end
return {res, st, f[1], f[2], f[3], f[4], f[5], f[6]}
`)

// Decide moves a pending transaction to committed or rolled back, by "api"
// or "check", in one step that also claims the right to send its
// END_TRANSACTION under token: end is true for exactly one caller per
// decision, and again only after that claim was given back (EndRefused)
// or ran out (endLease after it was taken, long enough for an unanswered
// END to have landed or never to land). moved reports whether this call
// made the decision; deciding what is already decided is not a conflict.
// Anything else wraps ErrConflict and returns the current state. When tx
// is not nil it gets the record's state and decision fields as the step
// left them.
func (s *Store) Decide(ctx context.Context, id string, d broker.Decision, by, token string, endLease time.Duration, tx *Transaction) (moved, end bool, state State, err error) {
	to := Committed
	if d == broker.Rollback {
		to = RolledBack
	}
	res, prev, err := s.decide(ctx, id, string(to), by, token, endLease, tx)
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
// END_TRANSACTION under token (see Decide); it returns the state and
// whether this caller holds the claim.
func (s *Store) ClaimEnd(ctx context.Context, id, token string, endLease time.Duration) (bool, State, error) {
	res, prev, err := s.decide(ctx, id, "", "", token, endLease, nil)
	return res == "claimed", prev, err
}

func (s *Store) decide(ctx context.Context, id, to, by, token string, endLease time.Duration, tx *Transaction) (string, State, error) {
	res, err := s.run(ctx, decideScript, []string{txKey(id)}, to, by, endLease.Milliseconds(), token, s.touch).StringSlice()
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
	moved, _, err := s.transition(ctx, id, []State{Pending}, UnknownAfterMax, "decidedAt", nowValue, "decidedBy", "check")
	return moved, err
}

// endedScript marks an existing record's END_TRANSACTION acknowledged;
// a record that expired is not recreated (it would have no TTL).
var endedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ended', 1)
return 1
`)

// releaseScript gives back the END claim held under ARGV[1], and only that
// claim (a later claimer's is left alone).
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'endBy') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'endingAt', 'endBy')
return 1
`)

// MarkEnded records that the broker acknowledged END_TRANSACTION, and
// settles the transaction (the resolver has nothing left to do for it).
func (s *Store) MarkEnded(ctx context.Context, id string) error {
	var (
		ended *redis.Cmd
		zrem  redis.Cmder
	)
	if err := s.pipe.Do(ctx, func(p rscript.Pipe) {
		ended = p.Eval(endedScript, []string{txKey(id)})
		zrem = p.ZRem(ctx, pendingKey, id)
	}); err != nil {
		return fmt.Errorf("txcallback: mark %s ended: %w", id, err)
	}
	if err := errors.Join(ended.Err(), zrem.Err()); err != nil {
		return fmt.Errorf("txcallback: mark %s ended: %w", id, err)
	}
	return nil
}

// EndRefused gives back the END claim held under token, because the
// broker's answer proved that END_TRANSACTION did not take effect: the
// next check-back or resolver pass sends it again at once.
func (s *Store) EndRefused(ctx context.Context, id, token string) error {
	if err := s.pipe.Eval(ctx, releaseScript, []string{txKey(id)}, token).Err(); err != nil {
		return fmt.Errorf("txcallback: release the end claim of %s: %w", id, err)
	}
	return nil
}

// recordCheckScript stores a check-back's count (ARGV[1], when > 0) and a
// check webhook's outcome (ARGV[2], when set, stamped with Redis's time)
// on an existing record; an expired one is not recreated.
var recordCheckScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(ARGV[1]) > 0 then redis.call('HSET', KEYS[1], 'checks', ARGV[1]) end
if ARGV[2] ~= '' then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'lastCheck', ARGV[2], 'lastCheckAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
return 1
`)

// RecordCheck stores a check-back's count and the check webhook's outcome.
func (s *Store) RecordCheck(ctx context.Context, id string, count int, outcome string) error {
	if err := s.pipe.Eval(ctx, recordCheckScript, []string{txKey(id)}, count, outcome).Err(); err != nil {
		return fmt.Errorf("txcallback: record a check of %s: %w", id, err)
	}
	return nil
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
	tx.BornAt = fromMs(m["bornAt"])
	if tx.BornAt.IsZero() { // a record written before bornAt existed
		tx.BornAt = tx.CreatedAt
	}
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

func fromMs(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
