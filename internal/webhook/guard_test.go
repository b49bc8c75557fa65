package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/zeroloss/zeroloss/internal/webhook"
)

// TestForbiddenRanges runs the guard over each special-purpose range, both
// just inside and just outside it where the edge matters, and over the
// IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4).
func TestForbiddenRanges(t *testing.T) {
	tests := []struct {
		addr      string
		forbidden bool
	}{
		// IPv4
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"100.63.255.255", false},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"169.253.255.255", false},
		{"169.254.169.254", true},
		{"172.15.255.255", false},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.0", false},
		{"192.0.0.170", true},
		{"192.0.2.1", true},
		{"192.88.99.1", true},
		{"192.168.1.1", true},
		{"198.17.255.255", false},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.20.0.0", false},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		{"223.255.255.255", false},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		{"1.1.1.1", false},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		// IPv6
		{"::", true},
		{"::1", true},
		{"::127.0.0.1", true},     // IPv4-compatible (deprecated)
		{"::ffff:0:7f00:1", true}, // IPv4-translated (SIIT)
		{"100::1", true},          // discard-only
		{"2001::1", true},         // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		{"2001:2::1", true}, // benchmarking
		{"2001:db8::1", true},
		{"3fff::1", true},
		{"5f00::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fec0::1", true},
		{"ff02::1", true},
		{"ff05::1:3", true},
		{"ff0e::1", true},
		{"2606:4700:4700::1111", false},
		{"2001:4860:4860::8888", false},
		{"2a00:1450:4001::1", false},
		// IPv4-mapped
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:0.0.0.0", true},
		{"::ffff:198.18.0.1", true},
		{"::ffff:8.8.8.8", false},
		// NAT64 well-known prefix: judged by the embedded IPv4
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::10.0.0.1", true},
		{"64:ff9b::a9fe:a9fe", true},
		{"64:ff9b::192.168.1.1", true},
		{"64:ff9b::100.64.0.1", true},
		{"64:ff9b::240.0.0.1", true},
		{"64:ff9b::8.8.8.8", false},
		{"64:ff9b::1.1.1.1", false},
		// NAT64 local-use prefix: never global
		{"64:ff9b:1::1", true},
		{"64:ff9b:1::8.8.8.8", true},
		{"64:ff9b:1:ffff::1", true},
		// 6to4: judged by the embedded IPv4
		{"2002:7f00:1::", true},
		{"2002:a00:1::1", true},
		{"2002:a9fe:a9fe::", true},
		{"2002:c0a8:101::1", true},
		{"2002:0:0::1", true},
		{"2002:c612:1::1", true}, // 198.18.0.1
		{"2002:808:808::1", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			ip, err := netip.ParseAddr(tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := webhook.Forbidden(ip); got != tc.forbidden {
				t.Fatalf("Forbidden(%s) = %v, want %v", ip, got, tc.forbidden)
			}
		})
	}
	if !webhook.Forbidden(netip.Addr{}) {
		t.Error("the zero address is allowed")
	}
}

// TestCheckURLRefusesForbiddenHosts checks the registration-time guard
// (checkUrl, endpoint) on literal addresses of every kind and on names that
// mean the local host.
func TestCheckURLRefusesForbiddenHosts(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://0.0.0.0:8080/", false},
		{"http://198.18.0.1/", false},
		{"http://240.0.0.1/", false},
		{"http://255.255.255.255/", false},
		{"http://100.64.1.1/", false},
		{"http://224.0.0.251/", false},
		{"http://[::ffff:127.0.0.1]/", false},
		{"http://[::ffff:7f00:1]/", false},
		{"http://[64:ff9b::7f00:1]/", false},
		{"http://[64:ff9b::a9fe:a9fe]/latest/meta-data", false},
		{"http://[64:ff9b:1::a00:1]/", false},
		{"http://[2002:a9fe:a9fe::]/latest", false},
		{"http://[2002:7f00:1::1]:8080/", false},
		{"http://[2001::1]/", false},
		{"http://[fc00::1]/", false},
		{"http://[fe80::1%25eth0]/", false},
		{"http://[ff02::1]/", false},
		{"http://LOCALHOST./", false},
		{"http://api.localhost/", false},
		{"http://2130706433/", false},
		{"http://0x7f000001/", false},
		{"http://0x7f.1/", false},
		{"http://127.1/", false},
		{"http://017700000001/", false},
		{"http://[64:ff9b::808:808]/", true},
		{"http://[2002:808:808::1]/", true},
		{"http://8.8.8.8/", true},
		{"https://hooks.example.com./x", true},
		{"https://10.example.com/x", true},
		{"https://hooks.example.com/0x1", true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := webhook.CheckURL(tc.url, false)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
			if err != nil && !errors.Is(err, webhook.ErrForbiddenAddress) {
				t.Fatalf("CheckURL(%q) = %v, want ErrForbiddenAddress", tc.url, err)
			}
			if err := webhook.CheckURL(tc.url, true); err != nil {
				t.Fatalf("CheckURL(%q, allowPrivate) = %v", tc.url, err)
			}
		})
	}
}

// TestClientRefusesNamesResolvingToLoopback: CheckURL does not resolve
// names; the client refuses the resolved address when it connects. The
// system resolver answers localhost from /etc/hosts.
func TestClientRefusesNamesResolvingToLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/hook"

	_, err := webhook.NewClient(false, "zeroloss/test").Do(context.Background(), webhook.Request{URL: byName, ID: "evt_1", Secrets: []string{webhook.NewSecret()}})
	if !errors.Is(err, webhook.ErrForbiddenAddress) {
		t.Fatalf("call to %s: %v, want ErrForbiddenAddress", byName, err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the server was reached %d times", hits.Load())
	}
	resp, err := webhook.NewClient(true, "zeroloss/test").Do(context.Background(), webhook.Request{URL: byName, ID: "evt_1", Secrets: []string{webhook.NewSecret()}})
	if err != nil || resp.Status != 204 || hits.Load() != 1 {
		t.Fatalf("with allowPrivate: %+v, %v, hits %d", resp, err, hits.Load())
	}
}
