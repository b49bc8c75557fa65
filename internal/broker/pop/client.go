package pop

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// Config configures a Client.
type Config struct {
	// NameServers are the name server addresses (host:port), asked in order.
	NameServers []string
	// Timeout bounds every request that is not a long poll (route lookup,
	// ACK, CHANGE_INVISIBLETIME, group creation). Default 5 s.
	Timeout time.Duration
	// PollSlack is added to a request's PollTime for the RPC deadline of a
	// POP: the broker answers at the end of the poll, so the deadline must
	// outlast it. Default 5 s.
	PollSlack time.Duration
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.PollSlack == 0 {
		c.PollSlack = 5 * time.Second
	}
	return c
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	if len(c.NameServers) == 0 {
		return errors.New("pop: no name servers")
	}
	if c.Timeout < 0 || c.PollSlack < 0 {
		return errors.New("pop: negative timeout")
	}
	return nil
}

// Client pops, acks and changes the invisible time of messages over
// RocketMQ's remoting protocol. It is safe for concurrent use; each call in
// flight holds a connection of its own (a long poll holds it for the poll).
type Client struct {
	cfg  Config
	pool wire.Pool

	mu    sync.Mutex
	addrs map[string]string // brokerName -> master address, from the last routes seen
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, addrs: map[string]string{}}, nil
}

// Close closes the idle connections. Calls in flight finish on their own.
func (c *Client) Close() { c.pool.Close() }

// Brokers returns the masters serving topic's readable queues, from the
// name servers. A POP on one broker only sees that broker's queues: pop
// every broker returned here. It returns ErrTopicNotFound for an unknown
// topic.
func (c *Client) Brokers(ctx context.Context, topic string) ([]Broker, error) {
	bs, err := masters(ctx, &c.pool, c.cfg.NameServers, c.cfg.Timeout, topic)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, b := range bs {
		c.addrs[b.Name] = b.Addr
	}
	c.mu.Unlock()
	return bs, nil
}

// addr returns the master address of brokerName, looking topic's route up
// when the name has not been seen (or the cached address failed).
func (c *Client) addr(ctx context.Context, topic, brokerName string, refresh bool) (string, error) {
	c.mu.Lock()
	a := c.addrs[brokerName]
	c.mu.Unlock()
	if a != "" && !refresh {
		return a, nil
	}
	bs, err := c.Brokers(ctx, topic)
	if err != nil {
		return "", err
	}
	for _, b := range bs {
		if b.Name == brokerName {
			return b.Addr, nil
		}
	}
	return "", fmt.Errorf("pop: broker %s has no master serving %s", brokerName, topic)
}

// EnsureGroup creates (or updates) the subscription group on each broker.
// A broker refuses POP for a group it does not know unless it runs with
// autoCreateSubscriptionGroup=true (the default, and the local stack's).
func (c *Client) EnsureGroup(ctx context.Context, group string, brokers []Broker) error {
	body, err := json.Marshal(map[string]any{"groupName": group, "consumeEnable": true})
	if err != nil {
		return fmt.Errorf("pop: encode group %s: %w", group, err)
	}
	for _, b := range brokers {
		resp, err := c.pool.Invoke(ctx, b.Addr, c.cfg.Timeout, codeUpdateAndCreateSubsGroup, nil, body)
		if err != nil {
			return fmt.Errorf("pop: create group %s on %s: %w", group, b.Name, err)
		}
		if resp.Code != respSuccess {
			return fmt.Errorf("pop: create group %s on %s: %w", group, b.Name, &RemoteError{resp.Code, resp.Remark})
		}
	}
	return nil
}

// InitMode says where a group starts in a queue it has no offset for.
type InitMode int

// ConsumeInitMode values.
const (
	FromMin InitMode = 0 // the queue's first message
	FromMax InitMode = 1 // only messages stored after the first pop
)

