// Package wire speaks RocketMQ's remoting protocol as far as zeroloss needs
// it: the frame (a 4-byte frame length, a 4-byte header length whose top
// byte is the serialisation type, 0 for JSON, the JSON header, the body),
// a pool of idle connections for request/answer calls, and the name
// server's fastjson quirks. The producer's own connections (end of
// transactions, half messages, check-backs) and the POP client both use it.
package wire

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// FlagResponse is set in Command.Flag on an answer.
const FlagResponse = 1

// maxFrame bounds a frame read from a broker.
const maxFrame = 64 << 20

// Command is the JSON header of a remoting frame, and the body that came
// with it. Request codes above 32767 (POP_MESSAGE is 200050) need an int.
type Command struct {
	Code      int               `json:"code"`
	Language  string            `json:"language"`
	Version   int               `json:"version"`
	Opaque    int32             `json:"opaque"`
	Flag      int32             `json:"flag"`
	Remark    string            `json:"remark,omitempty"`
	ExtFields map[string]string `json:"extFields,omitempty"`
	Body      []byte            `json:"-"`
}

// Request returns the header of a request with code, opaque and ext.
func Request(code int, opaque int32, ext map[string]string) Command {
	return Command{Code: code, Language: "GO", Version: 317, Opaque: opaque, ExtFields: ext}
}

// WriteFrame writes cmd's header and body as one frame in one write.
func WriteFrame(w io.Writer, cmd Command, body []byte) error {
	_, err := w.Write(AppendFrame(nil, cmd, body))
	return err
}

// AppendFrame appends the frame of cmd's header and body to dst.
func AppendFrame(dst []byte, cmd Command, body []byte) []byte {
	size := 8 + 96 + len(cmd.Remark) + len(body)
	for k, v := range cmd.ExtFields {
		size += len(k) + len(v) + 6
	}
	if cap(dst)-len(dst) < size {
		dst = append(make([]byte, 0, len(dst)+size), dst...)
	}
	at := len(dst)
	frame := appendHeader(append(dst, 0, 0, 0, 0, 0, 0, 0, 0), &cmd)
	hlen := len(frame) - at - 8
	binary.BigEndian.PutUint32(frame[at:at+4], uint32(4+hlen+len(body)))
	binary.BigEndian.PutUint32(frame[at+4:at+8], uint32(hlen))
	return append(frame, body...)
}

// ReadFrame reads one frame; its body is in Body.
func ReadFrame(r io.Reader) (*Command, error) {
	var lens [8]byte
	if _, err := io.ReadFull(r, lens[:]); err != nil {
		return nil, err
	}
	total := binary.BigEndian.Uint32(lens[0:4])
	hlen := binary.BigEndian.Uint32(lens[4:8]) & 0xFFFFFF
	if lens[4] != 0 || total < 4+hlen || total > maxFrame {
		return nil, fmt.Errorf("wire: bad frame (length %d, header %d, type %d)", total, hlen, lens[4])
	}
	rest := make([]byte, total-4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, err
	}
	cmd := new(Command)
	if !parseHeader(rest[:hlen], cmd) {
		*cmd = Command{}
		if err := json.Unmarshal(rest[:hlen], cmd); err != nil {
			return nil, fmt.Errorf("wire: decode header: %w", err)
		}
	}
	cmd.Body = rest[hlen:]
	return cmd, nil
}

// numericKeys matches the unquoted integer map keys fastjson writes
// (brokerAddrs {0:"host:port"}), which encoding/json refuses.
var numericKeys = regexp.MustCompile(`([{,])(-?\d+):`)

// DecodeFastJSON decodes a body the name server encoded with fastjson.
func DecodeFastJSON(data []byte, v any) error {
	return json.Unmarshal(numericKeys.ReplaceAll(data, []byte(`$1"$2":`)), v)
}

// DialError is a failed connect: the request never left, so sending it
// elsewhere cannot duplicate it.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return fmt.Sprintf("wire: dial %s: %v", e.Addr, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// Pool makes request/answer calls, one at a time per connection, and keeps
// connections that answered cleanly for the next call. Nothing is retried
// here: whether a request may be sent again is the caller's to decide. The
// zero Pool is ready; it is safe for concurrent use.
type Pool struct {
	// MaxIdle bounds idle connections per address (default 16).
	MaxIdle int
	// IdleFor bounds their age (default 30 s, well below the broker's
	// 120 s idle close).
	IdleFor time.Duration

	opaque atomic.Int32
	mu     sync.Mutex
	idle   map[string][]idleConn
}

type idleConn struct {
	c     net.Conn
	since time.Time
}

func (p *Pool) maxIdle() int {
	if p.MaxIdle > 0 {
		return p.MaxIdle
	}
	return 16
}

func (p *Pool) idleFor() time.Duration {
	if p.IdleFor > 0 {
		return p.IdleFor
	}
	return 30 * time.Second
}

func (p *Pool) conn(ctx context.Context, addr string) (net.Conn, error) {
	p.mu.Lock()
	for list := p.idle[addr]; len(list) > 0; list = p.idle[addr] {
		ic := list[len(list)-1]
		p.idle[addr] = list[:len(list)-1]
		if time.Since(ic.since) < p.idleFor() {
			p.mu.Unlock()
			return ic.c, nil
		}
		ic.c.Close()
	}
	p.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &DialError{addr, err}
	}
	return c, nil
}

func (p *Pool) release(addr string, c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]idleConn{}
	}
	if len(p.idle[addr]) >= p.maxIdle() {
		c.Close()
		return
	}
	p.idle[addr] = append(p.idle[addr], idleConn{c: c, since: time.Now()})
}

// Close closes every idle connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, list := range p.idle {
		for _, ic := range list {
			ic.c.Close()
		}
		delete(p.idle, addr)
	}
}

// Invoke sends one request to addr and waits for its answer until timeout
// (or ctx) ends. Cancelling ctx closes the connection, which also abandons
// a long poll on the broker's side.
func (p *Pool) Invoke(ctx context.Context, addr string, timeout time.Duration, code int, ext map[string]string, body []byte) (*Command, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := p.conn(ctx, addr)
	if err != nil {
		return nil, err
	}
	// A deadline alone does not notice cancellation: expire it on ctx.Done.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	resp, err := p.roundTrip(ctx, c, addr, code, ext, body)
	if !stop() {
		// ctx ended while the request was on the wire: the deadline has
		// been moved to the past, so the connection is spent.
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("wire: request %d to %s: %w", code, addr, ctx.Err())
		}
		return resp, nil
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	p.release(addr, c)
	return resp, nil
}

func (p *Pool) roundTrip(ctx context.Context, c net.Conn, addr string, code int, ext map[string]string, body []byte) (*Command, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req := Request(code, p.opaque.Add(1), ext)
	if err := WriteFrame(c, req, body); err != nil {
		return nil, fmt.Errorf("wire: write to %s: %w", addr, err)
	}
	resp, err := ReadFrame(c)
	if err != nil {
		return nil, fmt.Errorf("wire: read from %s: %w", addr, err)
	}
	if resp.Opaque != req.Opaque || resp.Flag&FlagResponse == 0 {
		return nil, fmt.Errorf("wire: unexpected frame from %s (opaque %d, flag %d)", addr, resp.Opaque, resp.Flag)
	}
	return resp, nil
}
