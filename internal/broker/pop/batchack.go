package pop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// AckRequest is one message to acknowledge in a batch: the handle of a
// message popped for group's subscription to topic (the subscribed topic,
// also for a message read from the retry topic).
type AckRequest struct {
	Group  string
	Topic  string
	Handle Handle
}

// maxAckGap bounds a handle's offset past its check point in a batch ack:
// the broker reads the acked offsets as a bit set from the check point, so
// the gap is the request's size in bits. A pop's batch spans far less.
const maxAckGap = 1 << 16

// batchAck is BatchAck.java: the acked messages of one check point (one
// popped batch of one queue), as offsets from its start in a bit set.
type batchAck struct {
	Group         string `json:"c"`
	Topic         string `json:"t"`
	Retry         string `json:"r"` // the handle's topic kind, "0", "1" or "2"
	StartOffset   int64  `json:"so"`
	QueueID       int    `json:"q"`
	ReviveQueue   int    `json:"rq"`
	PopTime       int64  `json:"pt"`
	InvisibleTime int64  `json:"it"`
	// Bits is java.util.BitSet.toByteArray (little-endian: bit i is
	// byte i/8, bit i%8), which the broker reads from a base64 string
	// (BitSetSerializerDeserializer), as encoding/json writes a []byte.
	Bits []byte `json:"b"`
}

// batchAckBody is BatchAckMessageRequestBody.java.
type batchAckBody struct {
	BrokerName string      `json:"brokerName"`
	Acks       []*batchAck `json:"acks"`
}

// AckBatch acknowledges messages held by one broker in one
// BATCH_ACK_MESSAGE request, as RocketMQ's Java client does
// (MQClientAPIImpl.batchAckMessageAsync): handles of the same check point
// (group, stored topic, queue, check point offset, pop time) share one
// entry, the broker writes one ack record per entry. Every handle must
// name brokerName; orderly handles are refused (use Ack, whose answer
// says whether the broker took it).
//
// Like Ack, a success means the broker took the request: it does not
// check handles (an ack of an expired or replaced handle is accepted, and
// offsets outside the queue are skipped).
func (c *Client) AckBatch(ctx context.Context, brokerName string, acks []AckRequest) error {
	if len(acks) == 0 {
		return nil
	}
	body, err := encodeBatchAck(brokerName, acks)
	if err != nil {
		return err
	}
	if _, err := c.toBroker(ctx, acks[0].Topic, brokerName, codeBatchAckMessage, nil, body); err != nil {
		return fmt.Errorf("pop: batch ack of %d messages on %s: %w", len(acks), brokerName, err)
	}
	return nil
}

// encodeBatchAck builds the body of a BATCH_ACK_MESSAGE request.
func encodeBatchAck(brokerName string, acks []AckRequest) ([]byte, error) {
	type key struct {
		group, topic        string
		kind                TopicKind
		queue, revive       int
		start, pop, visible int64
	}
	entries := map[key]*batchAck{}
	out := batchAckBody{BrokerName: brokerName}
	for _, a := range acks {
		h := a.Handle
		switch {
		case a.Group == "" || a.Topic == "":
			return nil, errors.New("pop: batch ack needs a group and a topic")
		case h.BrokerName != brokerName:
			return nil, fmt.Errorf("pop: batch ack on %s of a handle of %s", brokerName, h.BrokerName)
		case h.Orderly():
			return nil, fmt.Errorf("%w: orderly handle %s in a batch ack", ErrBadHandle, h)
		case h.Offset < h.CheckpointOffset || h.Offset-h.CheckpointOffset >= maxAckGap:
			return nil, fmt.Errorf("%w: offset %d too far from its check point %d", ErrBadHandle, h.Offset, h.CheckpointOffset)
		}
		k := key{a.Group, a.Topic, h.Kind, h.QueueID, h.ReviveQueue, h.CheckpointOffset, h.PopTime.UnixMilli(), h.InvisibleTime.Milliseconds()}
		e := entries[k]
		if e == nil {
			e = &batchAck{Group: a.Group, Topic: a.Topic, Retry: strconv.Itoa(int(h.Kind)), StartOffset: h.CheckpointOffset,
				QueueID: h.QueueID, ReviveQueue: h.ReviveQueue, PopTime: k.pop, InvisibleTime: k.visible}
			entries[k] = e
			out.Acks = append(out.Acks, e)
		}
		bit := int(h.Offset - h.CheckpointOffset)
		if n := bit/8 + 1; len(e.Bits) < n {
			e.Bits = append(e.Bits, make([]byte, n-len(e.Bits))...)
		}
		e.Bits[bit/8] |= 1 << (bit % 8)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("pop: encode batch ack: %w", err)
	}
	return body, nil
}
