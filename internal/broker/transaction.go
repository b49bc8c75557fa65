package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// propCheckImmunity is MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS:
// the broker checks a half message that has it back no earlier than that.
const propCheckImmunity = "CHECK_IMMUNITY_TIME_IN_SECONDS"

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
	// DirectEnd: the half message has no check-immunity window
	// (CHECK_IMMUNITY_TIME_IN_SECONDS), so its END_TRANSACTION goes as a
	// producer's own (fromTransactionCheck false), which a broker never
	// refuses for coming late and does not log. False (a window, a copy
	// being checked back, a record written before the field existed)
	// sends it as the answer to a check, which a broker accepts at any
	// time but logs as a warning, one line per END.
	DirectEnd bool `json:",omitempty"`
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
	// Half locates the copy of the half message being checked (a broker
	// stores a new copy at each check); ending it with these coordinates
	// settles exactly this copy.
	Half Half
}

// Checker handles a broker's check-back. It runs with a timeout, at most
// MaxConcurrentChecks at a time, and ends the transaction itself (End with
// req.Half) when it knows the decision; doing nothing means unknown: the
// broker asks again, up to its transactionCheckMax.
type Checker func(ctx context.Context, req CheckRequest)

// TxConfig configures a TxProducer.
type TxConfig struct {
	NameServers []string
	// Group is the transactional producer group (the half messages'
	// PGROUP): the broker sends its check-backs to any connection that
	// announced it, so every gateway replica registers it. No other
	// producer or consumer may use it.
	Group string
	// InstanceName gives the half-message producer a client of its own.
	InstanceName string
	// SendTimeout bounds one half-message request.
	SendTimeout time.Duration
	// Retries is how many more requests a half message gets after one
	// whose answer proves nothing was stored (the broker busy or a slave
	// after a failover, not writable, or no request sent at all), each on
	// a route looked up again. After an unanswered request (maybe stored)
	// there is no retry: the caller answers unconfirmed.
	Retries int
	// CheckTimeout bounds one Checker call.
	CheckTimeout time.Duration
	// MaxConcurrentChecks bounds check-backs handled at once; one arriving
	// above the bound is dropped at once (unknown: the broker asks again),
	// so neither goroutines nor message bodies pile up while Redis is slow.
	MaxConcurrentChecks int
	// OnCheckDropped, when set, is called for each check-back dropped
	// above the bound.
	OnCheckDropped func()
	// Known remembers topics that were sent to (see Config.Known).
	Known KnownTopics
}

// TxProducer sends half messages, ends transactions by broker coordinates
// (from any replica), and receives check-backs for its group.
//
// Half messages go out over the project's remoting (halfSender: one
// attempt per request, no hidden client retries, the route looked up again
// after a failure) carrying the transactional properties (TRAN_MSG, PGROUP
// = Group). The group named in PGROUP is registered with every master by
// this producer's own connections (see checkLinks), which alone receive
// check-backs: registered before the first half message is sent, and
// handled concurrently up to a bound.
type TxProducer struct {
	lifecycle
	cfg    TxConfig
	half   *halfSender
	rm     *remoting
	mux    *muxConns
	topics *topicGuard
	links  *checkLinks
	check  Checker
	sem    chan struct{}
	checks sync.WaitGroup
	stop   context.CancelFunc
	done   chan struct{}
	// masters caches broker name → master address for routeTTL; a failed
	// END_TRANSACTION forgets the entry.
	masters sync.Map
}

// noClient stands for a RocketMQ client where there is none to start (the
// transactional producer speaks remoting itself).
type noClient struct{}

func (noClient) Start() error    { return nil }
func (noClient) Shutdown() error { return nil }

type cachedAddr struct {
	addr string
	at   time.Time
}

const routeTTL = 10 * time.Second

