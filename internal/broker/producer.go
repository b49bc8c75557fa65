// Package broker is the gateway's RocketMQ side: a producer that reports a
// send as done only on SEND_OK, readiness checks against the name servers
// and brokers, and the topic administration the tests and operators need.
package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
	"github.com/zeroloss/zeroloss/internal/brokertext"
)

var (
	// ErrUnconfirmed means the broker did not answer SEND_OK: the message
	// may or may not be stored. Retrying with the same message id is safe.
	ErrUnconfirmed = errors.New("broker: send not confirmed")
	// ErrTopicNotFound means the name servers do not know the topic.
	ErrTopicNotFound = errors.New("broker: topic not found")
	// ErrNotStarted means the producer is not running.
	ErrNotStarted = errors.New("broker: producer not started")
	// ErrRejected means the broker refused the message for what it is
	// (MESSAGE_ILLEGAL: properties or body over its limits, ...): nothing was
	// stored and sending it again cannot succeed.
	ErrRejected = errors.New("broker: message rejected")
)

// Config configures a Producer.
type Config struct {
	// NameServers are host:port addresses of the name servers.
	NameServers []string
	// Group is the producer group.
	Group string
	// InstanceName isolates this producer's client inside the process
	// (the RocketMQ client shares one per instance name).
	InstanceName string
	// SendTimeout bounds one send attempt.
	SendTimeout time.Duration
	// Retries is how many times the client retries a failed attempt; every
	// attempt carries the same message id.
	Retries int
	// Known, when set, remembers across replicas and restarts which topics
	// were sent to, so such a topic is never reported missing.
	Known KnownTopics
	// Observe, when set, is called after every broker request with its
	// outcome ("ok", "flush_disk_timeout", "flush_slave_timeout",
	// "slave_not_available", "topic_not_found", "rejected", "error") and how many
	// messages it carried.
	Observe func(topic, outcome string, messages int, elapsed time.Duration)
	// Coalesce lets concurrent single sends to one topic (no delay, no
	// sharding key) share a broker request: while one request is in
	// flight, the next ones queue and leave together as one batch (at most
	// CoalesceMax messages or MaxBytes of bodies). Each keeps its own id,
	// receipt and outcome. Nothing waits when there is no queue.
	Coalesce    bool
	CoalesceMax int
	MaxBytes    int
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case len(c.NameServers) == 0:
		return errors.New("broker: at least one name server is required")
	case c.Group == "":
		return errors.New("broker: producer group is required")
	case c.SendTimeout <= 0:
		return errors.New("broker: send timeout must be positive")
	case c.Retries < 0:
		return errors.New("broker: retries must not be negative")
	}
	return nil
}

// Message is one message to send.
type Message struct {
	// ID becomes the message's UNIQ_KEY (its messageId); required.
	ID         string
	Topic      string
	Body       []byte
	Tag        string
	Keys       []string
	Properties map[string]string
	// ShardingKey sends every message with the same key to the same queue.
	ShardingKey string
	// DeliverAt, when not zero, makes a timer message.
	DeliverAt time.Time
}

// Receipt says where the broker stored a message.
type Receipt struct {
	MessageID   string
	Topic       string
	BrokerName  string
	QueueID     int
	QueueOffset int64
}

// Producer sends messages and reports success only on SEND_OK. It is safe
// for concurrent use.
type Producer struct {
	lifecycle
	cfg    Config
	p      rocketmq.Producer
	rm     *remoting
	topics *topicGuard
	co     *Coalescer // Config.Coalesce
	// remote sends what the coalescer sends (no delay, no sharding key)
	// over the project's own remoting; the client sends the rest.
	remote *remoteSender
}

