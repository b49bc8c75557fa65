package handlers

import (
	"context"
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/subscription"
)

// bodyPreviewBytes bounds the body a dead-letter listing shows.
const bodyPreviewBytes = 4096

// bodyPreview returns the start of body as text when it is valid UTF-8
// (cut at a rune boundary), else as base64, and the body's whole size.
func bodyPreview(body []byte) (*string, *api.Encoding, *int) {
	n := len(body)
	head := body[:min(n, bodyPreviewBytes)]
	if n > bodyPreviewBytes {
		// A cut rune at the end is not invalid text.
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1]
		}
	}
	text, enc := string(head), api.Utf8
	if !utf8.Valid(head) {
		text, enc = base64.StdEncoding.EncodeToString(body[:min(n, bodyPreviewBytes)]), api.Base64
	}
	return &text, &enc, &n
}

// diedSince returns the ids of the dead letters of s that died at or after
// since and, when only is not empty, are among only.
func (h *Subscriptions) diedSince(ctx context.Context, s subscription.Subscription, since time.Time, only []string) ([]string, error) {
	dls, err := h.dlq.List(ctx, s, 10000)
	if err != nil {
		return nil, subProblem(err)
	}
	want := map[string]bool{}
	for _, id := range only {
		want[id] = true
	}
	var ids []string
	for _, dl := range dls {
		if !dl.DeadAt.Before(since) && (len(only) == 0 || want[dl.MessageID]) {
			ids = append(ids, dl.MessageID)
		}
	}
	return ids, nil
}
