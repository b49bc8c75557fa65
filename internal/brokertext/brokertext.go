// Package brokertext checks the text a message carries to RocketMQ — its
// tag, keys, sharding key, property names and values, and subscription tag
// filters — before it reaches the broker.
//
// RocketMQ stores a message's properties as one string, name\x01value\x02,
// with no escaping; the tag, the keys (joined by a space) and the sharding
// key are properties too. A control character in any of them could forge a
// system property (TRAN_MSG makes a half message nobody commits, DELAY or
// TIMER_DELIVER_MS delays it, UNIQ_KEY makes a subscriber drop another
// producer's message as a duplicate). Every path that sends to the broker
// checks here first; the broker package refuses the separators again when it
// encodes (Encodable), so a path that forgets cannot forge anything.
//
// The rules (agreed for the handlers and the OpenAPI contract alike):
//   - no character U+0000–U+001F or U+007F anywhere;
//   - tag: 1–128 characters, no space and no '|';
//   - keys: each 1–128 characters, no space (RocketMQ joins keys with one);
//   - sharding key: 1–128 characters;
//   - property names: ^[A-Za-z0-9_.-]{1,64}$ and not Reserved;
//   - property values: 0–4096 characters;
//   - the encoded properties, with everything the gateway and the client
//     add, stay under the broker's limit (MaxSize).
package brokertext

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits of the rules, in characters (Unicode code points).
const (
	MaxTagLen           = 128
	MaxKeyLen           = 128
	MaxShardingKeyLen   = 128
	MaxPropertyNameLen  = 64
	MaxPropertyValueLen = 4096
)

// Size limits, in bytes of the encoded properties.
const (
	// BrokerLimit is the broker's limit on a message's encoded properties:
	// RocketMQ 5.3.3 answers MESSAGE_ILLEGAL above Short.MAX_VALUE
	// (AbstractSendMessageProcessor.msgContentCheck) and the store
	// PROPERTIES_SIZE_EXCEEDED (MessageExtEncoder.encode).
	BrokerLimit = 32767
	// EncodeLimit is what the broker package lets through when it encodes
	// a message with all its properties: it keeps room for what the
	// RocketMQ client adds after (TRAN_MSG, PGROUP) and for the CRC32 the
	// store may append.
	EncodeLimit = BrokerLimit - 256
	// Reserve is kept free, beyond the properties a request controls, for
	// those the gateway adds when it sends: UNIQ_KEY, WAIT,
	// TIMER_DELIVER_MS, ZL_TX, CHECK_IMMUNITY_TIME_IN_SECONDS, and what
	// EncodeLimit keeps for the client and the store.
	Reserve = 1024
	// MaxSize is the most Size may answer for a message to be sent.
	MaxSize = BrokerLimit - Reserve
)

// RocketMQ's property separators (MessageDecoder.NAME_VALUE_SEPARATOR and
// PROPERTY_SEPARATOR).
const (
	NameValueSeparator = '\x01'
	PropertySeparator  = '\x02'
)

// Names of the properties the message fields become.
const (
	propTags        = "TAGS"
	propKeys        = "KEYS"
	propShardingKey = "SHARDING_KEY" // rocketmq-client-go's PropertyShardingKey
)

// Violation names one offending field by its JSON pointer and says why.
type Violation struct {
	Field  string
	Reason string
}

// Message is the broker text of one message as a request gives it.
type Message struct {
	Tag         string
	Keys        []string
	ShardingKey string
	// Properties are the request's own properties (before the gateway
	// adds trace context).
	Properties map[string]string
}

// Check returns the violations of m; at prefixes every field pointer ("" for
// a request's root, "/messages/3" for a batch member). Empty Tag and
// ShardingKey mean absent.
func Check(at string, m Message) []Violation {
	var out []Violation
	if m.Tag != "" {
		out = append(out, CheckTag(at+"/tag", m.Tag)...)
	}
	for i, k := range m.Keys {
		out = append(out, CheckKey(fmt.Sprintf("%s/keys/%d", at, i), k)...)
	}
	if m.ShardingKey != "" {
		out = append(out, CheckShardingKey(at+"/shardingKey", m.ShardingKey)...)
	}
	return append(out, CheckProperties(at+"/properties", m.Properties)...)
}

// CheckTag checks one tag.
func CheckTag(field, tag string) []Violation {
	if r := textReason(tag, 1, MaxTagLen, " |"); r != "" {
		return []Violation{{field, r}}
	}
	return nil
}

// CheckKey checks one message key.
func CheckKey(field, key string) []Violation {
	if r := textReason(key, 1, MaxKeyLen, " "); r != "" {
		return []Violation{{field, r}}
	}
	return nil
}

// CheckShardingKey checks a sharding key.
func CheckShardingKey(field, key string) []Violation {
	if r := textReason(key, 1, MaxShardingKeyLen, ""); r != "" {
		return []Violation{{field, r}}
	}
	return nil
}

