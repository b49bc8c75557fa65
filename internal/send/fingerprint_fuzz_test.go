package send

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func fp(method, path string, body []byte) string {
	return Fingerprint(method, path, body)
}

// decodeJSON decodes one JSON value the way the handlers see it.
func decodeJSON(b []byte) (any, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// reordered writes a JSON object's members in reverse key order, with
// extra whitespace: the same request to the handlers.
func reordered(m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	var b bytes.Buffer
	b.WriteString(" {\n")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ,\t")
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(m[k])
		b.Write(kb)
		b.WriteString(" : ")
		b.Write(vb)
	}
	b.WriteString("}\r\n")
	return b.Bytes()
}

// FuzzFingerprint: the Idempotency-Key fingerprint is 64 hex digits,
// deterministic, the same for the same JSON request written with its
// members in another order or other whitespace, and different for any
// other method, path or body (no two requests collide by moving bytes
// between the parts).
func FuzzFingerprint(f *testing.F) {
	f.Add("POST", "/v1/topics/orders/messages", []byte(`{"body":"x","tag":"a"}`), "POST", "/v1/topics/orders/messages", []byte(`{"tag":"a","body":"x"}`))
	f.Add("POST", "/v1/topics/orders/messages", []byte(`{"body":"x"}`), "POST", "/v1/topics/orders/messages", []byte(`{"body":"y"}`))
	f.Add("POST", "/v1/topics/orders/messages", []byte(`{"body":"x"}`), "POST", "/v1/topics/orders-eu/messages", []byte(`{"body":"x"}`))
	f.Add("POST", "/v1/transactions", []byte(`{"properties":{"b":"2","a":"1"},"keys":["k1","k2"],"delaySeconds":5}`), "POST", "/v1/transactions", []byte(`{"keys":["k2","k1"],"properties":{"a":"1","b":"2"},"delaySeconds":5}`))
	f.Add("POST", "/v1/a", []byte(`{"n":1}`), "POST", "/v1/a", []byte(`{"n":1.0}`))
	f.Add("POST", "/a\x00b", []byte("X"), "POST", "/a", []byte("b\x00X"))
	f.Add("POST", "/v1/a", []byte(`not json`), "POST", "/v1/a", []byte(` not json`))
	f.Add("POST", "/v1/a", []byte(``), "POST", "/v1/a", []byte(`{}`))
	f.Fuzz(func(t *testing.T, m1, p1 string, b1 []byte, m2, p2 string, b2 []byte) {
		fp1 := fp(m1, p1, b1)
		if raw, err := hex.DecodeString(fp1); err != nil || len(raw) != 32 || fp1 != strings.ToLower(fp1) {
			t.Fatalf("fingerprint %q is not 64 lower-case hex digits", fp1)
		}
		if again := fp(m1, p1, b1); again != fp1 {
			t.Fatalf("not deterministic: %s then %s", fp1, again)
		}
		v1, json1 := decodeJSON(b1)
		if obj, ok := v1.(map[string]any); json1 && ok {
			if r := reordered(obj); fp(m1, p1, r) != fp1 {
				t.Fatalf("the same object reordered has another fingerprint:\n%q\n%q", b1, r)
			}
		}
		v2, json2 := decodeJSON(b2)
		same := m1 == m2 && p1 == p2 && (bytes.Equal(b1, b2) || json1 && json2 && reflect.DeepEqual(v1, v2))
		if got := fp(m2, p2, b2) == fp1; got != same {
			t.Fatalf("fingerprints equal = %v, requests the same = %v:\n%q %q %q\n%q %q %q", got, same, m1, p1, b1, m2, p2, b2)
		}
	})
}
