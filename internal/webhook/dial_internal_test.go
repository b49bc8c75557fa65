package webhook

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
)

// fakeDNS is a resolver whose every name resolves to the addresses answer
// returns on that query (called once per question, A and AAAA apart), so a
// test can make a name resolve, or rebind, to any address. It speaks DNS
// over the stream Go's resolver opens through Dial.
func fakeDNS(t *testing.T, answer func(name string, n int) []netip.Addr) *net.Resolver {
	t.Helper()
	var queries atomic.Int32
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			for {
				var n uint16
				if binary.Read(server, binary.BigEndian, &n) != nil {
					return
				}
				q := make([]byte, n)
				if _, err := io.ReadFull(server, q); err != nil {
					return
				}
				resp := dnsAnswer(q, func(name string) []netip.Addr { return answer(name, int(queries.Add(1))) })
				out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
				if _, err := server.Write(append(out, resp...)); err != nil {
					return
				}
			}
		}()
		return client, nil
	}}
}

// dnsAnswer answers a one-question query with the addresses of the asked
// family.
func dnsAnswer(q []byte, lookup func(string) []netip.Addr) []byte {
	i, name := 12, ""
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		name += string(q[i+1:i+1+l]) + "."
		i += 1 + l
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	var answers [][]byte
	for _, a := range lookup(name) {
		if (qtype == 1) != a.Is4() || (qtype != 1 && qtype != 28) {
			continue
		}
		rr := []byte{0xc0, 12}
		rr = binary.BigEndian.AppendUint16(rr, qtype)
		rr = binary.BigEndian.AppendUint16(rr, 1)
		rr = binary.BigEndian.AppendUint32(rr, 0)
		rr = binary.BigEndian.AppendUint16(rr, uint16(a.BitLen()/8))
		answers = append(answers, append(rr, a.AsSlice()...))
	}
	resp := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1}, binary.BigEndian.AppendUint16(nil, uint16(len(answers)))...)
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, question...)
	for _, rr := range answers {
		resp = append(resp, rr...)
	}
	return resp
}

// TestDialGuardHoldsForResolvedNames: CheckURL accepts a name, whatever it
// resolves to; the client checks the address it connects to, so a name
// that resolves to a private address, or rebinds to one after a public
// answer, is refused at connect time and the server is never reached.
func TestDialGuardHoldsForResolvedNames(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	su, _ := url.Parse(srv.URL)
	loopback := netip.MustParseAddr(su.Hostname())

	tests := []struct {
		name   string
		answer func(name string, n int) []netip.Addr
	}{
		{"private IPv4", func(string, int) []netip.Addr { return []netip.Addr{netip.MustParseAddr("10.1.2.3")} }},
		{"loopback", func(string, int) []netip.Addr { return []netip.Addr{loopback} }},
		{"metadata via NAT64", func(string, int) []netip.Addr { return []netip.Addr{netip.MustParseAddr("64:ff9b::a9fe:a9fe")} }},
		{"loopback via 6to4", func(string, int) []netip.Addr { return []netip.Addr{netip.MustParseAddr("2002:7f00:1::1")} }},
		{"benchmarking", func(string, int) []netip.Addr { return []netip.Addr{netip.MustParseAddr("198.18.0.1")} }},
		{"rebinding: public first, loopback after", func(_ string, n int) []netip.Addr {
			if n <= 2 { // the first A and AAAA questions
				return []netip.Addr{netip.MustParseAddr("93.184.216.34")}
			}
			return []netip.Addr{loopback}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fakeDNS(t, tc.answer)
			hook := "http://hooks.example.com:" + su.Port() + "/h"
			if err := CheckURL(hook, false); err != nil {
				t.Fatalf("CheckURL(%s) = %v; names are checked when called", hook, err)
			}
			if _, err := res.LookupNetIP(context.Background(), "ip", "hooks.example.com"); err != nil {
				t.Fatalf("fake resolver: %v", err) // the rebinding case's first, public answer
			}
			_, err := newClient(false, "zeroloss/test", res).Do(context.Background(), Request{URL: hook, ID: "evt_1", Secrets: []string{NewSecret()}})
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("Do = %v, want ErrForbiddenAddress", err)
			}
			if hits.Load() != 0 {
				t.Fatalf("the server was reached")
			}
		})
	}

	// The same resolver and client with private addresses allowed reach the
	// server: the refusals above are the guard's, not the fake resolver's.
	res := fakeDNS(t, func(string, int) []netip.Addr { return []netip.Addr{loopback} })
	resp, err := newClient(true, "zeroloss/test", res).Do(context.Background(), Request{URL: "http://hooks.example.com:" + su.Port() + "/h", ID: "evt_1", Secrets: []string{NewSecret()}})
	if err != nil || resp.Status != 204 || hits.Load() != 1 {
		t.Fatalf("allowPrivate: %+v, %v, hits %d", resp, err, hits.Load())
	}
}
