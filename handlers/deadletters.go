package handlers

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/zeroloss/zeroloss/api"
	"github.com/zeroloss/zeroloss/internal/problem"
	"github.com/zeroloss/zeroloss/internal/push"
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

// redriveFilter reads a redrive request: which dead letters it picks.
func redriveFilter(b *api.RedriveRequest) (push.RedriveFilter, error) {
	var f push.RedriveFilter
	if b == nil {
		return f, nil
	}
	if b.MessageIds != nil {
		f.IDs = *b.MessageIds
	}
	if b.Since != nil {
		f.Since = *b.Since
	}
	if b.Until != nil {
		f.Until = *b.Until
	}
	if err := f.Validate(); err != nil {
		return f, problem.Wrap(problem.Validation, "until is before since; see errors", err).
			WithFields(problem.FieldError{Field: "/until", Reason: "must not be before since"})
	}
	return f, nil
}
