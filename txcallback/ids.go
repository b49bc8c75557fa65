package txcallback

import (
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/zeroloss/zeroloss/internal/msgid"
)

const (
	idPrefix       = "tx_"
	producerPrefix = "prd_"
)

// newID returns prefix plus a ULID: unique across replicas, sortable by time.
func newID(prefix string) string { return prefix + ulid.Make().String() }

// ulidAt returns the smallest ULID of time t, for range bounds.
func ulidAt(t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t))
	return id.String()
}

// IDFromSeed returns the transaction id of a request whose message ids come
// from seed: a ULID with the seed's time and randomness, so a retry of the
// same request (the same Idempotency-Key, hence the same seed) names the
// same transaction.
func IDFromSeed(seed msgid.Seed) string {
	var id ulid.ULID
	copy(id[:], seed[:]) // 48 bits of milliseconds, then 64 random bits; the last 16 stay zero
	return idPrefix + id.String()
}

// IsID reports whether s has the form of a transaction id as the contract
// states it (TransactionID: ^tx_[0-9A-Za-z]{26}$), typed out so that a
// commit or rollback is checked without the generic validator.
func IsID(s string) bool {
	if len(s) != len(idPrefix)+ulid.EncodedSize || s[:len(idPrefix)] != idPrefix {
		return false
	}
	for i := len(idPrefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
