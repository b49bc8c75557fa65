package txcallback

import (
	"time"

	"github.com/oklog/ulid/v2"
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
