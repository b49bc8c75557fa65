// Package txcallback runs RocketMQ transactions for HTTP clients: it sends
// half messages, stores each transaction's state and broker coordinates in
// Redis, ends transactions from whichever gateway replica receives the
// decision, and answers the broker's check-backs from Redis or, while a
// transaction is undecided, by calling the producer's registered check
// webhook in the background.
//
// How a decision reaches the broker: the commit or rollback call first moves
// the transaction's state atomically in Redis (so the decision is durable
// and any replica's check-back answers it), then sends END_TRANSACTION
// straight to the current master of the broker group that stored the half
// message, using the coordinates recorded at begin (queue offset, commit-log
// offset, message id). RocketMQ accepts END_TRANSACTION from any connection,
// so this works on any replica, including after the replica that sent the
// half message died, and the message is consumable within one round trip. If
// the broker cannot be reached, the stored decision answers its next
// check-back. A second END_TRANSACTION for the same half message can make
// the broker deliver it twice with the same message id, so the decision and
// the right to send its END_TRANSACTION are taken in one Redis step: one
// END_TRANSACTION per decision, whichever replicas and check-backs race, and
// another only after the first failed or went unanswered.
//
// The gateway also resolves transactions itself (Resolve): any replica
// picks up transactions still undecided some seconds after begin, asks the
// producer's check URL and ends them; the broker's check-back stays as the
// backup.
package txcallback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/webhook"
)

// TxPropertyKey is the message property that links a half message to its
// transaction record; consumers see it on committed messages.
const TxPropertyKey = "ZL_TX"

// Broker sends half messages and ends transactions (broker.TxProducer).
type Broker interface {
	SendHalf(ctx context.Context, m broker.Message) (broker.Half, error)
	End(ctx context.Context, h broker.Half, d broker.Decision) error
}

// Caller makes signed webhook calls (webhook.Client).
type Caller interface {
	Do(ctx context.Context, req webhook.Request) (webhook.Response, error)
}

// Config tunes a Service.
type Config struct {
	// CheckMax is the broker's transactionCheckMax: a transaction still
	// undecided after that many check-backs is discarded by the broker.
	CheckMax int
	// MaxConcurrentChecks bounds check webhook calls in flight (from
	// check-backs and the resolver together); a call above the bound is
	// skipped and happens at the next check-back or resolver pass.
	MaxConcurrentChecks int
	// EndTimeout bounds how long a commit or rollback waits for the
	// broker's answer to END_TRANSACTION. The request itself waits longer
	// (EndWait) in the background, so a late answer is still recorded.
	EndTimeout time.Duration
	// EndWait bounds one END_TRANSACTION request (4 × EndTimeout by
	// default). Its claim is held until the answer is in, and, when none
	// came, for EndWait + endLanding after the claim: only then can another
	// END be sent (see endLease).
	EndWait time.Duration
	// AllowPrivateWebhooks lets check URLs point at loopback, private and
	// link-local addresses (tests, single-host setups).
	AllowPrivateWebhooks bool
	// SecretGrace is how long a rotated-out secret still signs.
	SecretGrace time.Duration
	// ResolveAfter is the age at which the resolver first asks the check
	// URL about an undecided transaction (well before the broker's first
	// check-back, transactionTimeOut, 6 s by default); later passes follow
	// every ResolveRetry. Zero turns the resolver's check URL calls off.
	ResolveAfter time.Duration
	ResolveRetry time.Duration
	// CheckWindow is how long after begin the broker has certainly given
	// up an undecided half message (transactionTimeOut + transactionCheckMax
	// × transactionCheckInterval, and some margin): a transaction still
	// undecided then becomes unknown_after_max_checks.
	CheckWindow time.Duration
	// SendBudget is the longest a half message send may take (all
	// attempts): a record still sending after it lost its sender, and is
	// aborted (or taken over by a retry with the same Idempotency-Key).
	SendBudget time.Duration
}

// Service runs transactions. It is safe for concurrent use.
type Service struct {
	// recordFirst: keyless begins write their record before the half
	// message, as keyed ones do (set by storeFailed, cleared by the next
	// record written).
	recordFirst atomic.Bool
	store       *Store
	mq          Broker
	hooks       Caller
	cfg         Config
	log         *slog.Logger
	metrics     *Metrics

	sem       chan struct{}
	producers sync.Map // tenant + "\x00" + id → time.Time it was seen (producerExists)
	recent    *recentTxs
	wg        sync.WaitGroup
	bg        context.Context
	stop      context.CancelFunc
	mu        sync.Mutex // guards closed against wg.Add
	closed    bool
}

