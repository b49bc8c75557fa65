package pull

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/zeroloss/zeroloss/internal/broker/pop"
)

// ErrInvalidReceipt is returned for a receipt handle that does not parse
// or belongs to another subscription.
var ErrInvalidReceipt = errors.New("pull: invalid receipt handle")

// ErrReceiptExpired is returned for a receipt handle whose invisibility
// ended: the broker may have handed the message out again.
var ErrReceiptExpired = errors.New("pull: receipt handle expired")

// receiptPrefix marks the version of the receipt format.
const receiptPrefix = "r1."

// Receipt is what a consumer settles a received message with. It carries
// everything an ack needs, so any replica can settle it: the subscription
// it was received for, the message's dedup id (for the delivered mark) and
// the broker's POP handle (broker-side state: the check point).
type Receipt struct {
	Subscription string
	DedupID      string // empty for subscriptions with dedup source none
	MessageID    string
	Handle       pop.Handle
}

// String encodes r as an opaque URL-safe token: "r1." and the base64url of
// a JSON array [subscription, dedup id, message id, handle].
func (r Receipt) String() string {
	b, _ := json.Marshal([]string{r.Subscription, r.DedupID, r.MessageID, r.Handle.String()})
	return receiptPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseReceipt decodes a token written by Receipt.String. Anything else is
// ErrInvalidReceipt.
func ParseReceipt(s string) (Receipt, error) {
	rest, ok := strings.CutPrefix(s, receiptPrefix)
	if !ok {
		return Receipt{}, fmt.Errorf("%w: unknown format", ErrInvalidReceipt)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %v", ErrInvalidReceipt, err)
	}
	var f []string
	if err := json.Unmarshal(b, &f); err != nil || len(f) != 4 || f[0] == "" || f[2] == "" {
		return Receipt{}, fmt.Errorf("%w: malformed", ErrInvalidReceipt)
	}
	h, err := pop.ParseHandle(f[3])
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %v", ErrInvalidReceipt, err)
	}
	if h.InvisibleTime <= 0 || h.Offset < 0 || h.QueueID < 0 {
		return Receipt{}, fmt.Errorf("%w: malformed handle", ErrInvalidReceipt)
	}
	return Receipt{Subscription: f[0], DedupID: f[1], MessageID: f[2], Handle: h}, nil
}
