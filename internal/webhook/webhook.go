// Package webhook signs and sends the HTTP calls the gateway makes to its
// clients (transaction check-backs, deliveries), following Standard Webhooks:
// headers webhook-id, webhook-timestamp and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>", with secrets "whsec_<base64>".
// Its client refuses every address that is not globally routable (guard.go)
// at connect time, so DNS rebinding cannot get around the check, unless
// allowed.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

// Client sends signed webhooks.
type Client struct {
	// transport makes the calls directly: a redirect is an answer, not
	// something to follow, and http.Client would only add a copy of the
	// headers per call (kept for redirects).
	transport *http.Transport
	userAgent string
}

// NewClient returns a client; with allowPrivate false it refuses to connect
// to any address that is not globally routable (see Forbidden), checked on
// the address each connection is actually made to.
func NewClient(allowPrivate bool, userAgent string) *Client {
	return newClient(allowPrivate, userAgent, nil)
}

// newClient is NewClient with the resolver the dialer uses (nil: the
// system's), so tests can make any name resolve to any address.
func newClient(allowPrivate bool, userAgent string, resolver *net.Resolver) *Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Resolver: resolver}
	if !allowPrivate {
		d.Control = dialGuard
	}
	tr := &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 60 * time.Second,
	}
	return &Client{transport: tr, userAgent: userAgent}
}

// CloseIdleConnections closes the keep-alive connections no call is
// using (each holds two goroutines until its idle timeout, 90 s); calls in
// flight keep theirs, and the next call to a host opens a new one.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

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
	resp, err := c.transport.RoundTrip(hr)
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