// New returns a Service.
func New(store *Store, mq Broker, hooks Caller, cfg Config, log *slog.Logger, m *Metrics) *Service {
	if cfg.CheckMax <= 0 {
		cfg.CheckMax = 15
	}
	if cfg.MaxConcurrentChecks <= 0 {
		cfg.MaxConcurrentChecks = 64
	}
	if cfg.SecretGrace <= 0 {
		cfg.SecretGrace = 24 * time.Hour
	}
	if cfg.EndTimeout <= 0 {
		cfg.EndTimeout = 3 * time.Second
	}
	if cfg.EndWait < cfg.EndTimeout {
		cfg.EndWait = 4 * cfg.EndTimeout
	}
	if cfg.ResolveRetry <= 0 {
		cfg.ResolveRetry = 5 * time.Second
	}
	if cfg.CheckWindow <= 0 {
		cfg.CheckWindow = 10 * time.Minute
	}
	if cfg.SendBudget <= 0 {
		cfg.SendBudget = 15 * time.Second
	}
	if m != nil && store.observeBatch == nil {
		store.observeBatch = func(n int) { m.RedisBatch.Observe(float64(n)) }
	}
	bg, stop := context.WithCancel(context.Background())
	return &Service{store: store, mq: mq, hooks: hooks, cfg: cfg, log: log, metrics: m,
		sem: make(chan struct{}, cfg.MaxConcurrentChecks), bg: bg, stop: stop, recent: newRecentTxs(8192)}
}

// endLanding bounds how long after its sender stopped waiting an
// unanswered END_TRANSACTION can still take effect: a broker answers
// SYSTEM_BUSY to, and never runs, an END that waited longer than
// waitTimeMillsInTransactionQueue (3 s by default) in its queue
// (BrokerFastFailure); the rest is margin for the network.
const endLanding = 10 * time.Second

// endLease is how long a claim to send END_TRANSACTION keeps others off
// when its outcome stays unknown (no answer): the END may land until
// then, so another one sent earlier could deliver the message twice. A
// claim whose END was answered is settled or given back at once.
func (s *Service) endLease() time.Duration { return s.cfg.EndWait + endLanding }

// resolveAge is the age at which the resolver asks the check URL about tx.
func (s *Service) resolveAge(tx Transaction) time.Duration {
	return max(s.cfg.ResolveAfter, tx.CheckAfter)
}

// firstLook is how long after begin the resolver first looks at tx.
func (s *Service) firstLook(tx Transaction) time.Duration {
	if s.cfg.ResolveAfter > 0 {
		return s.resolveAge(tx)
	}
	return s.cfg.SendBudget
}

// Close stops starting check webhook calls and waits (until ctx ends) for
// those in flight; then it cancels them.
func (s *Service) Close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.stop()
}

// producerTTL is how long a replica trusts that a producer it has seen
// exists: a begin on another replica within it of the producer's deletion
// is still accepted (its check URL calls then find no producer).
const producerTTL = 2 * time.Second

// producerExists reports ErrProducerNotFound for an unknown producer,
// remembering a found one for producerTTL (one Redis round trip less per
// begin).
func (s *Service) producerExists(ctx context.Context, tenant, id string) error {
	key := tenant + "\x00" + id
	if at, ok := s.producers.Load(key); ok && time.Since(at.(time.Time)) < producerTTL {
		return nil
	}
	if _, err := s.store.GetProducer(ctx, tenant, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrProducerNotFound
		}
		return err
	}
	s.producers.Store(key, time.Now())
	return nil
}

// Errors of the service.
var (
	ErrProducerNotFound = errors.New("txcallback: producer not found")
	ErrTxNotFound       = errors.New("txcallback: transaction not found")
	// ErrBeginInProgress means a begin with the same id (the same
	// Idempotency-Key) is still sending its half message.
	ErrBeginInProgress = errors.New("txcallback: a begin with this id is in progress")
)

