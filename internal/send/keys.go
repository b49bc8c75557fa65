package send

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/idempotency"
)

// KeyStore keeps Idempotency-Key records (idempotency.Store). Begin claims
// a key; the claimant must Complete it with the answer to keep or Release
// it so a retry may run. Both must be safe to call after the request's
// context is cancelled.
type KeyStore interface {
	Begin(ctx context.Context, scope, key, fingerprint string) (idempotency.Claim, error)
	Complete(ctx context.Context, c idempotency.Claim, resp idempotency.Response) error
	Release(ctx context.Context, c idempotency.Claim) error
}

// Keys makes requests with an Idempotency-Key safe to retry: a request is
// identified by its fingerprint (Fingerprint), its 2xx answer is kept and
// replayed, any other outcome reopens the key keeping the request's
// message-id seed (idempotency.Claim.Seed), so the retry sends the same ids.
type Keys struct {
	store KeyStore
	// finishTimeout bounds Finish, whatever the request's context.
	finishTimeout time.Duration
}

// NewKeys returns Keys over store.
func NewKeys(store KeyStore) *Keys {
	return &Keys{store: store, finishTimeout: 5 * time.Second}
}

// Begin claims key in scope for the request method path body; decoded is
// the body as the one-pass decoder bound it (DecodeMessage, DecodeBatch),
// or nil.
func (k *Keys) Begin(ctx context.Context, scope, key, method, path string, body []byte, decoded any) (idempotency.Claim, error) {
	return k.store.Begin(ctx, scope, key, fingerprint(method, path, body, decoded))
}

// Finish keeps a 2xx answer for replay, or else reopens the key; it runs
// within its own time even when ctx is cancelled (the client went away:
// the outcome must still be recorded).
func (k *Keys) Finish(ctx context.Context, c idempotency.Claim, resp idempotency.Response) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.finishTimeout)
	defer cancel()
	if resp.Status >= 200 && resp.Status < 300 {
		if err := k.store.Complete(ctx, c, resp); err != nil {
			return fmt.Errorf("send: keep the answer: %w", err)
		}
		return nil
	}
	return k.Abandon(ctx, c)
}

// Abandon reopens the key (the request failed, or panicked).
func (k *Keys) Abandon(ctx context.Context, c idempotency.Claim) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.finishTimeout)
	defer cancel()
	if err := k.store.Release(ctx, c); err != nil {
		return fmt.Errorf("send: release the key: %w", err)
	}
	return nil
}

// Fingerprint identifies what a request asks for, for its Idempotency-Key:
// the method, the path and the body. A body that is one JSON value counts
// by what the handlers decode from it, so a client that serialises the same
// request again on retry (members in another order, other whitespace or
// string escapes) is replayed rather than refused; numbers count as written
// (1 and 1.0 differ). Any other body counts byte for byte. Each part is
// tagged and length-prefixed, so no two different requests share a
// fingerprint by moving bytes from one part to another.
func Fingerprint(method, path string, body []byte) string {
	return fingerprint(method, path, body, nil)
}

// fingerprint is Fingerprint; the canonical form of a body the one-pass
// decoder bound is written from the typed request (the same bytes as
// canonicalJSON of the body, without decoding it again). The parts are
// framed into one buffer, on the stack for a body of a few KiB, and hashed
// at once.
func fingerprint(method, path string, body []byte, decoded any) string {
	var buf [4096]byte
	b := framePart(buf[:0], 'm', []byte(method))
	b = framePart(b, 'p', []byte(path))
	n := len(b)
	b = append(b, make([]byte, partHeader)...) // the header, once the part's length is known
	if c, ok := appendCanonicalDecoded(b, decoded); ok {
		putPartHeader(c[n:n+partHeader], 'j', len(c)-n-partHeader)
		b = c
	} else if c, ok := canonicalJSON(body); ok {
		b = framePart(b[:n], 'j', c)
	} else {
		b = framePart(b[:n], 'b', body)
	}
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// partHeader is the size of a part's header: its tag, then its length as
// 8 bytes, big-endian.
const partHeader = 9

// framePart appends one tagged, length-prefixed part.
func framePart(b []byte, tag byte, part []byte) []byte {
	var hdr [partHeader]byte
	putPartHeader(hdr[:], tag, len(part))
	return append(append(b, hdr[:]...), part...)
}

func putPartHeader(hdr []byte, tag byte, n int) {
	hdr[0] = tag
	binary.BigEndian.PutUint64(hdr[1:], uint64(n))
}

// canonicalJSON re-encodes a body that is exactly one JSON value: object
// members sorted by name, no insignificant whitespace, numbers as written.
func canonicalJSON(b []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false // a second value or trailing bytes
	}
	c, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return c, true
}

