package send

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/zeroloss/zeroloss/api"
)

// DecodeMessage decodes the body of POST /v1/topics/{topic}/messages in one
// pass into the typed request and reports whether the contract's schema
// (PublishMessageRequest in api/openapi.yaml) certainly accepts it. It
// never answers true for a body the contract refuses; it answers false for
// any body it is not sure of: a refused one, and rare forms it leaves to
// the generic validator (a null, a repeated or escaped member name, a
// deliverAt, a number with a fraction or exponent, invalid UTF-8, non-ASCII
// text near a length limit, bytes after the object). A false means:
// validate against the contract the slow, exact way, which also words the
// problem.
func DecodeMessage(b []byte) (*api.PublishMessageRequest, bool) {
	d := decoder{b: b}
	var req api.PublishMessageRequest
	var m message
	ok := d.object(func(name string) bool {
		switch name {
		case "shardingKey":
			s, ok := d.text(1, 128, isShardingKeyByte)
			req.ShardingKey = &s
			return ok
		case "delaySeconds":
			n, ok := d.integer()
			req.DelaySeconds = &n
			return ok && n >= 1 && n <= 86400
		}
		return d.member(name, &m) // deliverAt (format date-time) and unknown names: false
	}) && d.end()
	if !ok || !m.valid() {
		return nil, false
	}
	req.Body, req.Encoding, req.Tag, req.Keys, req.Properties = m.body, m.enc, m.tag, m.keys, m.props
	return &req, true
}

// DecodeBatch is DecodeMessage for POST /v1/topics/{topic}/message-batches
// (PublishBatchRequest).
func DecodeBatch(b []byte) (*api.PublishBatchRequest, bool) {
	d := decoder{b: b}
	var req api.PublishBatchRequest
	ok := d.object(func(name string) bool {
		if name != "messages" || !d.consume('[') {
			return false
		}
		req.Messages = make([]api.BatchMessage, 0, 8)
		for first := true; ; first = false {
			if d.consume(']') {
				return !first && len(req.Messages) <= 100
			}
			if !first && !d.consume(',') {
				return false
			}
			var m message
			if !d.object(func(name string) bool { return d.member(name, &m) }) || !m.valid() {
				return false
			}
			req.Messages = append(req.Messages, api.BatchMessage{Body: m.body, Encoding: m.enc, Tag: m.tag, Keys: m.keys, Properties: m.props})
		}
	}) && d.end()
	if !ok || req.Messages == nil {
		return nil, false
	}
	return &req, true
}

// DecodeBegin is DecodeMessage for POST /v1/transactions
// (BeginTransactionRequest): a transaction begins with the send of a half
// message, and shares the message members with the send requests.
func DecodeBegin(b []byte) (*api.BeginTransactionRequest, bool) {
	d := decoder{b: b}
	var req api.BeginTransactionRequest
	var m message
	var producer, topic bool
	ok := d.object(func(name string) bool {
		switch name {
		case "producer":
			s, ok := d.text(len(producerPrefix)+26, len(producerPrefix)+26, isIDByte)
			req.Producer, producer = s, true
			return ok && producerID(s)
		case "topic":
			s, ok := d.text(1, 127, isTopicByte)
			req.Topic, topic = s, true
			return ok && !reservedTopic(s)
		case "checkAfterSeconds":
			n, ok := d.integer()
			c := int(n)
			req.CheckAfterSeconds = &c
			return ok && n >= 1 && n <= 86400
		}
		return d.member(name, &m)
	}) && d.end()
	if !ok || !producer || !topic || !m.valid() {
		return nil, false
	}
	req.Body, req.Encoding, req.Tag, req.Keys, req.Properties = m.body, m.enc, m.tag, m.keys, m.props
	return &req, true
}

// producerPrefix starts a producer id.
const producerPrefix = "prd_"

