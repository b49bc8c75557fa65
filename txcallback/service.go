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
// the broker deliver it twice with the same message id; consumers
// deduplicate on the id, as they must for any RocketMQ delivery.
package txcallback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/zeroloss/zeroloss/broker"
	"github.com/zeroloss/zeroloss/webhook"
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
	// MaxConcurrentChecks bounds check webhook calls in flight.
	MaxConcurrentChecks int
	// EndTimeout bounds one END_TRANSACTION.
	EndTimeout time.Duration
	// AllowPrivateWebhooks lets check URLs point at loopback, private and
	// link-local addresses (tests, single-host setups).
	AllowPrivateWebhooks bool
	// SecretGrace is how long a rotated-out secret still signs.
	SecretGrace time.Duration
}

// Service runs transactions. It is safe for concurrent use.
type Service struct {
	store   *Store
	mq      Broker
	hooks   Caller
	cfg     Config
	log     *slog.Logger
	metrics *Metrics

	sem    chan struct{}
	wg     sync.WaitGroup
	bg     context.Context
	stop   context.CancelFunc
	mu     sync.Mutex // guards closed against wg.Add
	closed bool
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
	bg, stop := context.WithCancel(context.Background())
	return &Service{store: store, mq: mq, hooks: hooks, cfg: cfg, log: log, metrics: m,
		sem: make(chan struct{}, cfg.MaxConcurrentChecks), bg: bg, stop: stop}
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

// Errors of the service.
var (
	ErrProducerNotFound = errors.New("txcallback: producer not found")
	ErrTxNotFound       = errors.New("txcallback: transaction not found")
)

// BeginInput is a new transaction.
type BeginInput struct {
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
// half copy the broker kept is rolled back on check-back.
func (s *Service) Begin(ctx context.Context, in BeginInput) (Transaction, error) {
	if _, err := s.store.GetProducer(ctx, in.Tenant, in.ProducerID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Transaction{}, ErrProducerNotFound
		}
		return Transaction{}, err
	}
	tx := Transaction{
		ID: newID(idPrefix), Tenant: in.Tenant, ProducerID: in.ProducerID, Topic: in.Topic, Tag: in.Tag,
		Keys: in.Keys, Properties: in.Properties, MessageID: in.MessageID, CreatedAt: time.Now().UTC(), State: Sending,
	}
	if err := s.store.CreateTx(ctx, tx); err != nil {
		return Transaction{}, err
	}
	props := make(map[string]string, len(in.Properties)+2)
	for k, v := range in.Properties {
		props[k] = v
	}
	props[TxPropertyKey] = tx.ID
	if in.CheckAfter > 0 {
		props["CHECK_IMMUNITY_TIME_IN_SECONDS"] = strconv.Itoa(int(in.CheckAfter.Seconds()))
	}
	half, err := s.mq.SendHalf(ctx, broker.Message{ID: in.MessageID, Topic: in.Topic, Body: in.Body, Tag: in.Tag, Keys: in.Keys, Properties: props})
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if aerr := s.store.Abort(actx, tx.ID); aerr != nil {
			s.log.Error("txcallback: mark aborted; a stored half copy will stay undecided until the broker discards it",
				slog.String("transaction", tx.ID), slog.Any("error", aerr))
		}
		s.metrics.Transactions.WithLabelValues(string(Aborted)).Inc()
		return Transaction{}, err
	}
	if err := s.store.SetHalf(ctx, tx.ID, half); err != nil {
		return Transaction{}, fmt.Errorf("txcallback: record half message of %s: %w", tx.ID, err)
	}
	s.metrics.Transactions.WithLabelValues(string(Pending)).Inc()
	tx.State, tx.Half = Pending, half
	return tx, nil
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
// same way succeeds; anything else wraps ErrConflict with the transaction.
func (s *Service) Decide(ctx context.Context, tenant, id string, d broker.Decision, authorize func(topic string) error) (Transaction, error) {
	tx, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Transaction{}, err
	}
	if err := authorize(tx.Topic); err != nil {
		return Transaction{}, err
	}
	moved, state, err := s.store.Decide(ctx, id, d, "api")
	if err != nil {
		tx.State = state
		return tx, err
	}
	if moved {
		s.metrics.Transactions.WithLabelValues(string(state)).Inc()
		s.metrics.DecisionSeconds.Observe(time.Since(tx.CreatedAt).Seconds())
	}
	if moved || !tx.Ended {
		s.end(ctx, tx, d)
	}
	return s.store.GetTx(ctx, id)
}

