package send

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/zeroloss/zeroloss/api"
)

// DecodeMessage decodes the body of POST /v1/topics/{topic}/messages in one
// pass into the typed request and reports whether the contract's schema
// (PublishMessageRequest in api/openapi.yaml) certainly accepts it. It
// never answers true for a body the contract refuses; it answers false for
// any body it is not sure of (a refused one, and a few rare forms it leaves
// to the generic validator: a null, a repeated member, a deliverAt, a
// number written with a fraction or exponent, non-ASCII text near a length
// limit, trailing bytes). A false means: validate against the contract, the
// slow and exact way, which also words the problem.
func DecodeMessage(b []byte) (*api.PublishMessageRequest, bool) {
	var req api.PublishMessageRequest
	ok := decodeObject(b, func(dec *json.Decoder, name string) bool {
		switch name {
		case "body", "encoding", "tag", "keys", "properties":
			return decodeMember(dec, name, &req.Body, &req.Encoding, &req.Tag, &req.Keys, &req.Properties)
		case "shardingKey":
			return decodePtr(dec, &req.ShardingKey) && validText(*req.ShardingKey, 1, 128, isShardingKeyByte)
		case "delaySeconds":
			if !decodePtr(dec, &req.DelaySeconds) {
				return false
			}
			d := *req.DelaySeconds
			return d >= 1 && d <= 86400
		}
		return false // deliverAt (format date-time) and unknown members
	})
	if !ok || !validMessage(req.Body, req.Encoding) {
		return nil, false
	}
	return &req, true
}

// DecodeBatch is DecodeMessage for POST /v1/topics/{topic}/message-batches
// (PublishBatchRequest).
func DecodeBatch(b []byte) (*api.PublishBatchRequest, bool) {
	var req api.PublishBatchRequest
	seen := false
	ok := decodeObject(b, func(dec *json.Decoder, name string) bool {
		if name != "messages" {
			return false
		}
		seen = true
		return decodeArray(dec, 100, func() bool {
			var m api.BatchMessage
			ok := decodeObject(nil, func(_ *json.Decoder, name string) bool {
				switch name {
				case "body", "encoding", "tag", "keys", "properties":
					return decodeMember(dec, name, &m.Body, &m.Encoding, &m.Tag, &m.Keys, &m.Properties)
				}
				return false
			}, dec)
			if !ok || !validMessage(m.Body, m.Encoding) {
				return false
			}
			req.Messages = append(req.Messages, m)
			return true
		})
	})
	if !ok || !seen || len(req.Messages) == 0 {
		return nil, false
	}
	return &req, true
}

// decodeObject reads one JSON object, from b (then nothing but white space
// may follow) or, with b nil, from the decoder given, calling member for
// each member name once: a repeated name, or member answering false,
// answers false.
func decodeObject(b []byte, member func(dec *json.Decoder, name string) bool, decs ...*json.Decoder) bool {
	var dec *json.Decoder
	if b != nil {
		dec = json.NewDecoder(bytes.NewReader(b))
	} else {
		dec = decs[0]
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var seen []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		name, ok := t.(string)
		if !ok {
			return false
		}
		for _, s := range seen {
			if s == name {
				return false
			}
		}
		seen = append(seen, name)
		if !member(dec, name) {
			return false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return false
	}
	if b != nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return false
		}
	}
	return true
}

// decodeArray reads a JSON array of at most max elements, calling elem for
// each (elem reads it from the same decoder).
func decodeArray(dec *json.Decoder, max int, elem func() bool) bool {
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return false
	}
	n := 0
	for dec.More() {
		if n++; n > max || !elem() {
			return false
		}
	}
	t, err := dec.Token()
	return err == nil && t == json.Delim(']')
}

// decodeMember decodes one of the members a single message and a batch
// member share, with the schema's checks.
func decodeMember(dec *json.Decoder, name string, body *string, enc **api.Encoding, tag **string, keys **api.Keys, props **api.Properties) bool {
	switch name {
	case "body":
		// A null leaves body empty, which minLength refuses.
		return dec.Decode(body) == nil && len(*body) >= 1
	case "encoding":
		return decodePtr(dec, enc) && (**enc == api.Utf8 || **enc == api.Base64)
	case "tag":
		return decodePtr(dec, tag) && validText(**tag, 1, 128, isTagByte)
	case "keys":
		ks := api.Keys{}
		// A null array leaves ks nil; a null key "", which minLength refuses.
		if dec.Decode(&ks) != nil || ks == nil || len(ks) > 32 {
			return false
		}
		for _, k := range ks {
			if !validText(k, 1, 128, isKeyByte) {
				return false
			}
		}
		*keys = &ks
		return true
	case "properties":
		raw := map[string]*string{}
		if dec.Decode(&raw) != nil || raw == nil || len(raw) > 64 {
			return false
		}
		// Names are free as far as the schema goes (the contract writes
		// their rule as patternProperties, which the generic validator does
		// not apply either): the Service checks them.
		ps := make(api.Properties, len(raw))
		for k, v := range raw {
			if v == nil || !validText(*v, 0, 4096, isValueByte) {
				return false
			}
			ps[k] = *v
		}
		*props = &ps
		return true
	}
	return false
}

// decodePtr decodes a value that must not be null into *p.
func decodePtr[T any](dec *json.Decoder, p **T) bool {
	v := new(T)
	*p = v
	// Decoding null into the pointer sets it to nil.
	if dec.Decode(p) != nil || *p == nil {
		return false
	}
	return true
}

// validText checks a string's length against the schema's minLength and
// maxLength and every byte against the pattern's class. Lengths are counted
// in bytes: a string of at most max bytes has at most max characters
// however they are counted, so this never accepts a string the schema
// refuses (a longer non-ASCII one is left to the generic validator).
func validText(s string, min, max int, ok func(byte) bool) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// The patterns' character classes, byte by byte (bytes of multi-byte UTF-8
// characters are all ≥ 0x80, never in these ranges):
// Tag '^[^\x00-\x20\x7F|]+$', Keys items '^[^\x00-\x20\x7F]+$',
// shardingKey '^[^\x00-\x1F\x7F]+$', property values '^[^\x00-\x1F\x7F]*$'.
func isTagByte(c byte) bool         { return c > 0x20 && c != 0x7F && c != '|' }
func isKeyByte(c byte) bool         { return c > 0x20 && c != 0x7F }
func isShardingKeyByte(c byte) bool { return c >= 0x20 && c != 0x7F }
func isValueByte(c byte) bool       { return c >= 0x20 && c != 0x7F }

// validMessage checks what the schema says about a message as a whole: a
// body is required, and with encoding base64 it matches
// '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'.
func validMessage(body string, enc *api.Encoding) bool {
	if body == "" {
		return false
	}
	if enc == nil || *enc != api.Base64 {
		return true
	}
	return paddedBase64(body)
}

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
