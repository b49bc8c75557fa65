package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/msgid"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/txcallback"
)

// TxService runs transactions and their producers (txcallback.Service),
// as the small interfaces the endpoints use.
type TxService interface {
	TxRunner
	TxReader
	ProducerWriter
	ProducerReader
	SecretRotator
}

// TxRunner begins transactions and decides them.
type TxRunner interface {
	Begin(ctx context.Context, in txcallback.BeginInput) (txcallback.Transaction, error)
	Decide(ctx context.Context, tenant, id string, d broker.Decision, authorize func(topic string) error) (txcallback.Transaction, error)
}

// TxReader reads a tenant's transactions.
type TxReader interface {
	Get(ctx context.Context, tenant, id string) (txcallback.Transaction, error)
	List(ctx context.Context, tenant, producer string, state txcallback.State, cursor string, limit int) ([]txcallback.Transaction, string, error)
}

// ProducerWriter registers, changes and deletes producers.
type ProducerWriter interface {
	CreateProducer(ctx context.Context, tenant string, in txcallback.ProducerInput) (txcallback.Producer, error)
	UpdateProducer(ctx context.Context, tenant, id string, in txcallback.ProducerInput) (txcallback.Producer, error)
	DeleteProducer(ctx context.Context, tenant, id string) error
}

// ProducerReader reads a tenant's producers.
type ProducerReader interface {
	GetProducer(ctx context.Context, tenant, id string) (txcallback.Producer, error)
	ListProducers(ctx context.Context, tenant, cursor string, limit int) ([]txcallback.Producer, string, error)
}

// SecretRotator replaces a producer's signing secret.
type SecretRotator interface {
	RotateSecret(ctx context.Context, tenant, id string) (txcallback.Producer, error)
}

// Transactions implements the transaction and producer endpoints.
type Transactions struct {
	svc             TxService
	prop            propagation.TextMapPropagator
	maxMessageBytes int
}

// NewTransactions returns the transaction endpoints over svc.
func NewTransactions(svc TxService, maxMessageBytes int, prop propagation.TextMapPropagator) *Transactions {
	return &Transactions{svc: svc, prop: prop, maxMessageBytes: maxMessageBytes}
}

func principal(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}

func requireTransact(ctx context.Context) (auth.Principal, error) {
	p := principal(ctx)
	if !p.HasAction("transact") {
		return p, problem.New(problem.Forbidden, "this API key has no transact scope")
	}
	return p, nil
}

func authorizeTransact(ctx context.Context, topic string) error {
	if err := checkTopicName(topic, "/topic"); err != nil {
		return err
	}
	if !principal(ctx).Allows("transact", topic) {
		return problem.New(problem.Forbidden, fmt.Sprintf("this API key may not run transactions on %q", topic))
	}
	return nil
}