// end tells the broker; on failure the stored decision answers the next
// check-back. While END_TRANSACTION is on its way and after the broker
// acknowledged it, check-backs of a commit answer unknown (see check).
func (s *Service) end(ctx context.Context, tx Transaction, d broker.Decision) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.EndTimeout)
	defer cancel()
	if err := s.store.MarkEnding(ctx, tx.ID); err != nil {
		s.log.Warn("txcallback: mark ending", slog.String("transaction", tx.ID), slog.Any("error", err))
	}
	err := s.mq.End(ctx, tx.Half, d)
	if err != nil {
		s.metrics.EndFailures.Inc()
		s.log.Warn("txcallback: END_TRANSACTION not acknowledged; the broker's check-back will get the stored decision",
			slog.String("transaction", tx.ID), slog.String("decision", d.String()), slog.Any("error", err))
	}
	mctx, mcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer mcancel()
	if merr := s.store.MarkEnded(mctx, tx.ID, err == nil); merr != nil {
		s.log.Warn("txcallback: mark ended", slog.String("transaction", tx.ID), slog.Any("error", merr))
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

// Check answers a broker check-back (a broker.Checker). It reads Redis
// only; an undecided transaction answers Unknown and its producer's check
// webhook is called in the background, whose decision is stored and sent to
// the broker. Every doubt is Unknown, never Commit.
func (s *Service) Check(ctx context.Context, req broker.CheckRequest) broker.Decision {
	d := s.check(ctx, req)
	s.metrics.CheckBacks.WithLabelValues(d.String()).Inc()
	return d
}

func (s *Service) check(ctx context.Context, req broker.CheckRequest) broker.Decision {
	id := req.Properties[TxPropertyKey]
	if id == "" {
		s.log.Warn("txcallback: check-back of a half message without a transaction id", slog.String("messageId", req.MessageID))
		return broker.Unknown
	}
	tx, err := s.store.GetTx(ctx, id)
	if err != nil {
		s.log.Warn("txcallback: check-back: read transaction", slog.String("transaction", id), slog.Any("error", err))
		return broker.Unknown
	}
	if req.CheckTimes > 0 {
		_ = s.store.RecordCheck(ctx, id, req.CheckTimes, "")
	}
	switch tx.State {
	case Committed:
		// The broker writes its "ended" marks in batches, so it may still
		// check a half message it has just committed; answering commit
		// again would deliver it twice. Once END_TRANSACTION is on its way
		// or acknowledged, the message is consumable: answer unknown (a
		// second half copy of a retried send is then discarded by the
		// broker after its last check, which is what dedup wants). If
		// END_TRANSACTION failed, ending is cleared and the check commits.
		if tx.Ended || time.Since(tx.EndingAt) < 2*s.cfg.EndTimeout {
			return broker.Unknown
		}
		return broker.Commit
	case RolledBack, Aborted:
		return broker.Rollback
	case Pending:
		s.callLater(tx, req.CheckTimes)
	}
	return broker.Unknown
}

func (s *Service) callLater(tx Transaction, checkTimes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		s.metrics.CheckWebhook.WithLabelValues("busy").Inc()
		return // the broker checks again
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		s.callCheck(tx, checkTimes)
	}()
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

func (s *Service) callCheck(tx Transaction, checkTimes int) {
	p, err := s.store.GetProducer(s.bg, tx.Tenant, tx.ProducerID)
	if err != nil {
		s.recordOutcome(tx, "no_producer")
		s.expireIfLast(tx, checkTimes)
		return
	}
	ctx, cancel := context.WithTimeout(s.bg, p.Timeout+2*time.Second)
	defer cancel()
	ok, err := s.store.LockCheck(ctx, tx.ID, p.Timeout+2*time.Second)
	if err != nil || !ok {
		return // another replica is asking
	}
	defer func() { _ = s.store.UnlockCheck(context.WithoutCancel(ctx), tx.ID) }()

	body, _ := json.Marshal(checkBody{TransactionID: tx.ID, MessageID: tx.MessageID, Producer: tx.ProducerID,
		Topic: tx.Topic, Tag: tx.Tag, Keys: tx.Keys, Properties: tx.Properties, CheckCount: checkTimes})
	cctx, ccancel := context.WithTimeout(ctx, p.Timeout)
	start := time.Now()
	resp, err := s.hooks.Do(cctx, webhook.Request{URL: p.CheckURL, ID: fmt.Sprintf("chk_%s_%d", tx.ID, checkTimes), Body: body, Secrets: p.Secrets(time.Now())})
	ccancel()
	s.metrics.CheckWebhookSeconds.Observe(time.Since(start).Seconds())
	d, outcome := parseCheckAnswer(resp, err)
	s.metrics.CheckWebhook.WithLabelValues(outcome).Inc()
	s.recordOutcome(tx, outcome)
	if d == broker.Unknown {
		s.expireIfLast(tx, checkTimes)
		return
	}
	moved, state, err := s.store.Decide(ctx, tx.ID, d, "check")
	if err != nil {
		s.log.Info("txcallback: check webhook answered after the transaction was decided",
			slog.String("transaction", tx.ID), slog.String("state", string(state)), slog.String("answer", d.String()))
		return
	}
	if moved {
		s.metrics.Transactions.WithLabelValues(string(state)).Inc()
		s.metrics.DecisionSeconds.Observe(time.Since(tx.CreatedAt).Seconds())
		s.end(ctx, tx, d)
	}
}

func (s *Service) recordOutcome(tx Transaction, outcome string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 2*time.Second)
	defer cancel()
	_ = s.store.RecordCheck(ctx, tx.ID, 0, outcome)
}

// expireIfLast marks a transaction the broker will not check again.
func (s *Service) expireIfLast(tx Transaction, checkTimes int) {
	if checkTimes < s.cfg.CheckMax {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 2*time.Second)
	defer cancel()
	if moved, err := s.store.ExpireMaxChecks(ctx, tx.ID); err == nil && moved {
		s.metrics.Transactions.WithLabelValues(string(UnknownAfterMax)).Inc()
		s.log.Error("txcallback: transaction undecided after the broker's last check-back; the broker discards its half message",
			slog.String("transaction", tx.ID), slog.String("messageId", tx.MessageID), slog.Int("checks", checkTimes))
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
