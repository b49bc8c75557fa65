package pop

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TopicKind says which topic a popped message was read from: the
// subscribed topic, or the group's POP retry topic (RocketMQ writes an
// un-acked message back there when its invisible time ends).
type TopicKind int

// The topic marks of ExtraInfoUtil ("0", "1", "2").
const (
	TopicNormal  TopicKind = 0 // the subscribed topic itself
	TopicRetryV1 TopicKind = 1 // %RETRY%{group}_{topic}
	TopicRetryV2 TopicKind = 2 // %RETRY%{group}+{topic} (enableRetryTopicV2)
)

// retryPrefix is MixAll.RETRY_GROUP_TOPIC_PREFIX.
const retryPrefix = "%RETRY%"

// kindOf is ExtraInfoUtil.getRetry: the mark of a stored topic name.
func kindOf(topic string) TopicKind {
	switch {
	case strings.HasPrefix(topic, retryPrefix) && strings.Contains(topic, "+"):
		return TopicRetryV2
	case strings.HasPrefix(topic, retryPrefix):
		return TopicRetryV1
	}
	return TopicNormal
}

// storedTopic is the topic a handle's message is stored in: what ACK and
// CHANGE_INVISIBLETIME must name (ExtraInfoUtil.getRealTopic).
func storedTopic(kind TopicKind, group, topic string) string {
	switch kind {
	case TopicRetryV1:
		return retryPrefix + group + "_" + topic
	case TopicRetryV2:
		return retryPrefix + group + "+" + topic
	}
	return topic
}

// Handle is a receipt handle: the broker's check point of one popped
// message (the POP_CK / extraInfo string of ExtraInfoUtil). It is valid
// until the message is acked, its invisible time is changed (which gives a
// new handle), or the invisible time ends (then the message is popped
// again, with a new handle).
type Handle struct {
	CheckpointOffset int64         // queue offset the broker's check point starts at
	PopTime          time.Time     // when the broker handed the message out
	InvisibleTime    time.Duration // how long after PopTime it stays invisible
	ReviveQueue      int           // revive queue of the check point; 999 for orderly pop
	Kind             TopicKind     // topic the message is stored in
	BrokerName       string        // broker holding the check point
	QueueID          int           // queue of the stored topic
	Offset           int64         // queue offset of the message
}

// orderReviveQueue is KeyBuilder.POP_ORDER_REVIVE_QUEUE: the revive queue
// id an orderly pop reports.
const orderReviveQueue = 999

// Orderly reports whether the handle came from an orderly pop.
func (h Handle) Orderly() bool { return h.ReviveQueue == orderReviveQueue }

// VisibleAt is when the message reappears unless acked.
func (h Handle) VisibleAt() time.Time { return h.PopTime.Add(h.InvisibleTime) }

// String formats the handle as the broker reads it: eight fields
// separated by spaces, "ckOffset popTime invisibleTime reviveQid kind
// brokerName queueId offset".
func (h Handle) String() string {
	return strings.Join([]string{
		strconv.FormatInt(h.CheckpointOffset, 10),
		strconv.FormatInt(h.PopTime.UnixMilli(), 10),
		strconv.FormatInt(h.InvisibleTime.Milliseconds(), 10),
		strconv.Itoa(h.ReviveQueue),
		strconv.Itoa(int(h.Kind)),
		h.BrokerName,
		strconv.Itoa(h.QueueID),
		strconv.FormatInt(h.Offset, 10),
	}, " ")
}

// ErrBadHandle is returned for a receipt handle that does not parse.
var ErrBadHandle = errors.New("pop: malformed receipt handle")

// ParseHandle parses a handle written by Handle.String, by the broker (the
// POP_CK property) or by the Java client. A ninth field (the commit log
// offset RocketMQ's proxy appends) is ignored.
func ParseHandle(s string) (Handle, error) {
	f := strings.Split(s, " ")
	if len(f) < 8 {
		return Handle{}, fmt.Errorf("%w: %d fields in %q", ErrBadHandle, len(f), s)
	}
	var h Handle
	ints := [...]struct {
		dst  *int64
		text string
	}{{&h.CheckpointOffset, f[0]}, {&h.Offset, f[7]}}
	for _, v := range ints {
		n, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil {
			return Handle{}, fmt.Errorf("%w: %q: %v", ErrBadHandle, s, err)
		}
		*v.dst = n
	}
	pop, err1 := strconv.ParseInt(f[1], 10, 64)
	inv, err2 := strconv.ParseInt(f[2], 10, 64)
	rq, err3 := strconv.Atoi(f[3])
	kind, err4 := strconv.Atoi(f[4])
	q, err5 := strconv.Atoi(f[6])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return Handle{}, fmt.Errorf("%w: %q: %v", ErrBadHandle, s, err)
	}
	if kind < int(TopicNormal) || kind > int(TopicRetryV2) || f[5] == "" {
		return Handle{}, fmt.Errorf("%w: %q", ErrBadHandle, s)
	}
	h.PopTime = time.UnixMilli(pop)
	h.InvisibleTime = time.Duration(inv) * time.Millisecond
	h.ReviveQueue, h.Kind, h.BrokerName, h.QueueID = rq, TopicKind(kind), f[5], q
	return h, nil
}

// parseOffsetInfo parses a startOffsetInfo or orderCountInfo header of a
// POP response: entries "kind queue value" joined by ";", keyed
// "kind@queue" (the queue part may be "qo{queue}%{offset}" in
// orderCountInfo).
func parseOffsetInfo(s string) (map[string]int64, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]int64{}
	for _, e := range strings.Split(s, ";") {
		f := strings.Split(e, " ")
		if len(f) != 3 {
			return nil, fmt.Errorf("pop: bad offset info %q", s)
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pop: bad offset info %q: %w", s, err)
		}
		out[f[0]+"@"+f[1]] = n
	}
	return out, nil
}