// NewProducer builds a producer; Start connects it.
func NewProducer(cfg Config) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.InstanceName == "" {
		cfg.InstanceName = "zeroloss-send-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	p, err := rocketmq.NewProducer(
		producer.WithNameServer(cfg.NameServers),
		producer.WithGroupName(cfg.Group),
		producer.WithInstanceName(cfg.InstanceName),
		producer.WithSendMsgTimeout(cfg.SendTimeout),
		producer.WithRetry(cfg.Retries),
		producer.WithQueueSelector(shardingSelector{fallback: producer.NewRoundRobinQueueSelector()}),
	)
	if err != nil {
		return nil, fmt.Errorf("broker: new producer: %w", err)
	}
	rm := &remoting{timeout: 3 * time.Second, pool: wire.Pool{MaxIdle: 64}}
	pr := &Producer{lifecycle: lifecycle{client: p, what: "producer"}, cfg: cfg, p: p, rm: rm,
		topics: &topicGuard{rm: rm, nameServers: cfg.NameServers, known: cfg.Known}}
	pr.remote = &remoteSender{rm: rm, mux: &muxConns{}, nameServers: cfg.NameServers, group: cfg.Group,
		retries: cfg.Retries, timeout: cfg.SendTimeout}
	pr.co = newCoalescer(pr.sendRemote, cfg.CoalesceMax, cfg.MaxBytes)
	return pr, nil
}

// Shutdown stops the producer and closes its own connections; sends in
// flight should be drained first.
func (p *Producer) Shutdown() error {
	p.remote.mux.close()
	return p.lifecycle.Shutdown()
}

// client is what both RocketMQ producers have in common for their lifecycle.
type client interface {
	Start() error
	Shutdown() error
}

// lifecycle starts and stops a client once and says whether it runs.
type lifecycle struct {
	client  client
	what    string
	running atomic.Bool
}

// Start connects the producer (a transactional one also starts answering
// check-backs).
func (l *lifecycle) Start() error {
	if err := l.client.Start(); err != nil {
		return fmt.Errorf("broker: start %s: %w", l.what, err)
	}
	l.running.Store(true)
	return nil
}

// Shutdown stops the producer; sends in flight should be drained first.
func (l *lifecycle) Shutdown() error {
	if !l.running.Swap(false) {
		return nil
	}
	if err := l.client.Shutdown(); err != nil {
		return fmt.Errorf("broker: shutdown %s: %w", l.what, err)
	}
	return nil
}

// Send sends one message and returns its receipt only when the broker
// answered SEND_OK. Any other outcome wraps ErrUnconfirmed (or
// ErrTopicNotFound when the topic does not exist).
func (p *Producer) Send(ctx context.Context, m Message) (Receipt, error) {
	if !p.running.Load() {
		return Receipt{}, ErrNotStarted
	}
	msg, err := toPrimitive(m)
	if err != nil {
		return Receipt{}, err
	}
	// Brokers refuse batches to retry and dead-letter topics.
	if p.cfg.Coalesce && m.DeliverAt.IsZero() && m.ShardingKey == "" && !strings.HasPrefix(m.Topic, "%") {
		return p.co.Send(ctx, m.ID, msg)
	}
	res, err := p.send(ctx, m.Topic, msg)
	if err != nil {
		return Receipt{}, err
	}
	return receipt(m.ID, m.Topic, res, 0), nil
}

// SendBatch sends messages of one topic in one broker request; they land in
// one queue with consecutive offsets. Delays and sharding keys are not
// allowed in a batch.
func (p *Producer) SendBatch(ctx context.Context, topic string, ms []Message) ([]Receipt, error) {
	if !p.running.Load() {
		return nil, ErrNotStarted
	}
	if len(ms) == 0 {
		return nil, errors.New("broker: empty batch")
	}
	msgs := make([]*primitive.Message, len(ms))
	for i, m := range ms {
		if m.Topic != topic {
			return nil, fmt.Errorf("broker: batch message %d is for topic %q, not %q", i, m.Topic, topic)
		}
		if !m.DeliverAt.IsZero() || m.ShardingKey != "" {
			return nil, fmt.Errorf("broker: batch message %d: delay and sharding key are not allowed in a batch", i)
		}
		msg, err := toPrimitive(m)
		if err != nil {
			return nil, err
		}
		msgs[i] = msg
	}
	res, err := p.send(ctx, topic, msgs...)
	if err != nil {
		return nil, err
	}
	out := make([]Receipt, len(ms))
	for i, m := range ms {
		out[i] = receipt(m.ID, topic, res, i)
	}
	return out, nil
}

