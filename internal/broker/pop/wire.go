package pop

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// RocketMQ remoting request codes (RequestCode.java).
const (
	codeGetRouteInfoByTopic      = 105
	codeUpdateAndCreateSubsGroup = 200
	codePopMessage               = 200050
	codeAckMessage               = 200051
	codeChangeInvisibleTime      = 200053
)

// RocketMQ response codes (ResponseCode.java).
const (
	respSuccess            = 0
	respTopicNotExist      = 17
	respPullNotFound       = 19
	respSubscriptionAbsent = 26
	respNoMessage          = 208
	respPollingFull        = 209
	respPollingTimeout     = 210
)

// command is the JSON header of a remoting frame. Codes above 32767
// (POP_MESSAGE is 200050) make the code an int, not the int16 the older
// request codes fit in.
type command struct {
	Code      int               `json:"code"`
	Language  string            `json:"language"`
	Version   int               `json:"version"`
	Opaque    int32             `json:"opaque"`
	Flag      int32             `json:"flag"`
	Remark    string            `json:"remark,omitempty"`
	ExtFields map[string]string `json:"extFields,omitempty"`
	body      []byte
}

// RemoteError is a response code other than success from a name server or
// broker.
type RemoteError struct {
	Code   int
	Remark string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("pop: remote code %d: %s", e.Code, e.Remark)
}

// Is matches ErrGroupNotFound and ErrTopicNotFound by response code.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrGroupNotFound:
		return e.Code == respSubscriptionAbsent
	case ErrTopicNotFound:
		return e.Code == respTopicNotExist
	}
	return false
}

// ErrGroupNotFound is returned when a broker does not know the consumer
// group (it runs with autoCreateSubscriptionGroup=false): EnsureGroup, then
// pop again.
var ErrGroupNotFound = errors.New("pop: subscription group not found")

// wire speaks RocketMQ's remoting framing: a 4-byte frame length, a 4-byte
// header length (top byte 0: JSON), the JSON header, the body. A connection
// carries one request at a time, so a long poll holds its connection for
// the poll; after a clean answer it goes back to a small idle pool. Nothing
// is retried here: a retried ACK or CHANGE_INVISIBLETIME is for the caller
// to decide.
type wire struct {
	opaque atomic.Int32

	mu   sync.Mutex
	idle map[string][]idleConn
}

type idleConn struct {
	c     net.Conn
	since time.Time
}

// maxIdle bounds pooled connections per address; idleFor bounds their age,
// well below the broker's 120 s idle close.
const (
	maxIdle = 16
	idleFor = 30 * time.Second
)

func (w *wire) conn(ctx context.Context, addr string) (net.Conn, error) {
	w.mu.Lock()
	for list := w.idle[addr]; len(list) > 0; list = w.idle[addr] {
		ic := list[len(list)-1]
		w.idle[addr] = list[:len(list)-1]
		if time.Since(ic.since) < idleFor {
			w.mu.Unlock()
			return ic.c, nil
		}
		ic.c.Close()
	}
	w.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &dialError{addr, err}
	}
	return c, nil
}

// dialError is a failed connect: the request never left, so sending it
// elsewhere cannot duplicate it.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return fmt.Sprintf("pop: dial %s: %v", e.addr, e.err) }
func (e *dialError) Unwrap() error { return e.err }

func (w *wire) release(addr string, c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.idle == nil {
		w.idle = map[string][]idleConn{}
	}
	if len(w.idle[addr]) >= maxIdle {
		c.Close()
		return
	}
	w.idle[addr] = append(w.idle[addr], idleConn{c: c, since: time.Now()})
}

// close closes every idle connection.
func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for addr, list := range w.idle {
		for _, ic := range list {
			ic.c.Close()
		}
		delete(w.idle, addr)
	}
}

// invoke sends one request to addr and waits for its answer until timeout
// (or ctx) ends. Cancelling ctx closes the connection, which also abandons
// a long poll on the broker side.
func (w *wire) invoke(ctx context.Context, addr string, timeout time.Duration, code int, ext map[string]string, body []byte) (*command, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := w.conn(ctx, addr)
	if err != nil {
		return nil, err
	}
	// A deadline alone does not notice cancellation: close on ctx.Done.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	resp, err := w.roundTrip(ctx, c, addr, code, ext, body)
	if !stop() {
		// ctx ended while the request was on the wire: the deadline has
		// been moved to the past, so the connection is spent.
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("pop: request %d to %s: %w", code, addr, ctx.Err())
		}
		return resp, nil
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	w.release(addr, c)
	return resp, nil
}

func (w *wire) roundTrip(ctx context.Context, c net.Conn, addr string, code int, ext map[string]string, body []byte) (*command, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req := command{Code: code, Language: "GO", Version: 317, Opaque: w.opaque.Add(1), ExtFields: ext}
	header, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("pop: encode request: %w", err)
	}
	frame := make([]byte, 8, 8+len(header)+len(body))
	binary.BigEndian.PutUint32(frame[0:4], uint32(4+len(header)+len(body)))
	binary.BigEndian.PutUint32(frame[4:8], uint32(len(header)))
	frame = append(append(frame, header...), body...)
	if _, err := c.Write(frame); err != nil {
		return nil, fmt.Errorf("pop: write to %s: %w", addr, err)
	}
	var lens [8]byte
	if _, err := io.ReadFull(c, lens[:]); err != nil {
		return nil, fmt.Errorf("pop: read from %s: %w", addr, err)
	}
	total := binary.BigEndian.Uint32(lens[0:4])
	hlen := binary.BigEndian.Uint32(lens[4:8]) & 0xFFFFFF
	if lens[4] != 0 || total < 4+hlen || total > 64<<20 {
		return nil, fmt.Errorf("pop: bad frame from %s (length %d, header %d, type %d)", addr, total, hlen, lens[4])
	}
	rest := make([]byte, total-4)
	if _, err := io.ReadFull(c, rest); err != nil {
		return nil, fmt.Errorf("pop: read from %s: %w", addr, err)
	}
	var resp command
	if err := json.Unmarshal(rest[:hlen], &resp); err != nil {
		return nil, fmt.Errorf("pop: decode header from %s: %w", addr, err)
	}
	if resp.Opaque != req.Opaque || resp.Flag&1 == 0 {
		return nil, fmt.Errorf("pop: unexpected frame from %s (opaque %d, flag %d)", addr, resp.Opaque, resp.Flag)
	}
	resp.body = rest[hlen:]
	return &resp, nil
}