// Request is one POP.
type Request struct {
	Group string // consumer group (required)
	Topic string // topic (required)
	// SingleQueue restricts the pop to queue QueueID; by default the broker
	// serves from all its read queues of the topic (queueId -1).
	SingleQueue bool
	QueueID     int
	// MaxMessages is the batch limit, 1 to 32; default 32.
	MaxMessages int
	// InvisibleTime is how long the popped messages stay hidden from other
	// pops; unacked, they reappear after it (required, at least 1 s).
	InvisibleTime time.Duration
	// PollTime is how long the broker holds the request when nothing is
	// there; 0 answers at once.
	PollTime time.Duration
	// InitMode applies when the group has no offset in a queue yet.
	InitMode InitMode
	// Filter is a TAG expression ("*", "a||b"); default "*".
	Filter string
	// Orderly pops in queue order: a queue gives nothing more until its
	// popped batch is acked or becomes visible again.
	Orderly bool
	// AttemptID identifies a retried orderly pop of the same batch.
	AttemptID string
}

const maxBatch = 32

// propertyPopCK is MessageConst.PROPERTY_POP_CK: the receipt handle the
// broker puts on a message it re-encodes from the retry topic.
const propertyPopCK = "POP_CK"

func (r Request) validate() error {
	switch {
	case r.Group == "" || r.Topic == "":
		return errors.New("pop: request needs a group and a topic")
	case r.MaxMessages < 0 || r.MaxMessages > maxBatch:
		return fmt.Errorf("pop: MaxMessages %d outside 1..%d", r.MaxMessages, maxBatch)
	case r.InvisibleTime < time.Second:
		return fmt.Errorf("pop: InvisibleTime %v below 1s", r.InvisibleTime)
	case r.PollTime < 0:
		return errors.New("pop: negative PollTime")
	case r.SingleQueue && r.QueueID < 0:
		return fmt.Errorf("pop: QueueID %d", r.QueueID)
	case r.InitMode != FromMin && r.InitMode != FromMax:
		return fmt.Errorf("pop: InitMode %d", r.InitMode)
	}
	return nil
}

// Message is a popped message with its receipt handle. Topic is the
// requested topic also for a message redelivered from the retry topic.
type Message struct {
	*primitive.MessageExt
	Handle Handle
}

// Result is the answer to one POP.
type Result struct {
	Broker   Broker
	Messages []Message
	// Rest is the broker's count of messages still waiting after this
	// batch in the queues it looked at.
	Rest int64
}

// ErrPollingFull is returned when the broker holds too many long polls
// (maxPopPollingSize): back off and pop again.
var ErrPollingFull = errors.New("pop: broker polling queue full")

// Pop pops up to r.MaxMessages messages from broker b, long-polling up to
// r.PollTime when none is visible. No message found is an empty Result and
// a nil error. Cancelling ctx abandons the poll.
func (c *Client) Pop(ctx context.Context, b Broker, r Request) (Result, error) {
	if err := r.validate(); err != nil {
		return Result{}, err
	}
	if r.MaxMessages == 0 {
		r.MaxMessages = maxBatch
	}
	if r.Filter == "" {
		r.Filter = "*"
	}
	queue := -1
	if r.SingleQueue {
		queue = r.QueueID
	}
	ext := map[string]string{
		"consumerGroup": r.Group,
		"topic":         r.Topic,
		"queueId":       strconv.Itoa(queue),
		"maxMsgNums":    strconv.Itoa(r.MaxMessages),
		"invisibleTime": strconv.FormatInt(r.InvisibleTime.Milliseconds(), 10),
		"pollTime":      strconv.FormatInt(r.PollTime.Milliseconds(), 10),
		// "0": the broker uses its own clock, so a skewed client clock
		// cannot make it answer POLLING_TIMEOUT at once.
		"bornTime": "0",
		"initMode": strconv.Itoa(int(r.InitMode)),
		"expType":  "TAG",
		"exp":      r.Filter,
		"order":    strconv.FormatBool(r.Orderly),
	}
	if r.AttemptID != "" {
		ext["attemptId"] = r.AttemptID
	}
	resp, err := c.pool.Invoke(ctx, b.Addr, r.PollTime+c.cfg.PollSlack, codePopMessage, ext, nil)
	if err != nil {
		return Result{}, fmt.Errorf("pop: pop %s from %s: %w", r.Topic, b.Name, err)
	}
	res := Result{Broker: b}
	res.Rest, _ = strconv.ParseInt(resp.ExtFields["restNum"], 10, 64)
	switch resp.Code {
	case respSuccess:
	case respNoMessage, respPollingTimeout, respPullNotFound:
		return res, nil
	case respPollingFull:
		return res, fmt.Errorf("pop: pop %s from %s: %w", r.Topic, b.Name, ErrPollingFull)
	default:
		return res, fmt.Errorf("pop: pop %s from %s: %w", r.Topic, b.Name, &RemoteError{resp.Code, resp.Remark})
	}
	res.Messages, err = decodePopped(b.Name, r, resp)
	if err != nil {
		return Result{}, fmt.Errorf("pop: pop %s from %s: %w", r.Topic, b.Name, err)
	}
	return res, nil
}

