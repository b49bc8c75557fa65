// Package msgid makes RocketMQ message ids (the UNIQ_KEY property) that are
// unique across gateway replicas and stable across idempotent retries.
//
// The RocketMQ client's own ids repeat after 65,536 per second per process
// and differ on every attempt. A Seed instead is 48 bits of milliseconds and
// 64 random bits, drawn once per logical request and stored with its
// Idempotency-Key; message i of the request gets the seed plus a 16-bit
// index. A retry of the same request therefore reuses the same ids, and a
// consumer that deduplicates on the id sees each message once.
package msgid

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Seed is the root of a request's message ids.
type Seed [14]byte

// New returns a fresh seed for time now.
func New(now time.Time) Seed {
	var s Seed
	ms := uint64(now.UnixMilli())
	s[0], s[1], s[2], s[3], s[4], s[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	if _, err := rand.Read(s[6:]); err != nil {
		panic("msgid: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	return s
}

// ID returns the id of message i (0-based) of the request: 32 upper-case hex
// digits, the same length as RocketMQ's own ids.
func (s Seed) ID(i uint16) string {
	var b [16]byte
	copy(b[:], s[:])
	binary.BigEndian.PutUint16(b[14:], i)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// String encodes the seed for storage.
func (s Seed) String() string { return hex.EncodeToString(s[:]) }

// Parse decodes a seed written by String.
func Parse(v string) (Seed, error) {
	var s Seed
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != len(s) {
		return s, errors.New("msgid: malformed seed")
	}
	copy(s[:], b)
	return s, nil
}

type seedKey struct{}

// WithSeed returns ctx carrying s, so a request's sends use its ids.
func WithSeed(ctx context.Context, s Seed) context.Context {
	return context.WithValue(ctx, seedKey{}, s)
}

// FromContext returns the request's seed, or a fresh one when there is none
// (a request without an Idempotency-Key).
func FromContext(ctx context.Context) Seed {
	if s, ok := ctx.Value(seedKey{}).(Seed); ok {
		return s
	}
	return New(time.Now())
}
