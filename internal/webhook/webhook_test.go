package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// The Standard Webhooks specification's published example.
func TestSignMatchesTheSpecExample(t *testing.T) {
	got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/check", false, true},
		{"http://hooks.example.com:8080/x?y=1", false, true},
		{"ftp://hooks.example.com/", false, false},
		{"/relative", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"http://127.0.0.1:9000/", false, false},
		{"http://localhost:9000/", false, false},
		{"http://10.1.2.3/", false, false},
		{"http://192.168.0.10/", false, false},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://[::1]:80/", false, false},
		{"http://[fe80::1]/", false, false},
		{"http://127.0.0.1:9000/", true, true},
	}
	for _, tc := range tests {
		err := webhook.CheckURL(tc.url, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q, %v) = %v, want ok=%v", tc.url, tc.allowPrivate, err, tc.ok)
		}
	}
}

func TestClientSignsAndRefusesPrivateAddresses(t *testing.T) {
	secret := webhook.NewSecret()
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(204)
	}))
	defer srv.Close()

	resp, err := webhook.NewClient(true, "zeroloss/test").Do(context.Background(), webhook.Request{
		URL: srv.URL, ID: "evt_1", Body: []byte(`{"a":1}`), Secrets: []string{secret, webhook.NewSecret()},
	})
	if err != nil || resp.Status != 204 {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	// Verify independently: HMAC-SHA256(base64-decoded key, id.ts.body).
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(got.Get("webhook-id") + "." + got.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sigs := strings.Fields(got.Get("webhook-signature"))
	if len(sigs) != 2 || sigs[0] != want {
		t.Fatalf("signatures %q, want first %q", sigs, want)
	}
	if got.Get("webhook-id") != "evt_1" || got.Get("User-Agent") != "zeroloss/test" {
		t.Errorf("headers = %v", got)
	}

	_, err = webhook.NewClient(false, "zeroloss/test").Do(context.Background(), webhook.Request{URL: srv.URL, ID: "x", Secrets: []string{secret}})
	if !errors.Is(err, webhook.ErrForbiddenAddress) {
		t.Fatalf("call to loopback without allowPrivate: %v, want ErrForbiddenAddress", err)
	}
}

// A redirect is the endpoint's answer: the client reports it and never
// sends the message to the address it names (which may be anywhere).
func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", status)
		}))
		resp, err := webhook.NewClient(true, "zeroloss/test").Do(context.Background(), webhook.Request{
			URL: srv.URL, ID: "evt_1", Body: []byte(`{}`), Secrets: []string{webhook.NewSecret()},
		})
		srv.Close()
		if err != nil || resp.Status != status {
			t.Errorf("redirect %d: Do = %+v, %v; want the %d itself", status, resp, err, status)
		}
		if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/elsewhere") {
			t.Errorf("redirect %d: Location %q not reported", status, loc)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Fatalf("the redirect target was called %d times", n)
	}
}

func TestVerify(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	body := []byte(`{"test": 2432232314}`)
	at := time.Unix(1614265330, 0)
	hdr := func(id, ts, sig string) http.Header {
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
	}
	tests := []struct {
		name    string
		secrets []string
		h       http.Header
		now     time.Time
		want    error
	}{
		{"spec example", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), at, nil},
		{"among others", []string{webhook.NewSecret(), secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1a,x v1,AAAA "+sig), at.Add(4 * time.Minute), nil},
		{"wrong secret", []string{webhook.NewSecret()}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), at, webhook.ErrNoMatch},
		{"other id", []string{secret}, hdr("msg_other", "1614265330", sig), at, webhook.ErrNoMatch},
		{"too old", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), at.Add(6 * time.Minute), webhook.ErrBadTimestamp},
		{"from the future", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), at.Add(-6 * time.Minute), webhook.ErrBadTimestamp},
		{"signed timestamp", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "+1614265330", sig), at, webhook.ErrBadTimestamp},
		{"leading zero", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "01614265330", sig), at, webhook.ErrBadTimestamp},
		{"no signature", []string{secret}, hdr("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", ""), at, webhook.ErrMissingHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := webhook.Verify(tc.secrets, tc.h, body, tc.now, webhook.DefaultTolerance); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