// CheckProperties checks a request's properties, in name order; field is the
// pointer of the map, each violation points at one name.
func CheckProperties(field string, props map[string]string) []Violation {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []Violation
	for _, k := range names {
		at := field + "/" + escapePointer(k)
		switch {
		case !validName(k):
			out = append(out, Violation{at, fmt.Sprintf("name must be 1 to %d characters of A-Z a-z 0-9 _ . -", MaxPropertyNameLen)})
		case Reserved(k):
			out = append(out, Violation{at, "name is reserved by RocketMQ or the gateway"})
		default:
			if r := textReason(props[k], 0, MaxPropertyValueLen, ""); r != "" {
				out = append(out, Violation{at, "value " + r})
			}
		}
	}
	return out
}

// CheckTagFilter checks a subscription's tag expression: "*" or tags joined
// by "||", each optionally surrounded by spaces (RocketMQ trims them).
func CheckTagFilter(field, expr string) []Violation {
	if expr == "*" {
		return nil
	}
	if r := textReason(expr, 1, -1, ""); r != "" {
		return []Violation{{field, r}}
	}
	for _, t := range strings.Split(expr, "||") {
		if r := textReason(strings.Trim(t, " "), 1, MaxTagLen, " |"); r != "" {
			return []Violation{{field, "must be * or tags joined by ||; a tag " + r}}
		}
	}
	return nil
}

// textReason says why s breaks a rule ("" when it does not): its length in
// characters must be lo to hi (hi < 0: unbounded; lo is 0 or 1), and it must
// hold no control character and none of forbidden.
func textReason(s string, lo, hi int, forbidden string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n < lo:
		return "must not be empty"
	case hi >= 0 && n > hi:
		return fmt.Sprintf("must be at most %d characters", hi)
	}
	for _, r := range s {
		switch {
		case isControl(r):
			return fmt.Sprintf("must not contain the control character U+%04X", r)
		case strings.ContainsRune(forbidden, r):
			return fmt.Sprintf("must not contain %q", r)
		}
	}
	return ""
}

// isControl reports a C0 control character or DEL.
func isControl(r rune) bool { return r <= 0x1f || r == 0x7f }

func validName(k string) bool {
	if len(k) == 0 || len(k) > MaxPropertyNameLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// escapePointer escapes a JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Size returns the bytes the encoded properties of m take: its properties
// (including any the gateway already added, such as trace context) and the
// tag, keys and sharding key, each as name\x01value\x02.
func Size(m Message) int {
	n := EncodedSize(m.Properties)
	if m.Tag != "" {
		n += entrySize(propTags, m.Tag)
	}
	if len(m.Keys) > 0 {
		n += entrySize(propKeys, strings.Join(m.Keys, " "))
	}
	if m.ShardingKey != "" {
		n += entrySize(propShardingKey, m.ShardingKey)
	}
	return n
}

// EncodedSize returns the bytes of props encoded as RocketMQ does.
func EncodedSize(props map[string]string) int {
	n := 0
	for k, v := range props {
		n += entrySize(k, v)
	}
	return n
}

func entrySize(k, v string) int { return len(k) + len(v) + 2 }

// ErrSeparator means a property name or value holds one of RocketMQ's
// property separators, or a name is empty: encoding it would forge or drop
// properties.
var ErrSeparator = errors.New("brokertext: property holds a RocketMQ separator")

// ErrTooLarge means the encoded properties are over the broker's limit.
var ErrTooLarge = errors.New("brokertext: encoded properties too large")

// Encodable reports whether props can be encoded for the broker without
// forging or losing a property: no name is empty, no name or value holds a
// separator, and the encoding fits EncodeLimit. The error wraps
// ErrSeparator or ErrTooLarge.
func Encodable(props map[string]string) error {
	for k, v := range props {
		if k == "" || strings.ContainsAny(k, "\x01\x02") || strings.ContainsAny(v, "\x01\x02") {
			return fmt.Errorf("%w: property %q", ErrSeparator, k)
		}
	}
	if n := EncodedSize(props); n > EncodeLimit {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, n, EncodeLimit)
	}
	return nil
}

// Encode joins props as RocketMQ does, in name order.
func Encode(props map[string]string) string {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(NameValueSeparator)
		b.WriteString(props[k])
		b.WriteByte(PropertySeparator)
	}
	return b.String()
}

// Decode splits encoded properties as the broker does
// (MessageDecoder.string2messageProperties in RocketMQ 5.3.3): an entry
// without a name or without a value is dropped, a later name wins.
func Decode(s string) map[string]string {
	out := map[string]string{}
	for _, item := range strings.Split(s, string(PropertySeparator)) {
		k, v, ok := strings.Cut(item, string(NameValueSeparator))
		if ok && k != "" && v != "" {
			out[k] = v
		}
	}
	return out
}