// NewTxProducer builds a transactional producer whose check-backs are
// handled by check.
func NewTxProducer(cfg TxConfig, check Checker) (*TxProducer, error) {
	if len(cfg.NameServers) == 0 || cfg.Group == "" || cfg.SendTimeout <= 0 || check == nil {
		return nil, errors.New("broker: transactional producer needs name servers, a group, a send timeout and a checker")
	}
	if cfg.InstanceName == "" {
		cfg.InstanceName = "zeroloss-tx-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 5 * time.Second
	}
	if cfg.MaxConcurrentChecks <= 0 {
		cfg.MaxConcurrentChecks = 64
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	rm := &remoting{timeout: 3 * time.Second, pool: wire.Pool{MaxIdle: 64}}
	mux := &muxConns{}
	tp := &TxProducer{lifecycle: lifecycle{client: noClient{}, what: "transactional producer"}, cfg: cfg, rm: rm, mux: mux,
		half:   &halfSender{&remoteSender{rm: rm, mux: mux, nameServers: cfg.NameServers, group: cfg.Group, retries: cfg.Retries, timeout: cfg.SendTimeout}},
		topics: &topicGuard{rm: rm, nameServers: cfg.NameServers, known: cfg.Known},
		check:  check, sem: make(chan struct{}, cfg.MaxConcurrentChecks)}
	tp.links = newCheckLinks(rm, cfg.NameServers, cfg.Group, cfg.InstanceName+"@checks", tp.onCheck)
	return tp, nil
}

// Start connects the half-message producer and starts registering the
// group with every master broker (SendHalf waits for that).
func (p *TxProducer) Start() error {
	if err := p.lifecycle.Start(); err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	p.stop, p.done = stop, make(chan struct{})
	go func() { defer close(p.done); p.links.run(ctx) }()
	return nil
}

// Shutdown closes the check-back connections (the brokers then ask the
// other replicas), waits for check-backs in flight, and stops the producer.
func (p *TxProducer) Shutdown() error {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
	p.checks.Wait()
	p.mux.close()
	return p.lifecycle.Shutdown()
}

// Check reports whether the producer runs and its group is registered
// with every master broker the name servers list (a *NotRegisteredError
// names those it is not).
func (p *TxProducer) Check(context.Context) error {
	if !p.running.Load() {
		return ErrNotStarted
	}
	return p.links.missing()
}

// onCheck takes a check-back off a link's reader: dropped above the bound,
// else handled in a goroutine of its own.
func (p *TxProducer) onCheck(l *link, cmd *remotingCommand) {
	select {
	case p.sem <- struct{}{}:
	default:
		if p.cfg.OnCheckDropped != nil {
			p.cfg.OnCheckDropped()
		}
		return
	}
	p.checks.Add(1)
	go func() {
		defer p.checks.Done()
		defer func() { <-p.sem }()
		defer func() { _ = recover() }() // a panicking checker answers nothing: unknown
		req, ok := checkRequest(l, cmd, p.cfg.Group)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CheckTimeout)
		defer cancel()
		p.check(ctx, req)
	}()
}

// checkRequest decodes a CHECK_TRANSACTION_STATE request; ok is false for
// a malformed one or another group's message.
func checkRequest(l *link, cmd *remotingCommand, group string) (CheckRequest, bool) {
	msgs := primitive.DecodeMessage(cmd.Body)
	if len(msgs) == 0 {
		return CheckRequest{}, false
	}
	m := msgs[0]
	if g := m.GetProperty(primitive.PropertyProducerGroup); g != "" && g != group {
		return CheckRequest{}, false
	}
	ext := cmd.ExtFields
	queueOffset, err1 := strconv.ParseInt(ext["tranStateTableOffset"], 10, 64)
	commitLogOffset, err2 := strconv.ParseInt(ext["commitLogOffset"], 10, 64)
	if err1 != nil || err2 != nil {
		return CheckRequest{}, false
	}
	times, _ := strconv.Atoi(m.GetProperty(primitive.PropertyTranscationCheckTimes))
	qid, _ := strconv.Atoi(m.GetProperty(primitive.PropertyRealQueueId))
	req := CheckRequest{
		MessageID:  m.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex),
		Topic:      m.GetProperty(primitive.PropertyRealTopic),
		Tag:        m.GetTags(),
		Properties: m.GetProperties(),
		CheckTimes: times,
	}
	if req.MessageID == "" {
		req.MessageID = ext["msgId"]
	}
	if req.Topic == "" {
		req.Topic = m.Topic
	}
	if k := m.GetKeys(); k != "" {
		req.Keys = strings.Fields(k)
	}
	req.Half = Half{MessageID: req.MessageID, Topic: req.Topic, BrokerName: l.brokerName, BrokerAddr: l.addr,
		QueueID: qid, QueueOffset: queueOffset, CommitLogOffset: commitLogOffset, TransactionID: ext["transactionId"]}
	return req, true
}

