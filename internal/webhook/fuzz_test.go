package webhook_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return h
}

// FuzzSignVerify: what Sign signs, Verify accepts (alone or among other
// signatures), and any change to the body, id, timestamp, key or signature
// makes it refuse.
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), "msg_p5jXN8AQM9LWM0D4loKWxJek", uint32(1614265330), []byte(`{"test": 2432232314}`), uint16(0), byte(1))
	f.Add([]byte{0}, "chk_tx_01_3", uint32(0), []byte{}, uint16(5), byte(0x80))
	f.Add([]byte("k"), "a.1", uint32(2), []byte("x"), uint16(1), byte(0xff))
	f.Fuzz(func(t *testing.T, key []byte, id string, ts32 uint32, body []byte, at uint16, flip byte) {
		if id == "" || flip == 0 {
			return
		}
		secret := webhook.SecretPrefix + base64.StdEncoding.EncodeToString(key)
		ts := int64(ts32)
		now := time.Unix(ts, 0)
		tsText := strconv.FormatInt(ts, 10)
		sig, err := webhook.Sign(secret, id, ts, body)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		verify := func(secrets []string, h http.Header, body []byte) error {
			return webhook.Verify(secrets, h, body, now, webhook.DefaultTolerance)
		}
		if err := verify([]string{secret}, headers(id, tsText, sig), body); err != nil {
			t.Fatalf("Verify of what Sign signed: %v", err)
		}
		other := webhook.NewSecret()
		if err := verify([]string{other, secret}, headers(id, tsText, "v2,abc "+sig+" v1,AAAA"), body); err != nil {
			t.Fatalf("Verify among other secrets and signatures: %v", err)
		}

		refused := func(what string, secrets []string, h http.Header, b []byte) {
			t.Helper()
			if err := verify(secrets, h, b); !errors.Is(err, webhook.ErrNoMatch) {
				t.Fatalf("%s: Verify = %v, want ErrNoMatch", what, err)
			}
		}
		if len(body) > 0 {
			b := bytes.Clone(body)
			b[int(at)%len(b)] ^= flip
			refused("body byte flipped", []string{secret}, headers(id, tsText, sig), b)
			refused("body cut", []string{secret}, headers(id, tsText, sig), body[:len(body)-1])
		}
		refused("body extended", []string{secret}, headers(id, tsText, sig), append(bytes.Clone(body), flip))
		refused("id extended", []string{secret}, headers(id+"x", tsText, sig), body)
		next := strconv.FormatInt(ts+1, 10)
		refused("timestamp changed", []string{secret}, headers(id, next, sig), body)
		k := bytes.Clone(key)
		if len(k) == 0 {
			k = []byte{flip}
		} else {
			k[int(at)%len(k)] ^= flip
		}
		refused("key changed", []string{webhook.SecretPrefix + base64.StdEncoding.EncodeToString(k)}, headers(id, tsText, sig), body)
		refused("other secret", []string{other}, headers(id, tsText, sig), body)
		mac := []byte(strings.TrimPrefix(sig, "v1,"))
		mac[int(at)%len(mac)] ^= flip
		refused("signature changed", []string{secret}, headers(id, tsText, "v1,"+string(mac)), body)
		refused("signature of another version", []string{secret}, headers(id, tsText, "v2,"+string(mac)), body)

		late := webhook.Verify([]string{secret}, headers(id, tsText, sig), body, now.Add(webhook.DefaultTolerance+time.Second), webhook.DefaultTolerance)
		if !errors.Is(late, webhook.ErrBadTimestamp) {
			t.Fatalf("Verify after the tolerance = %v, want ErrBadTimestamp", late)
		}
	})
}

// FuzzVerifyHeaders: Verify never panics on arbitrary headers and accepts
// only a timestamp in canonical decimal with a matching signature.
func FuzzVerifyHeaders(f *testing.F) {
	f.Add("msg_1", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("msg_1", "+1614265330", "v1,", []byte(``))
	f.Add("msg_1", "01614265330", "v1,x v1,y", []byte(`x`))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_1", "99999999999999999999", "v1,g0hM9SsE", []byte(`x`))
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte) {
		now := time.Unix(1614265330, 0)
		err := webhook.Verify([]string{secret}, headers(id, ts, sigs), body, now, 100*365*24*time.Hour)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || strconv.FormatInt(n, 10) != ts {
			t.Fatalf("accepted timestamp %q", ts)
		}
		want, _ := webhook.Sign(secret, id, n, body)
		found := false
		for _, s := range strings.Fields(sigs) {
			found = found || s == want
		}
		if !found {
			t.Fatalf("accepted %q without the signature %s", sigs, want)
		}
	})
}
