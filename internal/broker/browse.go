package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// RocketMQ request codes for queue offsets.
const (
	codeGetMaxOffset = 30
	codeGetMinOffset = 31
)

// Position is a queue of a topic with its offset range [Min, Max).
type Position struct {
	BrokerName string
	QueueID    int
	Min, Max   int64
}

// Key names the queue ("broker/queue").
func (p Position) Key() string { return p.BrokerName + "/" + strconv.Itoa(p.QueueID) }

// Positions returns every read queue of topic with its offset range; a
// topic that does not exist has none.
func (a *Admin) Positions(ctx context.Context, topic string) ([]Position, error) {
	tr, err := a.rm.route(ctx, a.nameServers, topic)
	if errors.Is(err, ErrTopicNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	addrs := map[string]string{}
	for _, bd := range tr.BrokerDatas {
		addrs[bd.BrokerName] = bd.BrokerAddrs["0"]
	}
	var out []Position
	for _, qd := range tr.QueueDatas {
		addr := addrs[qd.BrokerName]
		if addr == "" {
			continue
		}
		for q := 0; q < qd.ReadQueueNums; q++ {
			ext := map[string]string{"topic": topic, "queueId": strconv.Itoa(q)}
			minOff, err := a.offset(ctx, addr, codeGetMinOffset, ext)
			if err != nil {
				return nil, err
			}
			maxOff, err := a.offset(ctx, addr, codeGetMaxOffset, ext)
			if err != nil {
				return nil, err
			}
			out = append(out, Position{BrokerName: qd.BrokerName, QueueID: q, Min: minOff, Max: maxOff})
		}
	}
	return out, nil
}

func (a *Admin) offset(ctx context.Context, addr string, code int, ext map[string]string) (int64, error) {
	resp, err := a.rm.invoke(ctx, addr, code, ext, nil)
	if err != nil {
		return 0, err
	}
	if resp.Code != respSuccess {
		return 0, &remoteError{resp.Code, resp.Remark}
	}
	return strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
}

// Browse reads messages of topic without consuming them: from each queue in
// positions, from offset from(position) up to its Max, at most limit in all.
func (a *Admin) Browse(ctx context.Context, topic string, positions []Position, from func(Position) int64, limit int) ([]*primitive.MessageExt, error) {
	if len(positions) == 0 || limit <= 0 {
		return nil, nil
	}
	pc, err := rocketmq.NewPullConsumer(
		consumer.WithNameServer(a.nameServers),
		consumer.WithGroupName("zeroloss-browser"),
		consumer.WithInstance("zeroloss-browser-"+strconv.FormatInt(time.Now().UnixNano(), 36)),
	)
	if err != nil {
		return nil, fmt.Errorf("broker: browse %s: %w", topic, err)
	}
	if err := pc.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}); err != nil {
		return nil, fmt.Errorf("broker: browse %s: %w", topic, err)
	}
	if err := pc.Start(); err != nil {
		return nil, fmt.Errorf("broker: browse %s: %w", topic, err)
	}
	defer pc.Shutdown()
	var out []*primitive.MessageExt
	for _, p := range positions {
		off := max(from(p), p.Min)
		for off < p.Max && len(out) < limit {
			mq := &primitive.MessageQueue{Topic: topic, BrokerName: p.BrokerName, QueueId: p.QueueID}
			res, err := pc.PullFrom(ctx, mq, off, min(32, limit-len(out)))
			if err != nil {
				return nil, fmt.Errorf("broker: browse %s: %w", p.Key(), err)
			}
			if len(res.GetMessageExts()) == 0 || res.NextBeginOffset <= off {
				break
			}
			out = append(out, res.GetMessageExts()...)
			off = res.NextBeginOffset
		}
	}
	return out, nil
}

// codeQueryConsumerOffset is RequestCode.QUERY_CONSUMER_OFFSET.
const codeQueryConsumerOffset = 14

// respQueryNotFound is ResponseCode.QUERY_NOT_FOUND (no offset stored yet).
const respQueryNotFound = 22

// Lag returns how many messages of topic the consumer group has not
// acknowledged yet, summed over the topic's queues.
func (a *Admin) Lag(ctx context.Context, group, topic string) (int64, error) {
	tr, err := a.rm.route(ctx, a.nameServers, topic)
	if err != nil {
		return 0, err
	}
	pos, err := a.Positions(ctx, topic)
	if err != nil {
		return 0, err
	}
	addrs := map[string]string{}
	for _, bd := range tr.BrokerDatas {
		addrs[bd.BrokerName] = bd.BrokerAddrs["0"]
	}
	var lag int64
	for _, p := range pos {
		resp, err := a.rm.invoke(ctx, addrs[p.BrokerName], codeQueryConsumerOffset,
			map[string]string{"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(p.QueueID)}, nil)
		if err != nil {
			return 0, err
		}
		committed := p.Min
		switch resp.Code {
		case respSuccess:
			if n, err := strconv.ParseInt(resp.ExtFields["offset"], 10, 64); err == nil && n >= 0 {
				committed = n
			}
		case respQueryNotFound:
		default:
			return 0, &remoteError{resp.Code, resp.Remark}
		}
		lag += max(p.Max-committed, 0)
	}
	return lag, nil
}
