package webhook

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification errors.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("webhook: timestamp malformed or outside the tolerance")
	ErrNoMatch        = errors.New("webhook: no signature matches")
)

// DefaultTolerance is how far a webhook's timestamp may be from the
// receiver's clock, as Standard Webhooks recommends.
const DefaultTolerance = 5 * time.Minute

// Verify checks a received webhook the way a Standard Webhooks receiver
// does: the webhook-timestamp header is a decimal Unix time within
// tolerance of now, and one of the space-separated "v1,<base64>" entries of
// webhook-signature is the signature of webhook-id, the timestamp and body
// under one of secrets (compared in constant time). Entries of other
// versions are ignored. It returns nil only when a signature matches.
func Verify(secrets []string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := parseTimestamp(tsText)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrBadTimestamp
	}
	for _, secret := range secrets {
		want, err := Sign(secret, id, ts, body)
		if err != nil {
			return err
		}
		for _, got := range strings.Fields(sigs) {
			if hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return ErrNoMatch
}

// parseTimestamp accepts only what Sign signs: plain decimal digits, no
// sign, no leading zero, so one timestamp has one spelling.
func parseTimestamp(s string) (int64, error) {
	if len(s) > 19 || strings.Trim(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: %q", ErrBadTimestamp, s)
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadTimestamp, s)
	}
	return ts, nil
}
