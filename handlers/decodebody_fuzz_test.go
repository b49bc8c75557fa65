package handlers

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/zeroloss/zeroloss/api"
)

// FuzzDecodeBody: decoding a message body never panics; utf8 (the default)
// is the string's bytes unchanged; base64 accepts exactly what the standard
// alphabet with padding decodes to at least one byte (line breaks are
// ignored, as MIME writes them), and any bytes survive an
// encode-then-decode round trip.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{"", "hello", "aGVsbG8=", "aGVsbG8", "aGVs\nbG8=", "****", "====", "AA==", "AAA=", "AAAA", "QR==", "\r\n", "aGVsbG8=aGVsbG8=", "héllo", "\x00"} {
		f.Add(s, []byte(s))
	}
	utf8, b64 := api.Utf8, api.Base64
	f.Fuzz(func(t *testing.T, body string, raw []byte) {
		for _, enc := range []*api.Encoding{nil, &utf8} {
			got, fields := decodeBody("/body", body, enc)
			if len(fields) != 0 || string(got) != body {
				t.Fatalf("utf8 %q = %q, %v", body, got, fields)
			}
		}

		got, fields := decodeBody("/body", body, &b64)
		ref, refErr := base64.StdEncoding.Strict().DecodeString(stripLineBreaks(body))
		switch {
		case len(fields) > 0:
			if len(fields) != 1 || fields[0].Field != "/body" || fields[0].Reason == "" {
				t.Fatalf("base64 %q refused with %+v", body, fields)
			}
			if got != nil {
				t.Fatalf("base64 %q refused but returned %q", body, got)
			}
			if refErr == nil && len(ref) > 0 {
				t.Fatalf("base64 %q refused; it is %q", body, ref)
			}
		case len(got) == 0:
			t.Fatalf("base64 %q accepted as an empty body", body)
		default:
			if len(got) > len(body)*3/4 {
				t.Fatalf("base64 %q decoded to %d bytes", body, len(got))
			}
			again, fields := decodeBody("/body", base64.StdEncoding.EncodeToString(got), &b64)
			if len(fields) != 0 || !bytes.Equal(again, got) {
				t.Fatalf("re-encoding %q does not decode back: %q %v", got, again, fields)
			}
		}

		enc := base64.StdEncoding.EncodeToString(raw)
		back, fields := decodeBody("/body", enc, &b64)
		if len(raw) == 0 {
			if len(fields) == 0 {
				t.Fatalf("an empty body was accepted")
			}
			return
		}
		if len(fields) != 0 || !bytes.Equal(back, raw) {
			t.Fatalf("round trip of %q: %q, %v", raw, back, fields)
		}
	})
}

func stripLineBreaks(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, []byte(s)))
}