func (p *Producer) send(ctx context.Context, topic string, msgs ...*primitive.Message) (*primitive.SendResult, error) {
	start := time.Now()
	res, err := p.p.SendSync(ctx, msgs...)
	return p.outcome(ctx, topic, len(msgs), start, res, err)
}

// Remoting codes of a plain send.
const codeSendBatchMessage = 320

// sendRemote is send over the project's own remoting (remoteSender): msgs
// (one topic, no delay, no sharding key) as one SEND_MESSAGE, or as one
// SEND_BATCH_MESSAGE when there are several.
func (p *Producer) sendRemote(ctx context.Context, topic string, msgs ...*primitive.Message) (*primitive.SendResult, error) {
	start := time.Now()
	born := strconv.FormatInt(start.UnixMilli(), 10)
	var req sendRequest
	if len(msgs) == 1 {
		req = sendRequest{code: codeSendMessage, queueKey: "queueId", brokerKey: "bname", body: msgs[0].Body,
			ext: map[string]string{
				"producerGroup": p.cfg.Group, "topic": topic, "sysFlag": "0", "bornTimestamp": born, "flag": "0",
				"reconsumeTimes": "0", "unitMode": "false", "maxReconsumeTimes": "0", "batch": "false",
				"defaultTopic": "TBW102", "defaultTopicQueueNums": "4", "properties": msgs[0].MarshallProperties(),
			}}
	} else {
		// The batch header (SendMessageRequestHeaderV2's one-letter
		// names) carries no properties of its own: each member's are in
		// its encoding (MessageDecoder.encodeMessage).
		req = sendRequest{code: codeSendBatchMessage, queueKey: "e", brokerKey: "n", body: encodeBatch(msgs),
			ext: map[string]string{
				"a": p.cfg.Group, "b": topic, "c": "TBW102", "d": "4", "f": "0", "g": born, "h": "0",
				"i": "", "j": "0", "k": "false", "l": "0", "m": "true",
			}}
	}
	a := p.remote.send(ctx, "send", topic, req)
	var res *primitive.SendResult
	if a.err == nil {
		qid, err := strconv.Atoi(a.resp.ExtFields["queueId"])
		if err != nil {
			qid = a.q.id
		}
		off, err := strconv.ParseInt(a.resp.ExtFields["queueOffset"], 10, 64)
		if err != nil && a.resp.Code == respSuccess {
			a.err = fmt.Errorf("%w: send to %s: bad queue offset %q in the answer", ErrUnconfirmed, topic, a.resp.ExtFields["queueOffset"])
		}
		res = &primitive.SendResult{Status: sendStatus(a.resp.Code), OffsetMsgID: a.resp.ExtFields["msgId"],
			MessageQueue: &primitive.MessageQueue{Topic: topic, BrokerName: a.q.broker, QueueId: qid}, QueueOffset: off}
	}
	return p.outcome(ctx, topic, len(msgs), start, res, a.err)
}

// sendStatus is the send status of a broker's answer that stored the
// message (success, or a flush or replica timeout).
func sendStatus(code int) primitive.SendStatus {
	switch code {
	case respFlushDiskTimeout:
		return primitive.SendFlushDiskTimeout
	case respFlushSlaveTimeout:
		return primitive.SendFlushSlaveTimeout
	case respSlaveNotAvailable:
		return primitive.SendSlaveNotAvailable
	}
	return primitive.SendOK
}