// decodePopped splits a POP body into messages and gives each its receipt
// handle, as RocketMQ's Java client does (MQClientAPIImpl.processPopResponse):
// a message redelivered from the retry topic carries its handle in the
// POP_CK property (set by the broker); for the others the handle is built
// from the response header: the check point's start offset of the
// message's queue (startOffsetInfo, keyed "kind@queue"), popTime,
// invisibleTime, reviveQid, and the message's own queue and offset.
func decodePopped(brokerName string, r Request, resp *command) ([]Message, error) {
	h := resp.ExtFields
	popTime, err1 := strconv.ParseInt(h["popTime"], 10, 64)
	invisible, err2 := strconv.ParseInt(h["invisibleTime"], 10, 64)
	revive, err3 := strconv.Atoi(h["reviveQid"])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("bad response header %v: %w", h, err)
	}
	start, err := parseOffsetInfo(h["startOffsetInfo"])
	if err != nil {
		return nil, err
	}
	var counts map[string]int64
	if r.Orderly {
		if counts, err = parseOffsetInfo(h["orderCountInfo"]); err != nil {
			return nil, err
		}
	}
	exts, err := splitMessages(resp.Body)
	if err != nil {
		return nil, err
	}
	// firstOffset stands in for startOffsetInfo when a broker sends none:
	// the first offset of each (kind, queue) in the batch.
	firstOffset := map[string]int64{}
	out := make([]Message, 0, len(exts))
	for _, m := range exts {
		var hd Handle
		if ck := m.GetProperty(propertyPopCK); ck != "" {
			if hd, err = ParseHandle(ck); err != nil {
				return nil, err
			}
		} else {
			kind := kindOf(m.Topic)
			mark := strconv.Itoa(int(kind)) + "@"
			key := mark + strconv.Itoa(m.Queue.QueueId)
			ck, ok := start[key]
			if !ok {
				if _, seen := firstOffset[key]; !seen {
					firstOffset[key] = m.QueueOffset
				}
				ck = firstOffset[key]
			}
			hd = Handle{
				CheckpointOffset: ck, PopTime: time.UnixMilli(popTime),
				InvisibleTime: time.Duration(invisible) * time.Millisecond, ReviveQueue: revive,
				Kind: kind, BrokerName: brokerName, QueueID: m.Queue.QueueId, Offset: m.QueueOffset,
			}
			if r.Orderly {
				// Per message ("kind@qo{queue}%{offset}"), else per queue.
				n, ok := counts[mark+"qo"+strconv.Itoa(m.Queue.QueueId)+"%"+strconv.FormatInt(m.QueueOffset, 10)]
				if !ok {
					n = counts[key]
				}
				if n > 0 {
					m.ReconsumeTimes = int32(n)
				}
			}
		}
		m.Topic = r.Topic
		m.Queue.Topic = r.Topic
		m.Queue.BrokerName = brokerName
		out = append(out, Message{MessageExt: m, Handle: hd})
	}
	return out, nil
}

// splitMessages walks a body of stored messages by their total size and
// decodes each: primitive.DecodeMessage itself does not check lengths.
func splitMessages(body []byte) ([]*primitive.MessageExt, error) {
	var out []*primitive.MessageExt
	for len(body) > 0 {
		if len(body) < 4 {
			return nil, fmt.Errorf("truncated message body (%d bytes left)", len(body))
		}
		size := int(binary.BigEndian.Uint32(body))
		if size < 4 || size > len(body) {
			return nil, fmt.Errorf("bad message size %d (%d bytes left)", size, len(body))
		}
		ms := primitive.DecodeMessage(body[:size])
		if len(ms) != 1 {
			return nil, fmt.Errorf("message of %d bytes decoded as %d", size, len(ms))
		}
		out = append(out, ms[0])
		body = body[size:]
	}
	return out, nil
}

