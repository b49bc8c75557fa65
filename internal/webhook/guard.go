package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrForbiddenAddress means a URL points at an address the gateway may not call.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// CheckURL validates a webhook URL: absolute http(s), a host, no user info,
// and, unless allowPrivate, no host that names a forbidden address (see
// Forbidden): a literal IP in a forbidden range, localhost or a name under
// .localhost, or a host in the legacy numeric IPv4 forms (2130706433,
// 0x7f.1, 127.1) that resolvers and browsers read as an address. Other names
// are not resolved here: the client checks each address it connects to, so
// a name that resolves (or later rebinds) to a forbidden address is refused
// when called.
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook: not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("webhook: the URL must be http or https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("webhook: the URL has no host")
	}
	if u.User != nil {
		return errors.New("webhook: the URL must not carry credentials")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if Forbidden(ip) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	if numericIPv4Form(name) {
		return fmt.Errorf("%w: %s is an IPv4 address in a legacy notation", ErrForbiddenAddress, host)
	}
	return nil
}

// numericIPv4Form reports whether a host that is not a dotted-quad IP would
// still be read as an IPv4 address by inet_aton or the WHATWG URL parser:
// its last label is a decimal, octal or 0x-hex number.
func numericIPv4Form(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := last
	if strings.HasPrefix(last, "0x") {
		digits = last[2:]
		return strings.Trim(digits, "0123456789abcdef") == ""
	}
	return strings.Trim(digits, "0123456789") == ""
}

// dialGuard is the dialer's Control: it runs on the resolved address of
// every connection attempt, after DNS, so neither a name nor a rebinding
// resolver can lead the client to a forbidden address.
func dialGuard(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	return nil
}

// Special-purpose IPv4 ranges that are not globally reachable (IANA IPv4
// Special-Purpose Address Registry, RFC 6890 and successors), plus
// multicast and the reserved class E block (which holds the broadcast
// address).
var forbiddenV4 = prefixes(
	"0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the local host
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT shared space
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata services
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments (incl. NAT64 discovery)
	"192.0.2.0/24",    // TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
)

// IPv6 ranges inside global unicast (2000::/3) that are not globally
// reachable or that reach IPv4 space by tunnel.
var forbiddenV6 = prefixes(
	"2001::/23",     // IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation (RFC 9637)
)

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 well-known prefix
	sixToFour     = netip.MustParsePrefix("2002::/16")    // RFC 3056
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Forbidden reports whether the gateway refuses to call ip: anything not
// globally routable. IPv4: every non-global special-purpose range above.
// IPv6: everything outside global unicast 2000::/3 (loopback, unspecified,
// IPv4-compatible ::/96, link-local fe80::/10, site-local, unique local
// fc00::/7, multicast ff00::/8, the local-use NAT64 prefix 64:ff9b:1::/48,
// discard 100::/64, SRv6 5f00::/16), Teredo and the rest of 2001::/23, and
// the documentation prefixes. Addresses that carry an IPv4 address —
// IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 and 6to4 2002::/16 — are
// judged by the IPv4 address they reach. A zone is ignored; an invalid
// address is forbidden.
func Forbidden(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		for _, p := range forbiddenV4 {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return Forbidden(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case !globalUnicast.Contains(ip):
		return true
	case sixToFour.Contains(ip):
		return Forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, p := range forbiddenV6 {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