// appendCanonicalDecoded appends the canonical form (canonicalJSON's
// bytes) of a send request the one-pass decoder bound: its members in name
// order, as encoding/json writes them (the decoder takes only integers
// written plainly, which encoding/json writes back alike). ok is false for
// any other value.
func appendCanonicalDecoded(b []byte, decoded any) ([]byte, bool) {
	switch r := decoded.(type) {
	case *api.PublishMessageRequest:
		if r.DeliverAt != nil { // never decoded in one pass
			return nil, false
		}
		b = append(b, `{"body":`...)
		b = appendJSONString(b, r.Body)
		if r.DelaySeconds != nil {
			b = append(b, `,"delaySeconds":`...)
			b = strconv.AppendInt(b, *r.DelaySeconds, 10)
		}
		b = appendCommon(b, r.Encoding, r.Keys, r.Properties)
		if r.ShardingKey != nil {
			b = append(b, `,"shardingKey":`...)
			b = appendJSONString(b, *r.ShardingKey)
		}
		return appendTag(b, r.Tag), true
	case *api.PublishBatchRequest:
		if r.Messages == nil {
			return append(b, `{"messages":null}`...), true
		}
		b = append(b, `{"messages":[`...)
		for i, m := range r.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"body":`...)
			b = appendJSONString(b, m.Body)
			b = appendCommon(b, m.Encoding, m.Keys, m.Properties)
			b = appendTag(b, m.Tag)
		}
		return append(b, "]}"...), true
	case *api.BeginTransactionRequest:
		b = append(b, `{"body":`...)
		b = appendJSONString(b, r.Body)
		if r.CheckAfterSeconds != nil {
			b = append(b, `,"checkAfterSeconds":`...)
			b = strconv.AppendInt(b, int64(*r.CheckAfterSeconds), 10)
		}
		if r.Encoding != nil {
			b = append(b, `,"encoding":`...)
			b = appendJSONString(b, string(*r.Encoding))
		}
		if r.Keys != nil {
			b = append(b, `,"keys":`...)
			b = appendStrings(b, *r.Keys)
		}
		b = append(b, `,"producer":`...)
		b = appendJSONString(b, r.Producer)
		if r.Properties != nil {
			b = append(b, `,"properties":`...)
			b = appendProperties(b, *r.Properties)
		}
		if r.Tag != nil {
			b = append(b, `,"tag":`...)
			b = appendJSONString(b, *r.Tag)
		}
		b = append(b, `,"topic":`...)
		return append(appendJSONString(b, r.Topic), '}'), true
	}
	return nil, false
}

// appendCommon appends the encoding, keys and properties members, each when set.
func appendCommon(b []byte, enc *api.Encoding, keys *api.Keys, props *api.Properties) []byte {
	if enc != nil {
		b = append(b, `,"encoding":`...)
		b = appendJSONString(b, string(*enc))
	}
	if keys != nil {
		b = append(b, `,"keys":`...)
		b = appendStrings(b, *keys)
	}
	if props != nil {
		b = append(b, `,"properties":`...)
		b = appendProperties(b, *props)
	}
	return b
}

// appendTag appends the tag member when set, and closes the object.
func appendTag(b []byte, tag *string) []byte {
	if tag != nil {
		b = append(b, `,"tag":`...)
		b = appendJSONString(b, *tag)
	}
	return append(b, '}')
}

// appendStrings appends a list of strings as encoding/json does (nil: null).
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendProperties appends a string map as encoding/json does: members in
// name order (nil: null).
func appendProperties(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var stack [16]string
	names := stack[:0]
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	b = append(b, '{')
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it: a string of printable ASCII that needs no escape (the usual
// case) as it is, any other by encoding/json itself (HTML-safe escapes,
// U+2028 and U+2029, invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // a string always encodes
				panic("send: encode a string: " + err.Error())
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