// encodeBatch writes msgs as a SEND_BATCH_MESSAGE body: each message as
// MessageDecoder.encodeMessage does (total size, magic code 0, body CRC 0,
// flag, body length, body, properties length, properties), in one buffer.
func encodeBatch(msgs []*primitive.Message) []byte {
	props := make([]string, len(msgs))
	size := 0
	for i, m := range msgs {
		props[i] = m.MarshallProperties()
		size += 4*5 + len(m.Body) + 2 + len(props[i])
	}
	buf := make([]byte, 0, size)
	for i, m := range msgs {
		n := 4*5 + len(m.Body) + 2 + len(props[i])
		buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		buf = binary.BigEndian.AppendUint32(buf, 0) // magic code
		buf = binary.BigEndian.AppendUint32(buf, 0) // body CRC
		buf = binary.BigEndian.AppendUint32(buf, uint32(m.Flag))
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(m.Body)))
		buf = append(buf, m.Body...)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(props[i])))
		buf = append(buf, props[i]...)
	}
	return buf
}

// outcome classifies a send's result (SEND_OK or why not), remembers a
// topic sent to and reports the request to Config.Observe.
func (p *Producer) outcome(ctx context.Context, topic string, msgs int, start time.Time, res *primitive.SendResult, err error) (*primitive.SendResult, error) {
	outcome := "ok"
	switch {
	case err != nil && (errors.Is(err, ErrRejected) || rejected(err)):
		outcome = "rejected"
		if !errors.Is(err, ErrRejected) {
			err = fmt.Errorf("%w: send to %s: %w", ErrRejected, topic, err)
		}
	case err != nil:
		outcome = "error"
		switch {
		case errors.Is(err, ErrTopicNotFound):
			// The route lookup's verdict alone; unless the guard below
			// agrees, the send is only unconfirmed, and the error must
			// not read as "not found" (a client drops a message on it).
			err = fmt.Errorf("%w: send to %s: no route (%v)", ErrUnconfirmed, topic, err)
		case !errors.Is(err, ErrUnconfirmed):
			err = fmt.Errorf("%w: send to %s: %w", ErrUnconfirmed, topic, err)
		}
		if p.topics.missing(ctx, topic) {
			outcome = "topic_not_found"
			err = fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		}
	case res == nil:
		outcome = "error"
		err = fmt.Errorf("%w: send to %s: no result", ErrUnconfirmed, topic)
	case res.Status != primitive.SendOK:
		outcome = statusName(res.Status)
		err = fmt.Errorf("%w: send to %s: broker answered %s", ErrUnconfirmed, topic, outcome)
	}
	if err == nil {
		p.topics.seen(ctx, topic)
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(topic, outcome, msgs, time.Since(start))
	}
	return res, err
}

// KnownTopics remembers topics that were sent to (in Redis, shared by the
// replicas). Known answers true on any doubt.
type KnownTopics interface {
	Remember(ctx context.Context, topic string) error
	Known(ctx context.Context, topic string) (bool, error)
}

// topicGuard decides whether a failed send failed because the topic does
// not exist. A wrong "missing" would make a client drop a message it should
// retry, so it needs all of: the name servers answer that no queue routes
// the topic, at least one master broker is registered (when brokers are down
// the name servers forget their topics too), and no replica ever sent to the
// topic (this process's memory, then the shared one). Otherwise the failure
// is reported as unconfirmed.
type topicGuard struct {
	rm          *remoting
	nameServers []string
	known       KnownTopics
	routed      sync.Map
}

// seen records a topic a send succeeded on.
func (g *topicGuard) seen(ctx context.Context, topic string) {
	if _, ok := g.routed.LoadOrStore(topic, true); ok || g.known == nil {
		return
	}
	if err := g.known.Remember(context.WithoutCancel(ctx), topic); err != nil {
		g.routed.Delete(topic) // try again on the next send
	}
}