// SendHalf stores m as a half message and returns its coordinates only on
// SEND_OK. A message the broker refuses for what it is wraps ErrRejected
// (nothing stored); anything else wraps ErrUnconfirmed (the half message may
// exist: its check-back must then be answered with Rollback). It waits
// (within ctx) until the group is registered with every master, and
// registers it with a broker it did not know yet before returning, so no
// check-back of the half message finds the group absent.
func (p *TxProducer) SendHalf(ctx context.Context, m Message) (Half, error) {
	if !p.running.Load() {
		return Half{}, ErrNotStarted
	}
	if !m.DeliverAt.IsZero() || m.ShardingKey != "" {
		return Half{}, errors.New("broker: a transactional message has no delay and no sharding key")
	}
	select {
	case <-p.links.ready:
	case <-ctx.Done():
		return Half{}, fmt.Errorf("%w: %w", ErrNotStarted, p.links.missing())
	}
	msg, err := toPrimitive(m)
	if err != nil {
		return Half{}, err
	}
	msg.WithProperty(primitive.PropertyTransactionPrepared, "true")
	msg.WithProperty(primitive.PropertyProducerGroup, p.cfg.Group)
	h, err := p.half.send(ctx, m.ID, m.Topic, msg)
	switch {
	case errors.Is(err, ErrRejected):
		return Half{}, err
	case err != nil && p.topics.missing(ctx, m.Topic):
		// Said only when the name servers, the brokers and every replica's
		// memory agree (topicGuard): a client drops a message on it.
		return Half{}, fmt.Errorf("%w: %s", ErrTopicNotFound, m.Topic)
	case errors.Is(err, ErrTopicNotFound):
		// Not wrapped: the guard disagrees, so this must not read as
		// "not found".
		return Half{}, fmt.Errorf("%w: half message to %s: no route (%v)", ErrUnconfirmed, m.Topic, err)
	case err != nil:
		return Half{}, err
	}
	p.topics.seen(ctx, m.Topic)
	h.DirectEnd = msg.GetProperty(propCheckImmunity) == ""
	if err := p.links.ensureBroker(ctx, h.BrokerName, h.BrokerAddr); err != nil {
		// The half message is stored; its transaction is still ended by
		// the caller or resolved by the gateway, and the next lookup
		// registers the broker.
		return h, fmt.Errorf("%w: %w", ErrNotRegistered, err)
	}
	return h, nil
}

// ErrNotRegistered accompanies a stored half message (the Half is valid)
// when the group could not be registered with its broker yet.
var ErrNotRegistered = errors.New("broker: half message stored on a broker the group is not registered with yet")

// ErrEndRefused means the broker's answer (or the absence of any request
// reaching it) proves that an END_TRANSACTION did not take effect: sending
// it again cannot make the message consumable twice. An End error that
// does not wrap it leaves the outcome unknown (no answer): the END may
// still land.
var ErrEndRefused = errors.New("broker: end transaction refused")

// End sends END_TRANSACTION for h to the current master of its broker
// group (found through the name servers, so it follows a failover) and
// waits (within ctx) for the broker's answer. Any process may call it.
// Concurrent calls share one connection per broker, each request in
// flight with the others.
//
// A broker answering anything but success did not end the transaction
// (EndTransactionProcessor stores the final message only on the way to a
// success answer: a slave, a wrong offset or group, a failed store, a
// request that waited too long in its queue all answer an error code):
// that, and a request that could not be sent at all, wraps ErrEndRefused.
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
		// "true" for a half message with a check-immunity window: a broker
		// refuses a direct END for it once the window has passed unless it
		// comes as the answer to a check. The flag changes nothing else but
		// the broker's log, which gets a warning line per flagged commit.
		"fromTransactionCheck": strconv.FormatBool(!h.DirectEnd),
		"msgId":                h.MessageID,
		"transactionId":        h.TransactionID,
		"bname":                h.BrokerName,
	}
	addr := p.master(ctx, h)
	l, err := p.mux.get(ctx, h.BrokerName, addr)
	if err == nil {
		var resp *remotingCommand
		if resp, err = l.call(ctx, codeEndTransaction, ext, nil); err == nil {
			if resp.Code != respSuccess {
				return fmt.Errorf("%w: %s (%s): %w", ErrEndRefused, h.MessageID, d, &remoteError{resp.Code, resp.Remark})
			}
			return nil
		}
		if !errors.Is(err, errNotSent) && ctx.Err() == nil {
			p.mux.drop(addr, l, err) // the connection failed: a new one next time
		}
	}
	p.masters.Delete(h.BrokerName)
	if errors.Is(err, errNotSent) {
		return fmt.Errorf("%w: %s (%s): %w", ErrEndRefused, h.MessageID, d, err)
	}
	return fmt.Errorf("broker: end transaction %s (%s), no answer: %w", h.MessageID, d, err)
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
