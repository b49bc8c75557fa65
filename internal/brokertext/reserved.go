package brokertext

import "strings"

// rocketMQProperties are the property names RocketMQ gives a meaning to.
//
// Source: the values of every PROPERTY_* constant, and DUP_INFO (which
// STRING_HASH_SET also lists), in
// common/src/main/java/org/apache/rocketmq/common/message/MessageConst.java
// at tag rocketmq-all-5.3.3 of github.com/apache/rocketmq; plus the
// Property* constants of rocketmq-client-go/v2's primitive package (the
// client the gateway uses), of which only SHARDING_KEY is not in
// MessageConst; plus __STARTDELIVERTIME, the one property name the 5.3.3
// broker and Java client read as a literal outside MessageConst
// (BrokerMetricsManager, DefaultMQProducerImpl: a delayed message).
// PROPERTY_TRANSIENT_PREFIX is a prefix: see rocketMQPrefixes.
var rocketMQProperties = map[string]bool{
	// MessageConst.PROPERTY_*, in source order.
	"KEYS": true, "TAGS": true, "WAIT": true, "DELAY": true, "RETRY_TOPIC": true, "REAL_TOPIC": true,
	"REAL_QID": true, "TRAN_MSG": true, "PGROUP": true, "MIN_OFFSET": true, "MAX_OFFSET": true,
	"BUYER_ID": true, "ORIGIN_MESSAGE_ID": true, "TRANSFER_FLAG": true, "CORRECTION_FLAG": true,
	"MQ2_FLAG": true, "RECONSUME_TIME": true, "MSG_REGION": true, "TRACE_ON": true, "UNIQ_KEY": true,
	"EXTEND_UNIQ_INFO": true, "MAX_RECONSUME_TIMES": true, "CONSUME_START_TIME": true,
	"INNER_NUM": true, "INNER_BASE": true, "CHECK_IMMUNITY_TIME_IN_SECONDS": true,
	"TRAN_PREPARED_QUEUE_OFFSET": true, "__transactionId__": true, "TRANSACTION_CHECK_TIMES": true,
	"INSTANCE_ID": true, "CORRELATION_ID": true, "REPLY_TO_CLIENT": true, "TTL": true,
	"ARRIVE_TIME": true, "PUSH_REPLY_TIME": true, "CLUSTER": true, "MSG_TYPE": true, "POP_CK": true,
	"POP_CK_OFFSET": true, "1ST_POP_TIME": true, "__SHARDINGKEY": true,
	"PROPERTY_FORWARD_QUEUE_ID": true, "REDIRECT": true, "INNER_MULTI_DISPATCH": true,
	"INNER_MULTI_QUEUE_OFFSET": true, "TRACE_CONTEXT": true, "TIMER_DELAY_SEC": true,
	"TIMER_DELIVER_MS": true, "__BORNHOST": true, "BORN_TIMESTAMP": true,
	"__RMQ.TRANSIENT.TOPIC_SYS_FLAG": true, "__RMQ.TRANSIENT.GROUP_SYS_FLAG": true,
	"TIMER_ENQUEUE_MS": true, "TIMER_DEQUEUE_MS": true, "TIMER_ROLL_TIMES": true, "TIMER_OUT_MS": true,
	"TIMER_DEL_UNIQKEY": true, "TIMER_DELAY_LEVEL": true, "TIMER_DELAY_MS": true, "__CRC32#": true,
	"DLQ_ORIGIN_TOPIC": true, "DLQ_ORIGIN_MESSAGE_ID": true,
	// MessageConst.DUP_INFO (in STRING_HASH_SET).
	"DUP_INFO": true,
	// rocketmq-client-go/v2 primitive.PropertyShardingKey.
	"SHARDING_KEY": true,
	// A literal in the broker and the Java client.
	"__STARTDELIVERTIME": true,
}

// rocketMQPrefixes: MessageConst.PROPERTY_TRANSIENT_PREFIX.
var rocketMQPrefixes = []string{"__RMQ.TRANSIENT."}

// gatewayProperties are the names the gateway writes itself: W3C trace
// context and baggage.
var gatewayProperties = map[string]bool{"traceparent": true, "tracestate": true, "baggage": true}

// gatewayPrefixes mark the gateway's own properties (ZL_TX, ...), and the
// name families RocketMQ grows new system properties in (TIMER_*, POP_*,
// INNER_*, __*): refused as a whole so a property a later broker version
// reads cannot be forged today.
var gatewayPrefixes = []string{"ZL_", "zl-", "__", "TIMER_", "INNER_", "POP_", "1ST_POP"}

// guardedProperties are names earlier RocketMQ versions or its other
// clients read (bname, DELAY_SEC, DELAY_MS): refused like system ones.
var guardedProperties = map[string]bool{"bname": true, "DELAY_SEC": true, "DELAY_MS": true}

// System reports whether RocketMQ (the broker or its client) gives name a
// meaning.
func System(name string) bool {
	return rocketMQProperties[name] || hasPrefix(name, rocketMQPrefixes)
}

// Reserved reports whether a request may not set a property called name:
// RocketMQ's own (System) and the gateway's.
func Reserved(name string) bool {
	return System(name) || gatewayProperties[name] || guardedProperties[name] || hasPrefix(name, gatewayPrefixes)
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