// BeginInput is a new transaction.
type BeginInput struct {
	// ID, when set (IDFromSeed), makes a retry of the same request reuse
	// the transaction; otherwise a fresh id is drawn.
	ID         string
	Tenant     string
	ProducerID string
	MessageID  string
	Topic      string
	Body       []byte
	Tag        string
	Keys       []string
	Properties map[string]string
	CheckAfter time.Duration
}

// Begin records the transaction, then sends its half message; it returns
// the pending transaction only when the broker answered SEND_OK and the
// coordinates are stored. A failed send leaves the record aborted, so a
// half copy the broker kept is rolled back on check-back. A retry with the
// same ID gets the transaction the first attempt made: as it is when that
// attempt got its half message stored, sent again (same message id) when
// it failed or its sender vanished.
func (s *Service) Begin(ctx context.Context, in BeginInput) (Transaction, error) {
	if err := s.producerExists(ctx, in.Tenant, in.ProducerID); err != nil {
		return Transaction{}, err
	}
	id := in.ID
	if id == "" {
		id = newID(idPrefix)
	}
	now := time.Now().UTC()
	tx := Transaction{
		ID: id, Tenant: in.Tenant, ProducerID: in.ProducerID, Topic: in.Topic, Tag: in.Tag,
		Keys: in.Keys, Properties: in.Properties, MessageID: in.MessageID, CreatedAt: now, State: Sending,
		CheckAfter: in.CheckAfter,
	}
	if in.ID == "" && !s.recordFirst.Load() {
		return s.beginFresh(ctx, in, tx)
	}
	out, prev, err := s.store.CreateTx(ctx, tx, s.cfg.SendBudget, s.firstLook(tx))
	if err != nil {
		return Transaction{}, err
	}
	if s.recordFirst.CompareAndSwap(true, false) {
		s.log.Info("txcallback: transaction records are written again; begins without Idempotency-Key send first again")
	}
	if out == Exists {
		if prev == Sending {
			return Transaction{}, ErrBeginInProgress
		}
		got, err := s.Get(ctx, in.Tenant, id)
		if err != nil {
			return Transaction{}, err
		}
		if got.MessageID != in.MessageID || got.ProducerID != in.ProducerID || got.Topic != in.Topic {
			return Transaction{}, fmt.Errorf("%w: transaction %s exists with other contents", ErrConflict, id)
		}
		// The first attempt's record may be on the master only (its
		// answer was a 503 when the replicas did not confirm it).
		if err := s.store.Confirm(ctx, id); err != nil {
			return Transaction{}, err
		}
		return got, nil
	}
	half, err := s.sendHalf(ctx, in, tx.ID)
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if _, aerr := s.store.Abort(actx, tx.ID); aerr != nil {
			s.log.Error("txcallback: mark aborted; the resolver aborts it once its send budget has passed",
				slog.String("transaction", tx.ID), slog.Any("error", aerr))
		} else {
			_ = s.store.Settled(actx, tx.ID)
		}
		s.metrics.Transactions.WithLabelValues(string(Aborted)).Inc()
		return Transaction{}, err
	}
	if err := s.store.SetHalf(ctx, tx.ID, half); err != nil {
		return Transaction{}, fmt.Errorf("txcallback: record half message of %s: %w", tx.ID, err)
	}
	return s.begun(ctx, tx, half), nil
}

