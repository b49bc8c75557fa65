package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// codeEndTransaction is RequestCode.END_TRANSACTION.
const codeEndTransaction = 37

// Decision is a transaction's outcome as told to the broker.
type Decision int

const (
	// Unknown asks the broker to check back later.
	Unknown Decision = iota
	// Commit makes the half message consumable.
	Commit
	// Rollback discards the half message.
	Rollback
)

func (d Decision) String() string {
	switch d {
	case Commit:
		return "commit"
	case Rollback:
		return "rollback"
	}
	return "unknown"
}

// Half says where the broker stored a half message: everything needed to
// end its transaction later, from any process.
type Half struct {
	MessageID       string // UNIQ_KEY
	Topic           string
	BrokerName      string
	BrokerAddr      string // the address that stored it (from the offset message id)
	QueueID         int
	QueueOffset     int64 // tranStateTableOffset
	CommitLogOffset int64
	TransactionID   string // the broker's transaction id
}

// CheckRequest is a broker's check-back of one half message.
type CheckRequest struct {
	MessageID  string
	Topic      string
	Tag        string
	Keys       []string
	Properties map[string]string
	// CheckTimes is how often the broker has checked this half message.
	CheckTimes int
}

// Checker answers a broker's check-back. It runs on the client's single
// check goroutine, so it must return quickly; any doubt is Unknown.
type Checker func(ctx context.Context, req CheckRequest) Decision

// TxConfig configures a TxProducer.
type TxConfig struct {
	NameServers []string
	// Group is the transactional producer group; the broker sends its
	// check-backs to any live member, so every gateway replica joins it.
	// No other producer or consumer may use it.
	Group string
	// InstanceName gives the producer a client of its own; a shared client
	// loses check-backs.
	InstanceName string
	SendTimeout  time.Duration
	Retries      int
	// CheckTimeout bounds one Checker call.
	CheckTimeout time.Duration
	// Known remembers topics that were sent to (see Config.Known).
	Known KnownTopics
}

// TxProducer sends half messages, ends transactions by broker coordinates
// (from any replica), and answers check-backs with a Checker.
type TxProducer struct {
	lifecycle
	cfg    TxConfig
	p      rocketmq.TransactionProducer
	rm     *remoting
	topics *topicGuard
	// masters caches broker name → master address for routeTTL; a failed
	// END_TRANSACTION forgets the entry.
	masters sync.Map
}

type cachedAddr struct {
	addr string
	at   time.Time
}

const routeTTL = 10 * time.Second

// NewTxProducer builds a transactional producer whose check-backs are
// answered by check.
func NewTxProducer(cfg TxConfig, check Checker) (*TxProducer, error) {
	if len(cfg.NameServers) == 0 || cfg.Group == "" || cfg.SendTimeout <= 0 {
		return nil, errors.New("broker: transactional producer needs name servers, a group and a send timeout")
	}
	if cfg.InstanceName == "" {
		cfg.InstanceName = "zeroloss-tx-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = time.Second
	}
	l := &txListener{check: check, timeout: cfg.CheckTimeout}
	p, err := rocketmq.NewTransactionProducer(l,
		producer.WithNameServer(cfg.NameServers),
		producer.WithGroupName(cfg.Group),
		producer.WithInstanceName(cfg.InstanceName),
		producer.WithSendMsgTimeout(cfg.SendTimeout),
		producer.WithRetry(cfg.Retries),
	)
	if err != nil {
		return nil, fmt.Errorf("broker: new transactional producer: %w", err)
	}
	rm := &remoting{timeout: 3 * time.Second}
	return &TxProducer{lifecycle: lifecycle{client: p, what: "transactional producer"}, cfg: cfg, p: p, rm: rm,
		topics: &topicGuard{rm: rm, nameServers: cfg.NameServers, known: cfg.Known}}, nil
}

// SendHalf stores m as a half message and returns its coordinates only on
// SEND_OK. A message the broker refuses for what it is wraps ErrRejected
// (nothing stored); anything else wraps ErrUnconfirmed (the half message may
// exist: its check-back must then be answered with Rollback).
func (p *TxProducer) SendHalf(ctx context.Context, m Message) (Half, error) {
	if !p.running.Load() {
		return Half{}, ErrNotStarted
	}
	if !m.DeliverAt.IsZero() || m.ShardingKey != "" {
		return Half{}, errors.New("broker: a transactional message has no delay and no sharding key")
	}
	msg, err := toPrimitive(m)
	if err != nil {
		return Half{}, err
	}
	res, err := p.p.SendMessageInTransaction(ctx, msg)
	switch {
	case err != nil && rejected(err):
		return Half{}, fmt.Errorf("%w: half message to %s: %w", ErrRejected, m.Topic, err)
	case err != nil && p.topics.missing(ctx, m.Topic):
		return Half{}, fmt.Errorf("%w: %s", ErrTopicNotFound, m.Topic)
	case err != nil:
		return Half{}, fmt.Errorf("%w: half message to %s: %w", ErrUnconfirmed, m.Topic, err)
	case res == nil || res.SendResult == nil:
		return Half{}, fmt.Errorf("%w: half message to %s: no result", ErrUnconfirmed, m.Topic)
	case res.Status != primitive.SendOK:
		return Half{}, fmt.Errorf("%w: half message to %s: broker answered %s", ErrUnconfirmed, m.Topic, statusName(res.Status))
	}
	p.topics.seen(ctx, m.Topic)
	id, err := primitive.UnmarshalMsgID([]byte(res.OffsetMsgID))
	if err != nil {
		return Half{}, fmt.Errorf("%w: half message to %s: bad offset message id %q: %w", ErrUnconfirmed, m.Topic, res.OffsetMsgID, err)
	}
	return Half{
		MessageID: m.ID, Topic: m.Topic, BrokerName: res.MessageQueue.BrokerName,
		BrokerAddr: id.Addr + ":" + strconv.Itoa(id.Port), QueueID: res.MessageQueue.QueueId,
		QueueOffset: res.QueueOffset, CommitLogOffset: id.Offset, TransactionID: res.TransactionID,
	}, nil
}