// producerID matches '^prd_[0-9A-Za-z]{26}$' (s holds only isIDByte bytes).
func producerID(s string) bool {
	return len(s) == len(producerPrefix)+26 && strings.HasPrefix(s, producerPrefix) &&
		!strings.Contains(s[len(producerPrefix):], "_")
}

// isIDByte is [0-9A-Za-z_].
func isIDByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
}

// isTopicByte is TopicName's '^[A-Za-z0-9_-]+$'.
func isTopicByte(c byte) bool { return isIDByte(c) || c == '-' }

// TopicParam reports whether s matches the path parameter topic's schema
// (Topic in api/openapi.yaml: 1 to 127 characters of A-Z a-z 0-9 _ -);
// the reserved names pass it, for the handlers to refuse.
func TopicParam(s string) bool {
	if len(s) < 1 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTopicByte(s[i]) {
			return false
		}
	}
	return true
}

// KeyParam reports whether s matches the Idempotency-Key header's schema:
// 1 to 255 characters of \x21-\x7E.
func KeyParam(s string) bool {
	if len(s) < 1 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

// ReservedTopic reports whether name is one of RocketMQ's own topics,
// which TopicName excludes: the listed names, and any starting with
// RMQ_SYS_ in any case.
func ReservedTopic(name string) bool { return reservedTopic(name) }

func reservedTopic(name string) bool {
	switch name {
	case "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "OFFSET_MOVED_EVENT", "SELF_TEST_TOPIC",
		"TRANS_CHECK_MAX_TIME_TOPIC", "DefaultCluster":
		return true
	}
	return strings.HasPrefix(strings.ToUpper(name), "RMQ_SYS_")
}

// message holds the members a single message and a batch member share.
type message struct {
	body  string
	enc   *api.Encoding
	tag   *string
	keys  *api.Keys
	props *api.Properties
}

// valid checks what the schema says about a message as a whole: a body is
// required, and with encoding base64 it matches
// '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'.
func (m *message) valid() bool {
	if m.body == "" {
		return false
	}
	return m.enc == nil || *m.enc != api.Base64 || paddedBase64(m.body)
}

// member decodes one of the members a single message and a batch member
// share, with the schema's checks.
func (d *decoder) member(name string, m *message) bool {
	switch name {
	case "body":
		s, ok := d.text(1, -1, nil)
		m.body = s
		return ok
	case "encoding":
		s, ok := d.text(1, 8, nil)
		e := api.Encoding(s)
		m.enc = &e
		return ok && (e == api.Utf8 || e == api.Base64)
	case "tag":
		s, ok := d.text(1, 128, isTagByte)
		m.tag = &s
		return ok
	case "keys":
		if !d.consume('[') {
			return false
		}
		ks := api.Keys{}
		for first := true; ; first = false {
			if d.consume(']') {
				m.keys = &ks
				return len(ks) <= 32
			}
			if !first && !d.consume(',') {
				return false
			}
			k, ok := d.text(1, 128, isKeyByte)
			if !ok {
				return false
			}
			ks = append(ks, k)
		}
	case "properties":
		ps := api.Properties{}
		ok := d.object(func(name string) bool {
			// Names are free as far as the schema goes (the contract writes
			// their rule as patternProperties, which the generic validator
			// does not apply either): the Service checks them.
			v, ok := d.text(0, 4096, isValueByte)
			ps[name] = v
			return ok
		})
		m.props = &ps
		return ok && len(ps) <= 64
	}
	return false
}

// decoder reads the subset of JSON the send requests are made of, exactly
// as encoding/json would, and declines everything else.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if c is next.
func (d *decoder) consume(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (d *decoder) end() bool {
	d.space()
	return d.i == len(d.b)
}

// object reads an object, calling member with each member's name once its
// colon is read (member reads the value). A repeated name declines (the
// generic decoder keeps the last; the contract is silent).
func (d *decoder) object(member func(name string) bool) bool {
	if !d.consume('{') {
		return false
	}
	var seen []string
	for first := true; ; first = false {
		if d.consume('}') {
			return true
		}
		if !first && !d.consume(',') {
			return false
		}
		d.space()
		name, ok := d.plainString()
		if !ok || !d.consume(':') {
			return false
		}
		for _, s := range seen {
			if s == name {
				return false
			}
		}
		seen = append(seen, name)
		if !member(name) {
			return false
		}
	}
}

// text reads a string value of min to max bytes (max < 0: no limit) whose
// every byte ok accepts (nil: any byte). Lengths are counted in bytes: a string of at most
// max bytes has at most max characters however they are counted, so this
// never accepts a string the schema refuses (a longer non-ASCII one is
// left to the generic validator).
func (d *decoder) text(min, max int, ok func(byte) bool) (string, bool) {
	d.space()
	s, good := d.plainString()
	if !good {
		s, good = d.escapedString()
	}
	if !good || len(s) < min || (max >= 0 && len(s) > max) {
		return "", false
	}
	if ok == nil {
		return s, true
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return "", false
		}
	}
	return s, true
}

// plainString reads a string without escapes: valid UTF-8 and no control
// character (which JSON forbids raw). It leaves the position alone when it
// declines.
func (d *decoder) plainString() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			raw := d.b[start:j]
			if !utf8.Valid(raw) {
				return "", false
			}
			d.i = j + 1
			return string(raw), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// escapedString reads a string with escapes through encoding/json (rare:
// text holding quotes, e.g. a JSON body). Invalid UTF-8 (which the generic
// decoder would replace) declines.
func (d *decoder) escapedString() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	end := -1
	for j := d.i + 1; j < len(d.b); j++ {
		if d.b[j] == '\\' {
			j++
			continue
		}
		if d.b[j] == '"' {
			end = j + 1
			break
		}
	}
	if end < 0 || !utf8.Valid(d.b[d.i:end]) {
		return "", false
	}
	var s string
	if json.Unmarshal(d.b[d.i:end], &s) != nil {
		return "", false
	}
	d.i = end
	return s, true
}

