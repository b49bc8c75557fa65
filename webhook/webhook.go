// Package webhook signs and sends the HTTP calls the gateway makes to its
// clients (transaction check-backs, deliveries), following Standard Webhooks:
// headers webhook-id, webhook-timestamp and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>", with secrets "whsec_<base64>".
// Its client refuses loopback, private and link-local addresses at connect
// time (so DNS rebinding cannot get around the check) unless allowed.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the v1 signature of a webhook with id, Unix timestamp ts and
// body under secret.
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhook: malformed secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// ErrForbiddenAddress means a URL points at an address the gateway may not call.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// CheckURL validates a webhook URL: absolute http(s), a host, no user info,
// and, unless allowPrivate, no literal loopback, private or link-local IP.
// The client checks resolved addresses again when it connects.
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
	if strings.EqualFold(u.Hostname(), "localhost") {
		return fmt.Errorf("%w: localhost", ErrForbiddenAddress)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && forbidden(ip) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
	}
	return nil
}

func forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}

// Client sends signed webhooks.
type Client struct {
	http      *http.Client
	userAgent string
}

// NewClient returns a client; with allowPrivate false it refuses to connect
// to loopback, private and link-local addresses.
func NewClient(allowPrivate bool, userAgent string) *Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || forbidden(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 60 * time.Second,
	}
	return &Client{
		http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not something to follow
		}},
		userAgent: userAgent,
	}
}

// Request is one webhook call.
type Request struct {
	URL  string
	ID   string // webhook-id: stable across retries of the same event
	Body []byte
	// Secrets sign the call; several (during a rotation) give several
	// signatures, any of which the receiver may accept.
	Secrets []string
	// Header adds headers (content type, CloudEvents, traceparent).
	Header http.Header
}

// Response is what the endpoint answered (the body is read up to 64 KiB).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do signs and sends req within ctx's deadline.
func (c *Client) Do(ctx context.Context, req Request) (Response, error) {
	ts := time.Now().Unix()
	sigs := make([]string, 0, len(req.Secrets))
	for _, s := range req.Secrets {
		sig, err := Sign(s, req.ID, ts, req.Body)
		if err != nil {
			return Response{}, err
		}
		sigs = append(sigs, sig)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Response{}, fmt.Errorf("webhook: %w", err)
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	if hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", c.userAgent)
	hr.Header.Set("webhook-id", req.ID)
	hr.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	hr.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := c.http.Do(hr)
	if err != nil {
		return Response{}, fmt.Errorf("webhook: call %s: %w", redact(req.URL), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<url>"
	}
	u.RawQuery = ""
	return u.Redacted()
}
