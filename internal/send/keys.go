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
// canonicalJSON of the body, without decoding it again).
func fingerprint(method, path string, body []byte, decoded any) string {
	h := sha256.New()
	part := func(tag byte, b []byte) {
		var hdr [9]byte
		hdr[0] = tag
		binary.BigEndian.PutUint64(hdr[1:], uint64(len(b)))
		h.Write(hdr[:])
		h.Write(b)
	}
	part('m', []byte(method))
	part('p', []byte(path))
	if c, ok := canonicalDecoded(decoded); ok {
		part('j', c)
	} else if c, ok := canonicalJSON(body); ok {
		part('j', c)
	} else {
		part('b', body)
	}
	return hex.EncodeToString(h.Sum(nil))
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

// canonicalMessage, canonicalItem and canonicalBegin are the send requests with their
// members in name order, as canonicalJSON writes them (the decoder takes
// only integers written plainly, which encoding/json writes back alike).
type canonicalMessage struct {
	Body         string          `json:"body"`
	DelaySeconds *int64          `json:"delaySeconds,omitempty"`
	Encoding     *api.Encoding   `json:"encoding,omitempty"`
	Keys         *api.Keys       `json:"keys,omitempty"`
	Properties   *api.Properties `json:"properties,omitempty"`
	ShardingKey  *string         `json:"shardingKey,omitempty"`
	Tag          *string         `json:"tag,omitempty"`
}

type canonicalItem struct {
	Body       string          `json:"body"`
	Encoding   *api.Encoding   `json:"encoding,omitempty"`
	Keys       *api.Keys       `json:"keys,omitempty"`
	Properties *api.Properties `json:"properties,omitempty"`
	Tag        *string         `json:"tag,omitempty"`
}

type canonicalBegin struct {
	Body              string          `json:"body"`
	CheckAfterSeconds *int            `json:"checkAfterSeconds,omitempty"`
	Encoding          *api.Encoding   `json:"encoding,omitempty"`
	Keys              *api.Keys       `json:"keys,omitempty"`
	Producer          string          `json:"producer"`
	Properties        *api.Properties `json:"properties,omitempty"`
	Tag               *string         `json:"tag,omitempty"`
	Topic             string          `json:"topic"`
}

func canonicalDecoded(decoded any) ([]byte, bool) {
	var v any
	switch r := decoded.(type) {
	case *api.PublishMessageRequest:
		if r.DeliverAt != nil { // never decoded in one pass
			return nil, false
		}
		v = canonicalMessage{Body: r.Body, DelaySeconds: r.DelaySeconds, Encoding: r.Encoding, Keys: r.Keys,
			Properties: r.Properties, ShardingKey: r.ShardingKey, Tag: r.Tag}
	case *api.PublishBatchRequest:
		items := make([]canonicalItem, len(r.Messages))
		for i, m := range r.Messages {
			items[i] = canonicalItem{Body: m.Body, Encoding: m.Encoding, Keys: m.Keys, Properties: m.Properties, Tag: m.Tag}
		}
		v = struct {
			Messages []canonicalItem `json:"messages"`
		}{items}
	case *api.BeginTransactionRequest:
		v = canonicalBegin{Body: r.Body, CheckAfterSeconds: r.CheckAfterSeconds, Encoding: r.Encoding, Keys: r.Keys,
			Producer: r.Producer, Properties: r.Properties, Tag: r.Tag, Topic: r.Topic}
	default:
		return nil, false
	}
	c, err := json.Marshal(v)
	return c, err == nil
}