func (g *topicGuard) missing(ctx context.Context, topic string) bool {
	if _, seen := g.routed.Load(topic); seen {
		return false
	}
	if g.known != nil {
		if known, err := g.known.Known(ctx, topic); err != nil || known {
			return false
		}
	}
	if _, err := g.rm.route(ctx, g.nameServers, topic); !errors.Is(err, ErrTopicNotFound) {
		return false
	}
	ci, err := g.rm.clusterInfo(ctx, g.nameServers)
	return err == nil && len(masterAddrs(ci)) > 0
}

func statusName(s primitive.SendStatus) string {
	switch s {
	case primitive.SendOK:
		return "ok"
	case primitive.SendFlushDiskTimeout:
		return "flush_disk_timeout"
	case primitive.SendFlushSlaveTimeout:
		return "flush_slave_timeout"
	case primitive.SendSlaveNotAvailable:
		return "slave_not_available"
	default:
		return "unknown_status"
	}
}

// toPrimitive builds the client's message. It refuses (wrapping
// brokertext.ErrSeparator or brokertext.ErrTooLarge) a message whose
// properties would forge or lose a property when encoded, or that the broker
// would refuse for their size, whatever path built it.
func toPrimitive(m Message) (*primitive.Message, error) {
	if m.ID == "" {
		return nil, errors.New("broker: message id is required")
	}
	msg := primitive.NewMessage(m.Topic, m.Body)
	if len(m.Properties) > 0 {
		msg.WithProperties(m.Properties)
	}
	if m.Tag != "" {
		msg.WithTag(m.Tag)
	}
	if len(m.Keys) > 0 {
		msg.WithKeys(m.Keys)
	}
	if m.ShardingKey != "" {
		msg.WithShardingKey(m.ShardingKey)
	}
	if !m.DeliverAt.IsZero() {
		msg.WithDelayTimestamp(m.DeliverAt)
	}
	msg.WithProperty(primitive.PropertyUniqueClientMessageIdKeyIndex, m.ID)
	// Ask the broker to answer only once the message is stored as its
	// flush and replication settings require (the broker's default too).
	msg.WithProperty(primitive.PropertyWaitStoreMsgOk, "true")
	if err := brokertext.Encodable(msg.GetProperties()); err != nil {
		return nil, fmt.Errorf("broker: message %s to %s: %w", m.ID, m.Topic, err)
	}
	return msg, nil
}

// shardingSelector keeps messages with one sharding key on one queue and
// spreads the others round robin.
type shardingSelector struct {
	fallback producer.QueueSelector
}

func (s shardingSelector) Select(msg *primitive.Message, queues []*primitive.MessageQueue, lastBroker string) *primitive.MessageQueue {
	key := msg.GetShardingKey()
	if key == "" || len(queues) == 0 {
		return s.fallback.Select(msg, queues, lastBroker)
	}
	return queues[int(fnv32a(key)%uint32(len(queues)))]
}

func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Check reports whether the producer can send: it is started, a name server
// answers with at least one master broker, and that broker accepts TCP
// connections. The error names the failing part.
func (p *Producer) Check(ctx context.Context) error {
	if !p.running.Load() {
		return ErrNotStarted
	}
	ci, err := p.rm.clusterInfo(ctx, p.cfg.NameServers)
	if err != nil {
		return fmt.Errorf("name server: %w", err)
	}
	masters := masterAddrs(ci)
	if len(masters) == 0 {
		return errors.New("broker: no master broker is registered with the name servers")
	}
	var errs []error
	for _, addr := range masters {
		d := net.Dialer{Timeout: 2 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("broker: no master broker accepts connections: %w", errors.Join(errs...))
}

func masterAddrs(ci clusterInfo) []string {
	var out []string
	for _, bd := range ci.BrokerAddrTable {
		if addr, ok := bd.BrokerAddrs["0"]; ok && addr != "" {
			out = append(out, addr)
		}
	}
	return out
}