// BeginTransaction sends a half message (POST /v1/transactions).
func (h *Transactions) BeginTransaction(ctx context.Context, req api.BeginTransactionRequestObject) (api.BeginTransactionResponseObject, error) {
	b := req.Body
	if err := authorizeTransact(ctx, b.Topic); err != nil {
		return nil, err
	}
	body, fields := decodeBody("/body", b.Body, b.Encoding)
	if len(body) > h.maxMessageBytes {
		return nil, problem.New(problem.PayloadTooLarge, fmt.Sprintf("the message body is %d bytes once decoded; the limit is %d", len(body), h.maxMessageBytes))
	}
	fields = append(fields, checkText("", b.Tag, b.Keys, nil, b.Properties)...)
	if len(fields) > 0 {
		return nil, problem.New(problem.Validation, "the message is invalid; see errors").WithFields(fields...)
	}
	// With an Idempotency-Key the seed is the key's, so a retry names the
	// same transaction and message. Without one no retry can name it: the
	// service draws the id (and writes the record once, after the send).
	seed := msgid.FromContext(ctx)
	in := txcallback.BeginInput{
		Tenant: principal(ctx).Tenant, ProducerID: b.Producer, MessageID: seed.ID(0),
		Topic: b.Topic, Body: body, Tag: api.Value(b.Tag), Keys: api.Value(b.Keys), Properties: injectTrace(ctx, h.prop, b.Properties),
	}
	if req.Params.IdempotencyKey != nil {
		in.ID = txcallback.IDFromSeed(seed)
	}
	// The transaction's own properties (ZL_TX, CHECK_IMMUNITY_TIME_IN_SECONDS)
	// fit in brokertext.Reserve.
	if fe := checkSize("", broker.Message{Tag: in.Tag, Keys: in.Keys, Properties: in.Properties}); fe != nil {
		return nil, sizeProblem(*fe)
	}
	if b.CheckAfterSeconds != nil {
		in.CheckAfter = time.Duration(*b.CheckAfterSeconds) * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	tx, err := h.svc.Begin(sctx, in)
	if err != nil {
		return nil, txProblem(err)
	}
	loc := "/v1/transactions/" + tx.ID
	return api.BeginTransaction201JSONResponse{Body: txView(tx), Headers: api.BeginTransaction201ResponseHeaders{Location: &loc}}, nil
}

// GetTransaction answers a transaction's state; one on a topic the key may
// not run transactions on is not found (see authz.go).
func (h *Transactions) GetTransaction(ctx context.Context, req api.GetTransactionRequestObject) (api.GetTransactionResponseObject, error) {
	if _, err := requireTransact(ctx); err != nil {
		return nil, err
	}
	tx, err := h.svc.Get(ctx, principal(ctx).Tenant, req.Id)
	if err != nil {
		return nil, txProblem(err)
	}
	if err := visibleTopic(ctx, "transact", tx.Topic, problem.TransactionNotFound, txNotFound); err != nil {
		return nil, err
	}
	return api.GetTransaction200JSONResponse(txView(tx)), nil
}

// CommitTransaction commits.
func (h *Transactions) CommitTransaction(ctx context.Context, req api.CommitTransactionRequestObject) (api.CommitTransactionResponseObject, error) {
	tx, err := h.decide(ctx, req.Id, broker.Commit)
	if err != nil {
		return nil, err
	}
	return api.CommitTransaction200JSONResponse(txView(tx)), nil
}

// RollbackTransaction rolls back.
func (h *Transactions) RollbackTransaction(ctx context.Context, req api.RollbackTransactionRequestObject) (api.RollbackTransactionResponseObject, error) {
	tx, err := h.decide(ctx, req.Id, broker.Rollback)
	if err != nil {
		return nil, err
	}
	return api.RollbackTransaction200JSONResponse(txView(tx)), nil
}

// decide commits or rolls back; a transaction on a topic the key may not
// run transactions on is not found, and stays undecided.
func (h *Transactions) decide(ctx context.Context, id string, d broker.Decision) (txcallback.Transaction, error) {
	if _, err := requireTransact(ctx); err != nil {
		return txcallback.Transaction{}, err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	tx, err := h.svc.Decide(dctx, principal(ctx).Tenant, id, d, func(topic string) error {
		return visibleTopic(ctx, "transact", topic, problem.TransactionNotFound, txNotFound)
	})
	if errors.Is(err, txcallback.ErrConflict) {
		return tx, problem.Wrap(problem.TransactionConflict,
			fmt.Sprintf("cannot %s: the transaction is %s", d, apiState(tx.State)), err)
	}
	if err != nil {
		return tx, txProblem(err)
	}
	return tx, nil
}

// ListTransactions lists the tenant's transactions on topics the key may
// run transactions on.
func (h *Transactions) ListTransactions(ctx context.Context, req api.ListTransactionsRequestObject) (api.ListTransactionsResponseObject, error) {
	caller, err := requireTransact(ctx)
	if err != nil {
		return nil, err
	}
	p := req.Params
	var state txcallback.State
	if p.State != nil {
		state = txcallback.State(*p.State)
	}
	txs, next, err := h.svc.List(ctx, principal(ctx).Tenant, api.Value(p.Producer), state, api.Value(p.Cursor), limitOf(p.Limit))
	if err != nil {
		return nil, txProblem(err)
	}
	out := api.ListTransactions200JSONResponse{Items: make([]api.Transaction, 0, len(txs))}
	for _, tx := range txs {
		if caller.Allows("transact", tx.Topic) {
			out.Items = append(out.Items, txView(tx))
		}
	}
	if next != "" {
		out.NextCursor = &next
	}
	return out, nil
}

// CreateProducer registers a producer (transact:* or admin, see authz.go).
func (h *Transactions) CreateProducer(ctx context.Context, req api.CreateProducerRequestObject) (api.CreateProducerResponseObject, error) {
	if err := requireProducerAdmin(ctx); err != nil {
		return nil, err
	}
	p := principal(ctx)
	b := req.Body
	in := txcallback.ProducerInput{Name: &b.Name, CheckURL: &b.CheckUrl, Timeout: msDuration(b.TimeoutMs)}
	prd, err := h.svc.CreateProducer(ctx, p.Tenant, in)
	if err != nil {
		return nil, txProblem(err)
	}
	loc := "/v1/producers/" + prd.ID
	return api.CreateProducer201JSONResponse{Body: withSecret(prd), Headers: api.CreateProducer201ResponseHeaders{Location: &loc}}, nil
}

// ListProducers lists the tenant's producers.
func (h *Transactions) ListProducers(ctx context.Context, req api.ListProducersRequestObject) (api.ListProducersResponseObject, error) {
	p, err := requireTransact(ctx)
	if err != nil {
		return nil, err
	}
	ps, next, err := h.svc.ListProducers(ctx, p.Tenant, api.Value(req.Params.Cursor), limitOf(req.Params.Limit))
	if err != nil {
		return nil, txProblem(err)
	}
	out := api.ListProducers200JSONResponse{Items: make([]api.Producer, 0, len(ps))}
	for _, prd := range ps {
		out.Items = append(out.Items, producerView(prd))
	}
	if next != "" {
		out.NextCursor = &next
	}
	return out, nil
}

// GetProducer returns a producer.
func (h *Transactions) GetProducer(ctx context.Context, req api.GetProducerRequestObject) (api.GetProducerResponseObject, error) {
	p, err := requireTransact(ctx)
	if err != nil {
		return nil, err
	}
	prd, err := h.svc.GetProducer(ctx, p.Tenant, req.Id)
	if err != nil {
		return nil, txProblem(err)
	}
	return api.GetProducer200JSONResponse(producerView(prd)), nil
}

// UpdateProducer changes a producer (transact:* or admin).
func (h *Transactions) UpdateProducer(ctx context.Context, req api.UpdateProducerRequestObject) (api.UpdateProducerResponseObject, error) {
	if err := requireProducerAdmin(ctx); err != nil {
		return nil, err
	}
	p := principal(ctx)
	b := req.Body
	prd, err := h.svc.UpdateProducer(ctx, p.Tenant, req.Id, txcallback.ProducerInput{Name: b.Name, CheckURL: b.CheckUrl, Timeout: msDuration(b.TimeoutMs)})
	if err != nil {
		return nil, txProblem(err)
	}
	return api.UpdateProducer200JSONResponse(producerView(prd)), nil
}

// DeleteProducer removes a producer (transact:* or admin).
func (h *Transactions) DeleteProducer(ctx context.Context, req api.DeleteProducerRequestObject) (api.DeleteProducerResponseObject, error) {
	if err := requireProducerAdmin(ctx); err != nil {
		return nil, err
	}
	p := principal(ctx)
	if err := h.svc.DeleteProducer(ctx, p.Tenant, req.Id); err != nil {
		return nil, txProblem(err)
	}
	return api.DeleteProducer204Response{}, nil
}

// RotateProducerSecret replaces a producer's secret (transact:* or admin).
func (h *Transactions) RotateProducerSecret(ctx context.Context, req api.RotateProducerSecretRequestObject) (api.RotateProducerSecretResponseObject, error) {
	if err := requireProducerAdmin(ctx); err != nil {
		return nil, err
	}
	p := principal(ctx)
	prd, err := h.svc.RotateSecret(ctx, p.Tenant, req.Id)
	if err != nil {
		return nil, txProblem(err)
	}
	return api.RotateProducerSecret200JSONResponse(withSecret(prd)), nil
}

func apiState(s txcallback.State) api.TransactionState {
	if s == txcallback.Sending {
		return api.Pending
	}
	return api.TransactionState(s)
}

func txView(tx txcallback.Transaction) api.Transaction {
	v := api.Transaction{
		TransactionId: tx.ID, MessageId: tx.MessageID, Producer: tx.ProducerID, Topic: tx.Topic,
		State: apiState(tx.State), CreatedAt: tx.CreatedAt, CheckCount: tx.CheckCount,
	}
	if tx.Tag != "" {
		v.Tag = &tx.Tag
	}
	if !tx.DecidedAt.IsZero() {
		v.DecidedAt = &tx.DecidedAt
	}
	if tx.DecidedBy != "" {
		by := api.TransactionDecidedBy(tx.DecidedBy)
		v.DecidedBy = &by
	}
	if tx.LastCheck != "" {
		v.LastCheckOutcome = &tx.LastCheck
	}
	if !tx.LastCheckAt.IsZero() {
		v.LastCheckAt = &tx.LastCheckAt
	}
	return v
}

func producerView(p txcallback.Producer) api.Producer {
	return api.Producer{Id: p.ID, Name: p.Name, CheckUrl: p.CheckURL, TimeoutMs: int(p.Timeout.Milliseconds()),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func withSecret(p txcallback.Producer) api.ProducerWithSecret {
	v := producerView(p)
	return api.ProducerWithSecret{Id: v.Id, Name: v.Name, CheckUrl: v.CheckUrl, TimeoutMs: v.TimeoutMs,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Secret: p.Secret}
}

func msDuration(ms *int) *time.Duration {
	if ms == nil {
		return nil
	}
	d := time.Duration(*ms) * time.Millisecond
	return &d
}

func limitOf(l *int) int {
	if l == nil {
		return 50
	}
	return *l
}