// integer reads an integer written plainly: an optional minus, then 0 or
// digits without a leading zero, at most 18 of them (no fraction, exponent
// or overflow to think about).
func (d *decoder) integer() (int64, bool) {
	d.space()
	neg := false
	if d.i < len(d.b) && d.b[d.i] == '-' {
		neg = true
		d.i++
	}
	start := d.i
	var n int64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		n = n*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 18 || (digits > 1 && d.b[start] == '0') {
		return 0, false
	}
	// A fraction or exponent follows: not ours.
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// The patterns' character classes, byte by byte (bytes of multi-byte UTF-8
// characters are all ≥ 0x80, never in these ranges):
// Tag '^[^\x00-\x20\x7F|]+$', Keys items '^[^\x00-\x20\x7F]+$',
// shardingKey '^[^\x00-\x1F\x7F]+$', property values '^[^\x00-\x1F\x7F]*$'.
func isTagByte(c byte) bool         { return c > 0x20 && c != 0x7F && c != '|' }
func isKeyByte(c byte) bool         { return c > 0x20 && c != 0x7F }
func isShardingKeyByte(c byte) bool { return c >= 0x20 && c != 0x7F }
func isValueByte(c byte) bool       { return c >= 0x20 && c != 0x7F }

// paddedBase64 matches the contract's base64 pattern exactly.
func paddedBase64(s string) bool {
	n := len(s)
	if n%4 != 0 {
		return false
	}
	for i := 0; i < n; i++ {
		if isBase64Byte(s[i]) {
			continue
		}
		// Only padding in the last group: "xx==" or "xxx=".
		switch {
		case i == n-1 && s[i] == '=':
			continue
		case i == n-2 && s[i] == '=' && s[n-1] == '=':
			i++
			continue
		}
		return false
	}
	return true
}

func isBase64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}