// beginFresh begins a transaction no retry can name (no Idempotency-Key,
// so its id is new): the half message is sent first and the record written
// after, pending with the half's coordinates, in one Redis round trip
// (CreateSent) instead of two (CreateTx before the send, SetHalf after);
// a begin the broker refused or whose topic does not exist (nothing
// stored) leaves no record at all.
// Nothing needs the record earlier: no other request knows the id, and a
// check-back that comes before it (a broker checks a half message seconds
// after it was stored, never before transactionTimeOut) finds no record
// and answers unknown, so the broker asks again. A send that may have
// stored the half message (unconfirmed) leaves an aborted record (a copy the broker kept is rolled back on check-back).
// A replica dying between the send and the record, or a record that
// cannot be written, leaves a half message whose check-backs find no
// record (unknown) until the broker discards it: never delivered, and no
// client was answered 201 for it. After a record could not be written,
// keyless begins take the keyed order until one is (storeFailed), so an
// outage of Redis leaves such half messages only for the begins already
// past that check, not one per begin for as long as it lasts.
func (s *Service) beginFresh(ctx context.Context, in BeginInput, tx Transaction) (Transaction, error) {
	half, err := s.sendHalf(ctx, in, tx.ID)
	if errors.Is(err, broker.ErrRejected) || errors.Is(err, broker.ErrTopicNotFound) {
		// Nothing stored: no check-back will ask, no record is needed, and
		// no transaction was begun (none is counted).
		return Transaction{}, err
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if cerr := s.store.CreateSent(actx, tx, nil, 0); cerr != nil {
			s.storeFailed(tx.ID, cerr)
			s.log.Warn("txcallback: record an aborted begin; a copy the broker kept is checked back as unknown until it discards it",
				slog.String("transaction", tx.ID), slog.Any("error", cerr))
		}
		s.metrics.Transactions.WithLabelValues(string(Aborted)).Inc()
		return Transaction{}, err
	}
	if err := s.store.CreateSent(ctx, tx, &half, s.firstLook(tx)); err != nil {
		// Not rolled back here: the record may exist all the same (an
		// answer lost, or written but not confirmed by the replicas), and
		// a decision stored on it later would then meet a half message
		// already ended. As when SetHalf fails after a keyed begin's send.
		if ctx.Err() == nil { // not a client that went away
			s.storeFailed(tx.ID, err)
		}
		return Transaction{}, fmt.Errorf("txcallback: record half message of %s: %w", tx.ID, err)
	}
	return s.begun(ctx, tx, half), nil
}

// storeFailed notes that a begin without Idempotency-Key sent its half
// message and then could not write its record (err): Redis is unreachable
// or not confirming writes. Until a record is written again, such begins
// write their record first, as keyed ones do, so that while Redis is down
// they fail before sending and leave no half message behind for the
// broker to check back (each of those is asked about transactionCheckMax
// times, finds no record, and is discarded). A conflict is not Redis
// failing.
func (s *Service) storeFailed(id string, err error) {
	if errors.Is(err, ErrConflict) {
		return
	}
	if !s.recordFirst.Swap(true) {
		s.log.Warn("txcallback: a transaction record could not be written after its half message was sent; until one is, begins without Idempotency-Key write their record first",
			slog.String("transaction", id), slog.Any("error", err))
	}
}

// sendHalf sends in's message as the half message of transaction id.
func (s *Service) sendHalf(ctx context.Context, in BeginInput, id string) (broker.Half, error) {
	props := make(map[string]string, len(in.Properties)+2)
	for k, v := range in.Properties {
		props[k] = v
	}
	props[TxPropertyKey] = id
	if in.CheckAfter > 0 {
		props["CHECK_IMMUNITY_TIME_IN_SECONDS"] = strconv.Itoa(int(in.CheckAfter.Seconds()))
	}
	half, err := s.mq.SendHalf(ctx, broker.Message{ID: in.MessageID, Topic: in.Topic, Body: in.Body, Tag: in.Tag, Keys: in.Keys, Properties: props})
	if errors.Is(err, broker.ErrNotRegistered) {
		// Stored; the broker's check-back may not reach this group yet,
		// the resolver covers the transaction meanwhile.
		s.log.Warn("txcallback: half message stored on a broker not yet registered for check-backs",
			slog.String("transaction", id), slog.Any("error", err))
		err = nil
	}
	return half, err
}

// begun finishes a begin whose record is pending with half.
func (s *Service) begun(ctx context.Context, tx Transaction, half broker.Half) Transaction {
	s.metrics.Transactions.WithLabelValues(string(Pending)).Inc()
	tx.State, tx.Half = Pending, half
	s.recent.put(tx)
	if rand.IntN(64) == 0 { // now and then, not a round trip per begin
		if err := s.store.TrimIndex(ctx, tx.Tenant); err != nil {
			s.log.Warn("txcallback: trim the transaction index", slog.Any("error", err))
		}
	}
	return tx
}