// Ack acknowledges a popped message of group's subscription to topic: the
// broker will not deliver it again. topic is the subscribed topic (for a
// message from the retry topic too: the handle says where it is stored).
// A handle that a CHANGE_INVISIBLETIME replaced is dead: the broker
// accepts its ack without error, yet the message comes back under the new
// handle. The broker does not check a non-orderly handle's expiry either:
// an ack after the invisible time is accepted even though the message has
// been (or will be) popped again.
func (c *Client) Ack(ctx context.Context, group, topic string, h Handle) error {
	stored := storedTopic(h.Kind, group, topic)
	ext := map[string]string{
		"consumerGroup": group,
		"topic":         stored,
		"queueId":       strconv.Itoa(h.QueueID),
		"extraInfo":     h.String(),
		"offset":        strconv.FormatInt(h.Offset, 10),
	}
	if _, err := c.toBroker(ctx, topic, h.BrokerName, codeAckMessage, ext, nil); err != nil {
		return fmt.Errorf("pop: ack %s %s/%d@%d: %w", stored, h.BrokerName, h.QueueID, h.Offset, err)
	}
	return nil
}

// ChangeInvisibleTime hides a popped message for d from now (0 makes it
// visible at once) and returns its new handle; the old handle is dead.
func (c *Client) ChangeInvisibleTime(ctx context.Context, group, topic string, h Handle, d time.Duration) (Handle, error) {
	stored := storedTopic(h.Kind, group, topic)
	ext := map[string]string{
		"consumerGroup": group,
		"topic":         stored,
		"queueId":       strconv.Itoa(h.QueueID),
		"extraInfo":     h.String(),
		"offset":        strconv.FormatInt(h.Offset, 10),
		"invisibleTime": strconv.FormatInt(d.Milliseconds(), 10),
	}
	resp, err := c.toBroker(ctx, topic, h.BrokerName, codeChangeInvisibleTime, ext, nil)
	if err != nil {
		return Handle{}, fmt.Errorf("pop: change invisible time of %s %s/%d@%d: %w", stored, h.BrokerName, h.QueueID, h.Offset, err)
	}
	popTime, err1 := strconv.ParseInt(resp.ExtFields["popTime"], 10, 64)
	invisible, err2 := strconv.ParseInt(resp.ExtFields["invisibleTime"], 10, 64)
	revive, err3 := strconv.Atoi(resp.ExtFields["reviveQid"])
	if err := errors.Join(err1, err2, err3); err != nil {
		return Handle{}, fmt.Errorf("pop: change invisible time: bad response header %v: %w", resp.ExtFields, err)
	}
	// The broker wrote a new check point starting at the message itself
	// (ChangeInvisibleTimeProcessor), so the new handle's check point offset
	// is the message offset.
	return Handle{
		CheckpointOffset: h.Offset, PopTime: time.UnixMilli(popTime),
		InvisibleTime: time.Duration(invisible) * time.Millisecond, ReviveQueue: revive,
		Kind: h.Kind, BrokerName: h.BrokerName, QueueID: h.QueueID, Offset: h.Offset,
	}, nil
}

// toBroker sends an ACK-like request to the master of brokerName and
// checks the answer. A connection failure to a cached address refreshes
// the route once: the request did not reach a broker, so it is safe to
// send again.
func (c *Client) toBroker(ctx context.Context, topic, brokerName string, code int, ext map[string]string, body []byte) (*command, error) {
	addr, err := c.addr(ctx, topic, brokerName, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.pool.Invoke(ctx, addr, c.cfg.Timeout, code, ext, body)
	var dialErr *wire.DialError
	if errors.As(err, &dialErr) {
		if addr, err = c.addr(ctx, topic, brokerName, true); err != nil {
			return nil, err
		}
		resp, err = c.pool.Invoke(ctx, addr, c.cfg.Timeout, code, ext, body)
	}
	if err != nil {
		return nil, err
	}
	if resp.Code != respSuccess {
		return nil, &RemoteError{resp.Code, resp.Remark}
	}
	return resp, nil
}
