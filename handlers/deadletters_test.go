package handlers

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zeroloss/zeroloss/api"
)

func TestBodyPreview(t *testing.T) {
	long := strings.Repeat("a", bodyPreviewBytes-1) + "é" + "tail" // é straddles the cut
	bin := append([]byte{0xff, 0xfe}, bytes.Repeat([]byte{0}, 5000)...)
	for _, tc := range []struct {
		name string
		body []byte
		enc  api.Encoding
		want string
	}{
		{"text", []byte(`{"orderId":7}`), api.Utf8, `{"orderId":7}`},
		{"empty", nil, api.Utf8, ""},
		{"text cut inside a rune", []byte(long), api.Utf8, strings.Repeat("a", bodyPreviewBytes-1)},
		{"binary", bin, api.Base64, base64.StdEncoding.EncodeToString(bin[:bodyPreviewBytes])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, enc, n := bodyPreview(tc.body)
			if *enc != tc.enc || *text != tc.want || *n != len(tc.body) {
				t.Errorf("= %q (%d chars) %s %d; want %d chars %s %d", (*text)[:min(len(*text), 20)], len(*text), *enc, *n, len(tc.want), tc.enc, len(tc.body))
			}
			if *enc == api.Utf8 && !utf8.ValidString(*text) {
				t.Error("invalid UTF-8 preview")
			}
		})
	}
}