// Get returns a tenant's transaction.
func (s *Service) Get(ctx context.Context, tenant, id string) (Transaction, error) {
	tx, err := s.store.GetTx(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && tx.Tenant != tenant {
		return Transaction{}, ErrTxNotFound
	}
	return tx, err
}

// Decide commits or rolls back a tenant's transaction. authorize vets the
// caller for the transaction's topic. Deciding what is already decided the
// same way succeeds (and sends END_TRANSACTION again only if the first one
// failed); anything else wraps ErrConflict with the transaction.
func (s *Service) Decide(ctx context.Context, tenant, id string, d broker.Decision, authorize func(topic string) error) (Transaction, error) {
	// The record's fixed part (tenant, topic, broker coordinates) never
	// changes once pending: a transaction begun here is not read again.
	tx, ok := s.recent.get(id)
	if !ok || tx.Tenant != tenant {
		var err error
		if tx, err = s.Get(ctx, tenant, id); err != nil {
			return Transaction{}, err
		}
	}
	if err := authorize(tx.Topic); err != nil {
		return Transaction{}, err
	}
	token := newToken()
	moved, end, state, err := s.store.Decide(ctx, id, d, "api", token, s.endLease(), &tx)
	if errors.Is(err, ErrNotFound) {
		return Transaction{}, ErrTxNotFound
	}
	if err != nil {
		tx.State = state
		return tx, err
	}
	if moved {
		s.decided(tx, state)
	}
	if end {
		tx.Ended = s.end(ctx, tx.ID, token, tx.Half, d)
	}
	return tx, nil
}

func (s *Service) decided(tx Transaction, state State) {
	s.metrics.Transactions.WithLabelValues(string(state)).Inc()
	s.metrics.DecisionSeconds.Observe(time.Since(tx.CreatedAt).Seconds())
}

// newToken names one END claim (see Store.Decide).
func newToken() string { return strconv.FormatUint(rand.Uint64(), 36) }

// end sends END_TRANSACTION for h under the claim token (Decide,
// ClaimEnd) and waits up to EndTimeout for the broker's answer; it reports
// whether the broker acknowledged it by then. The request runs on in the
// background up to EndWait, and its outcome decides what becomes of the
// claim, whenever it comes:
//
//   - acknowledged: the transaction is marked ended (and settled);
//   - refused (the broker answered an error, or nothing was sent): the END
//     did not take effect, the claim is given back, and the next check-back
//     or resolver pass sends it again;
//   - no answer: the END may still land, so the claim stays held until
//     endLease runs out (on Redis's clock); until then no other END is sent,
//     and check-backs in the meantime answer nothing (unknown).
func (s *Service) end(ctx context.Context, id, token string, h broker.Half, d broker.Decision) bool {
	done := make(chan error, 1)
	s.mu.Lock()
	tracked := !s.closed // Close waits for it
	if tracked {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	go func() {
		if tracked {
			defer s.wg.Done()
		}
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.EndWait)
		defer cancel()
		err := s.mq.End(ectx, h, d)
		done <- err
		s.endOutcome(id, token, d, err)
	}()
	t := time.NewTimer(s.cfg.EndTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err == nil
	case <-t.C:
		return false
	}
}

// endOutcome records what became of an END_TRANSACTION sent under token.
func (s *Service) endOutcome(id, token string, d broker.Decision, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var serr error
	switch {
	case err == nil:
		serr = s.store.MarkEnded(ctx, id)
	case errors.Is(err, broker.ErrEndRefused):
		s.metrics.EndFailures.Inc()
		s.log.Warn("txcallback: END_TRANSACTION refused; a check-back or the resolver sends it again",
			slog.String("transaction", id), slog.String("decision", d.String()), slog.Any("error", err))
		serr = s.store.EndRefused(ctx, id, token)
	default:
		s.metrics.EndFailures.Inc()
		s.log.Warn("txcallback: END_TRANSACTION unanswered; it may still land, so no other is sent before its claim runs out",
			slog.String("transaction", id), slog.String("decision", d.String()), slog.Duration("claimFor", s.endLease()), slog.Any("error", err))
	}
	if serr != nil {
		s.log.Warn("txcallback: record the END_TRANSACTION outcome", slog.String("transaction", id), slog.Any("error", serr))
	}
}

// List returns a tenant's transactions filtered by producer and state.
func (s *Service) List(ctx context.Context, tenant, producer string, state State, cursor string, limit int) ([]Transaction, string, error) {
	return s.store.ListTx(ctx, tenant, cursor, limit, func(tx Transaction) bool {
		st := tx.State
		if st == Sending {
			st = Pending
		}
		return (producer == "" || tx.ProducerID == producer) && (state == "" || st == state)
	})
}

// Check handles a broker check-back (a broker.Checker) from Redis: a
// decided transaction is ended with the checked copy's coordinates when no
// END_TRANSACTION is acknowledged or under way (else nothing is sent: the
// broker asks again and finds it ended); an undecided one gets its check
// webhook called in the background. Every doubt answers nothing (unknown),
// never commit.
func (s *Service) Check(ctx context.Context, req broker.CheckRequest) {
	answer := s.check(ctx, req)
	s.metrics.CheckBacks.WithLabelValues(answer).Inc()
}

func (s *Service) check(ctx context.Context, req broker.CheckRequest) string {
	id := req.Properties[TxPropertyKey]
	if id == "" {
		s.log.Warn("txcallback: check-back of a half message without a transaction id", slog.String("messageId", req.MessageID))
		return "unknown"
	}
	tx, err := s.store.GetTx(ctx, id)
	if err != nil {
		s.log.Warn("txcallback: check-back: read transaction", slog.String("transaction", id), slog.Any("error", err))
		return "unknown"
	}
	if req.CheckTimes > 0 {
		_ = s.store.RecordCheck(ctx, id, req.CheckTimes, "")
	}
	switch tx.State {
	case Committed, RolledBack:
		// The broker writes its "ended" marks in batches, so it may still
		// check a half message it has just ended; a second commit would
		// deliver it twice. Only the holder of the end claim sends.
		token := newToken()
		claimed, state, err := s.store.ClaimEnd(ctx, id, token, s.endLease())
		if err != nil || !claimed {
			return "unknown"
		}
		d := broker.Commit
		if state == RolledBack {
			d = broker.Rollback
		}
		s.end(ctx, id, token, req.Half, d)
		return d.String()
	case Aborted:
		// No client was told this transaction exists: roll the copy back
		// (repeating a rollback is harmless).
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.EndTimeout)
		defer cancel()
		if err := s.mq.End(ectx, req.Half, broker.Rollback); err != nil {
			s.metrics.EndFailures.Inc()
		}
		return "rollback"
	case Pending:
		if req.CheckTimes >= s.cfg.CheckMax {
			s.callLater(tx, req.CheckTimes, true)
		} else {
			s.callLater(tx, req.CheckTimes, false)
		}
	}
	return "unknown"
}