// End sends END_TRANSACTION for h to the current master of its broker
// group (found through the name servers, so it follows a failover) and
// waits for the broker's answer. Any process may call it.
func (p *TxProducer) End(ctx context.Context, h Half, d Decision) error {
	if d == Unknown {
		return errors.New("broker: cannot end a transaction as unknown")
	}
	flag := primitive.TransactionCommitType
	if d == Rollback {
		flag = primitive.TransactionRollbackType
	}
	ext := map[string]string{
		"producerGroup":        p.cfg.Group,
		"tranStateTableOffset": strconv.FormatInt(h.QueueOffset, 10),
		"commitLogOffset":      strconv.FormatInt(h.CommitLogOffset, 10),
		"commitOrRollback":     strconv.Itoa(flag),
		// "true": a broker refuses a direct END for a half message whose
		// check-immunity window (CHECK_IMMUNITY_TIME_IN_SECONDS) has passed
		// unless it comes as the answer to a check; the flag changes
		// nothing else but the broker's log.
		"fromTransactionCheck": "true",
		"msgId":                h.MessageID,
		"transactionId":        h.TransactionID,
		"bname":                h.BrokerName,
	}
	addr := p.master(ctx, h)
	resp, err := p.rm.invoke(ctx, addr, codeEndTransaction, ext, nil)
	if err != nil {
		p.masters.Delete(h.BrokerName)
		return fmt.Errorf("broker: end transaction %s (%s): %w", h.MessageID, d, err)
	}
	if resp.Code != respSuccess {
		return fmt.Errorf("broker: end transaction %s (%s): %w", h.MessageID, d, &remoteError{resp.Code, resp.Remark})
	}
	return nil
}

// master returns the current master address of h's broker group: cached,
// else from the name servers, else the address that stored the half message.
func (p *TxProducer) master(ctx context.Context, h Half) string {
	if v, ok := p.masters.Load(h.BrokerName); ok {
		if c := v.(cachedAddr); time.Since(c.at) < routeTTL {
			return c.addr
		}
	}
	if tr, err := p.rm.route(ctx, p.cfg.NameServers, h.Topic); err == nil {
		for _, bd := range tr.BrokerDatas {
			if bd.BrokerName == h.BrokerName && bd.BrokerAddrs["0"] != "" {
				p.masters.Store(h.BrokerName, cachedAddr{addr: bd.BrokerAddrs["0"], at: time.Now()})
				return bd.BrokerAddrs["0"]
			}
		}
	}
	return h.BrokerAddr
}

// txListener adapts a Checker to the client's TransactionListener.
type txListener struct {
	check   Checker
	timeout time.Duration
}

// ExecuteLocalTransaction runs right after a half message is stored, in
// SendHalf's goroutine: the decision comes later through End, so the answer
// here is always unknown (the client then tells the broker nothing).
func (l *txListener) ExecuteLocalTransaction(*primitive.Message) primitive.LocalTransactionState {
	return primitive.UnkonwnState
}

// CheckLocalTransaction answers a check-back; a panic or a slow Checker
// answers unknown, never commit.
func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) (state primitive.LocalTransactionState) {
	defer func() {
		if recover() != nil {
			state = primitive.UnkonwnState
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	times, _ := strconv.Atoi(m.GetProperty(primitive.PropertyTranscationCheckTimes))
	req := CheckRequest{
		MessageID:  m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex),
		Topic:      m.GetProperty(primitive.PropertyRealTopic),
		Tag:        m.GetTags(),
		Properties: m.GetProperties(),
		CheckTimes: times,
	}
	if req.MessageID == "" {
		req.MessageID = m.MsgId
	}
	if req.Topic == "" {
		req.Topic = m.Topic
	}
	if k := m.GetKeys(); k != "" {
		req.Keys = strings.Fields(k)
	}
	switch l.check(ctx, req) {
	case Commit:
		return primitive.CommitMessageState
	case Rollback:
		return primitive.RollbackMessageState
	}
	return primitive.UnkonwnState
}
