// Package pop is a RocketMQ 5 POP consumption client over the remoting
// protocol (RIP-19), which rocketmq-client-go/v2 lacks: PopMessage,
// AckMessage (alone and batched) and ChangeInvisibleTime against the master brokers of a
// topic. It is the foundation of a delivery engine whose memory is bounded
// by the messages in flight: the broker keeps the offsets, the
// invisibility timers, the retry topic and the redelivery; a popper keeps
// nothing but the handles of what it holds.
//
// # Wire format decisions
//
//   - Frames are RocketMQ remoting frames with a JSON header (code, opaque,
//     flag, extFields as strings). Codes: POP_MESSAGE 200050, ACK_MESSAGE
//     200051, CHANGE_MESSAGE_INVISIBLETIME 200053,
//     UPDATE_AND_CREATE_SUBSCRIPTIONGROUP 200, GET_ROUTEINFO_BY_TOPIC 105.
//     One request per connection at a time; a long poll holds its
//     connection, with an RPC deadline of PollTime + Config.PollSlack.
//   - bornTime is sent as "0" so the broker stamps it with its own clock:
//     a client clock ahead of the broker's would otherwise make the broker
//     answer POLLING_TIMEOUT at once (isTimeoutTooMuch).
//   - The body is the stored messages back to back, as for PULL; each is
//     framed by its total size and decoded with primitive.DecodeMessage.
//   - The receipt handle is RocketMQ's extraInfo, eight fields separated by
//     spaces: "ckOffset popTime invisibleTime reviveQid kind brokerName
//     queueId offset" (ExtraInfoUtil). ckOffset is the start offset of the
//     broker's check point for the message's queue, from the response's
//     startOffsetInfo ("kind queue offset" entries joined by ";"); kind is
//     0 for the topic, 1 for the group's retry topic %RETRY%{group}_{topic}
//     (2 for the v2 spelling %RETRY%{group}+{topic}). A message popped from
//     the retry topic is re-encoded by the broker with the original topic
//     and its handle in the POP_CK property: that handle is used as is.
//     Handle.String is the form the Java client and the proxy exchange
//     (the proxy appends a ninth field, the commit log offset, which
//     ParseHandle accepts and ignores).
//   - ACK and CHANGE_INVISIBLETIME name the topic the message is stored in
//     (the retry topic for kind 1 and 2), its queue and offset and the
//     whole handle, and go to the master of the handle's broker.
//     CHANGE_INVISIBLETIME writes a new check point starting at the message
//     and acks the old one: the new handle is "offset popTime'
//     invisibleTime' reviveQid' kind broker queue offset"; the old handle
//     is dead.
//   - BATCH_ACK_MESSAGE 200151 (AckBatch) has no header; its body is
//     BatchAckMessageRequestBody as JSON: {"brokerName", "acks": [{"c"
//     group, "t" subscribed topic, "r" kind as "0"/"1"/"2", "so" check
//     point offset, "q" queue, "rq" revive queue, "pt" pop time, "it"
//     invisible time, "b" java.util.BitSet.toByteArray of offset − so, as
//     base64}]}, one entry per check point (AckMessageProcessor,
//     BitSetSerializerDeserializer). The broker answers success whatever
//     it made of each entry (offsets outside the queue are skipped), and
//     writes one ack record per entry, not per message.
//   - No heartbeat: the broker registers the consumer and its subscription
//     from the POP header. It needs the subscription group: brokers with
//     autoCreateSubscriptionGroup=true (the default, and the local stack)
//     create it on the first POP; EnsureGroup creates it explicitly
//     (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP), and a POP for an unknown group
//     fails with ErrGroupNotFound. The retry topic is the broker's own
//     business: it creates %RETRY%{group}_{topic} (one queue) itself, even
//     with autoCreateTopicEnable=false (PopReviveService).
//
// # Behaviour the tests pin down (RocketMQ 5.3.3)
//
//   - An un-acked message, or one whose invisible time was changed, comes
//     back from the retry topic (handle kind 1, from POP_CK) with
//     ReconsumeTimes+1, a few seconds after its invisible time ends (the
//     revive scan and timer wheel add ~3 s to a 2 s invisible time).
//   - The handle a CHANGE_INVISIBLETIME replaced is dead, but the broker
//     acks it without error: the message still comes back. A non-orderly
//     ack is not checked for expiry either. Callers must ack with the
//     latest handle and treat a late ack as possibly void.
//   - An orderly pop locks the queue until the batch is acked or visible
//     again; a batch sent back comes again first, its ReconsumeTimes taken
//     from orderCountInfo ("kind qo{queue}%{offset} count").
//   - Cancelling a long poll closes its connection; the broker does not
//     hand a later message to the abandoned request.
//   - The broker never dead-letters a popped message: a message that keeps
//     failing reappears forever (ReconsumeTimes grows). Dead-lettering
//     after a retry schedule is the caller's: store the copy, then Ack.
//
// Read in PopReviveService, not tested here: deleting the subscription
// group (or the topic) makes the revive service skip the group's check
// points, so its in-flight messages are dropped, not revived. Pausing a
// subscription must keep its group.
//
// # The engine
//
// internal/push's Engine builds on this client: a global in-flight budget
// sizes each POP, a bounded set of pollers pops for every subscription,
// ChangeInvisibleTime is the retry delay and the renewal of a long
// delivery, a dead-letter copy is stored before the Ack, and ordered
// subscriptions pop with Orderly.
package pop