// callLater calls the check webhook in the background, within the bound
// on calls in flight; above it the call is skipped (the next check-back or
// resolver pass asks again). last marks the broker's last check-back.
func (s *Service) callLater(tx Transaction, checkTimes int, last bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case s.sem <- struct{}{}:
	default:
		// Not asked: the transaction stays pending (the resolver asks
		// again and expires it only after the check window), never
		// expired on a question nobody put to the producer.
		s.metrics.CheckWebhook.WithLabelValues("busy").Inc()
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		// Only an answer of the producer's ends it as undecided: a check
		// another replica is making (its answer may still commit) or a
		// failed producer lookup is no answer.
		if d, asked := s.callCheck(tx, checkTimes); d == broker.Unknown && asked && last {
			s.expire(tx, checkTimes)
		}
	}()
	return true
}

// checkBody is the check webhook's request body (CheckRequest in the contract).
type checkBody struct {
	TransactionID string            `json:"transactionId"`
	MessageID     string            `json:"messageId"`
	Producer      string            `json:"producer"`
	Topic         string            `json:"topic"`
	Tag           string            `json:"tag,omitempty"`
	Keys          []string          `json:"keys,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
	CheckCount    int               `json:"checkCount"`
}

// callCheck asks the producer's check URL about tx (one replica at a time
// per transaction) and, on commit or rollback, stores the decision and
// ends the transaction; it returns the decision reached (Unknown when
// none) and whether the producer was asked at all (false when another
// replica is asking or the producer could not be read).
func (s *Service) callCheck(tx Transaction, checkTimes int) (broker.Decision, bool) {
	p, err := s.store.GetProducer(s.bg, tx.Tenant, tx.ProducerID)
	if err != nil {
		s.recordOutcome(tx, "no_producer")
		return broker.Unknown, !errors.Is(err, ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(s.bg, p.Timeout+2*time.Second+s.cfg.EndTimeout)
	defer cancel()
	held, ok, err := s.store.LockCheck(ctx, tx.ID, p.Timeout+2*time.Second)
	if err != nil || !ok {
		return broker.Unknown, false // another replica is asking
	}
	defer func() { _ = s.store.UnlockCheck(context.WithoutCancel(ctx), held) }()

	body, _ := json.Marshal(checkBody{TransactionID: tx.ID, MessageID: tx.MessageID, Producer: tx.ProducerID,
		Topic: tx.Topic, Tag: tx.Tag, Keys: tx.Keys, Properties: tx.Properties, CheckCount: checkTimes})
	cctx, ccancel := context.WithTimeout(ctx, p.Timeout)
	start := time.Now()
	resp, err := s.hooks.Do(cctx, webhook.Request{URL: p.CheckURL, ID: fmt.Sprintf("chk_%s_%d", tx.ID, time.Now().UnixMilli()), Body: body, Secrets: p.Secrets(time.Now())})
	ccancel()
	s.metrics.CheckWebhookSeconds.Observe(time.Since(start).Seconds())
	d, outcome := parseCheckAnswer(resp, err)
	s.metrics.CheckWebhook.WithLabelValues(outcome).Inc()
	s.recordOutcome(tx, outcome)
	if d == broker.Unknown {
		return broker.Unknown, true
	}
	token := newToken()
	moved, end, state, err := s.store.Decide(ctx, tx.ID, d, "check", token, s.endLease(), nil)
	if errors.Is(err, ErrConflict) {
		s.log.Info("txcallback: check webhook answered after the transaction was decided",
			slog.String("transaction", tx.ID), slog.String("state", string(state)), slog.String("answer", d.String()))
		return broker.Unknown, true
	}
	if err != nil {
		// Not stored durably (Redis down or its replicas silent): no
		// END_TRANSACTION; the next check-back or resolver pass asks again.
		s.log.Warn("txcallback: store the check webhook's decision", slog.String("transaction", tx.ID), slog.Any("error", err))
		return broker.Unknown, false
	}
	if moved {
		s.decided(tx, state)
	}
	if end {
		s.end(ctx, tx.ID, token, tx.Half, d)
	}
	return d, true
}

func (s *Service) recordOutcome(tx Transaction, outcome string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 2*time.Second)
	defer cancel()
	_ = s.store.RecordCheck(ctx, tx.ID, 0, outcome)
}

// expire marks a transaction the broker will not check again (or has
// discarded): the terminal unknown_after_max_checks, logged as an error.
func (s *Service) expire(tx Transaction, checkTimes int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 2*time.Second)
	defer cancel()
	if moved, err := s.store.ExpireMaxChecks(ctx, tx.ID); err == nil && moved {
		_ = s.store.Settled(ctx, tx.ID)
		s.metrics.Transactions.WithLabelValues(string(UnknownAfterMax)).Inc()
		s.log.Error("txcallback: transaction undecided past the broker's check-backs; the broker discards its half message, which is never delivered",
			slog.String("transaction", tx.ID), slog.String("messageId", tx.MessageID), slog.String("topic", tx.Topic),
			slog.Int("checks", checkTimes), slog.Time("createdAt", tx.CreatedAt))
	}
}

// parseCheckAnswer maps a check webhook's answer: a 2xx with a JSON
// {"decision": "commit"|"rollback"|"unknown"}; anything else is unknown.
func parseCheckAnswer(resp webhook.Response, err error) (broker.Decision, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return broker.Unknown, "timeout"
	case err != nil:
		return broker.Unknown, "unreachable"
	case resp.Status < 200 || resp.Status > 299:
		return broker.Unknown, "http_" + strconv.Itoa(resp.Status)
	}
	var a struct {
		Decision string `json:"decision"`
	}
	if json.Unmarshal(resp.Body, &a) != nil {
		return broker.Unknown, "bad_body"
	}
	switch a.Decision {
	case "commit":
		return broker.Commit, "commit"
	case "rollback":
		return broker.Rollback, "rollback"
	case "unknown":
		return broker.Unknown, "unknown"
	}
	return broker.Unknown, "bad_body"
}
