package broker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// Remoting request codes of the check-back path (RequestCode.java).
const (
	codeHeartbeat             = 34
	codeCheckTransactionState = 39
)

// flagOneway marks a one-way request (bit 1 of a remoting frame's flag;
// bit 0, wire.FlagResponse, marks an answer).
const flagOneway = 1 << 1

// NotRegisteredError lists the master brokers the transactional producer
// group is not yet registered with: their check-backs of half messages
// would find no connection ("channel is null") and be lost.
type NotRegisteredError struct {
	Brokers []string // "name (address)"
	Cause   error    // why the brokers are not known, when no name server answered
}

func (e *NotRegisteredError) Error() string {
	if e.Cause != nil {
		return "broker: transactional producer not registered: " + e.Cause.Error()
	}
	return "broker: transactional producer not registered with " + strings.Join(e.Brokers, ", ")
}

func (e *NotRegisteredError) Unwrap() error { return e.Cause }

// Reason is a client-safe description (broker names and addresses, no
// internal error text) for readiness answers.
func (e *NotRegisteredError) Reason() string {
	if len(e.Brokers) == 0 {
		return "transactional producer: no master broker known yet (no name server answered, or none is registered)"
	}
	return "transactional producer not yet registered for check-backs with " + strings.Join(e.Brokers, ", ")
}

// checkLinks keeps the transactional producer group registered with every
// master broker and receives that group's check-backs.
//
// Why not through rocketmq-client-go: a broker sends a check-back only to a
// connection that announced the producer group in a heartbeat, and the
// client sends its first heartbeat to a broker on its 30 s tick after a
// route named that broker. A half message stored before then is checked
// with "channel is null" and, after transactionCheckMax checks, discarded.
// Here every master the name servers list gets a connection and a heartbeat
// at once; the list is looked up every refresh (a new broker or a failover
// is registered within one refresh), and each connection announces the
// group again every heartbeatEvery (brokers forget a connection after 120 s
// without one).
type checkLinks struct {
	nameServers    []string
	group          string
	clientID       string
	rm             *remoting
	refresh        time.Duration
	heartbeatEvery time.Duration
	// onCheck receives a check-back request on the link's reader
	// goroutine; it must not block.
	onCheck func(l *link, cmd *remotingCommand)

	mu        sync.Mutex
	masters   map[string]string // broker name → master address (last lookup)
	links     map[string]*link  // broker name → its link
	lookupErr error
	ready     chan struct{} // closed once every known master was registered
	readyOnce sync.Once
	closed    bool
}

func newCheckLinks(rm *remoting, nameServers []string, group, clientID string, onCheck func(*link, *remotingCommand)) *checkLinks {
	return &checkLinks{
		nameServers: nameServers, group: group, clientID: clientID, rm: rm, onCheck: onCheck,
		refresh: 2 * time.Second, heartbeatEvery: 20 * time.Second,
		masters: map[string]string{}, links: map[string]*link{}, ready: make(chan struct{}),
	}
}

// run registers with every master until ctx ends, then closes the links
// (the brokers then send check-backs to the other replicas).
func (c *checkLinks) run(ctx context.Context) {
	t := time.NewTicker(c.refresh)
	defer t.Stop()
	for {
		c.sync(ctx)
		select {
		case <-ctx.Done():
			c.mu.Lock()
			c.closed = true
			for name, l := range c.links {
				l.close(errors.New("broker: shutting down"))
				delete(c.links, name)
			}
			c.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

// sync looks the masters up, registers with new ones (and after a
// failover, with the new address), refreshes older registrations and drops
// links to brokers that are no longer masters.
func (c *checkLinks) sync(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	ci, err := c.rm.clusterInfo(lctx, c.nameServers)
	cancel()
	c.mu.Lock()
	c.lookupErr = err
	if err == nil {
		c.masters = map[string]string{}
		for name, bd := range ci.BrokerAddrTable {
			if addr := bd.BrokerAddrs["0"]; addr != "" {
				c.masters[name] = addr
			}
		}
		for name, l := range c.links {
			if c.masters[name] != l.addr {
				l.close(errors.New("broker: no longer the master"))
				delete(c.links, name)
			}
		}
	}
	masters := make(map[string]string, len(c.masters))
	for k, v := range c.masters {
		masters[k] = v
	}
	c.mu.Unlock()
	for name, addr := range masters {
		_ = c.ensure(ctx, name, addr, c.heartbeatEvery) // missing() reports a failure; the next sync tries again
	}
	if err == nil && len(masters) > 0 && c.missing() == nil {
		c.readyOnce.Do(func() { close(c.ready) })
	}
}

// ensure makes sure the group is registered with broker name at addr,
// announcing it again when the last heartbeat is older than maxAge.
func (c *checkLinks) ensure(ctx context.Context, name, addr string, maxAge time.Duration) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("broker: check-back links closed")
	}
	l := c.links[name]
	if l != nil && (l.addr != addr || l.dead()) {
		l.close(errors.New("broker: replaced"))
		delete(c.links, name)
		l = nil
	}
	c.mu.Unlock()
	if l != nil && l.registeredWithin(maxAge) {
		return nil
	}
	if l == nil {
		nl, err := dialLink(ctx, name, addr, c.onCheck)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if cur := c.links[name]; cur != nil && !cur.dead() || c.closed {
			c.mu.Unlock()
			nl.close(errors.New("broker: duplicate link"))
			if c.closed {
				return errors.New("broker: check-back links closed")
			}
			return c.ensure(ctx, name, addr, maxAge)
		}
		c.links[name] = nl
		c.mu.Unlock()
		l = nl
	}
	if err := l.heartbeat(ctx, c.clientID, c.group); err != nil {
		// A connection that does not answer is replaced at the next try.
		l.close(err)
		return err
	}
	return nil
}

// ensureBroker registers with a broker a half message was just stored on,
// if that has not happened yet (a broker added since the last lookup).
func (c *checkLinks) ensureBroker(ctx context.Context, name, addr string) error {
	c.mu.Lock()
	if a, ok := c.masters[name]; ok && a != "" {
		addr = a
	}
	c.mu.Unlock()
	return c.ensure(ctx, name, addr, 24*time.Hour)
}

// missing returns the masters of the last lookup without a registered link.
func (c *checkLinks) missing() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lookupErr != nil {
		return &NotRegisteredError{Cause: c.lookupErr}
	}
	if len(c.masters) == 0 {
		return &NotRegisteredError{}
	}
	var out []string
	for name, addr := range c.masters {
		if l := c.links[name]; l == nil || l.addr != addr || !l.registeredWithin(2*time.Minute) {
			out = append(out, name+" ("+addr+")")
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return &NotRegisteredError{Brokers: out}
}

// link is one connection to a broker: requests of many goroutines in
// flight together (half messages, END_TRANSACTION, sends, heartbeats),
// and, on a check-back link, the broker's check-back requests.
//
// Writes are grouped: a caller finding no write in progress writes its
// frame at once; frames queued while a write is in progress go out
// together in the next one (one writev), written by the caller that
// started writing. Under load that is fewer system calls, each waking the
// broker once; idle, nothing waits. Reads are buffered: a frame is one
// read (or less) instead of two.
type link struct {
	brokerName string
	addr       string
	conn       net.Conn
	opaque     atomic.Int32
	lastBeat   atomic.Int64
	onCheck    func(*link, *remotingCommand)

	wmu     sync.Mutex
	writing bool        // a caller is writing the queue
	queue   []*outFrame // frames waiting for the next write

	mu      sync.Mutex
	pending map[int32]chan *remotingCommand
	err     error
	done    chan struct{}
}

func dialLink(ctx context.Context, name, addr string, onCheck func(*link, *remotingCommand)) (*link, error) {
	d := net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: dial %s (%s): %w", name, addr, err)
	}
	l := &link{brokerName: name, addr: addr, conn: conn, onCheck: onCheck,
		pending: map[int32]chan *remotingCommand{}, done: make(chan struct{})}
	go l.read()
	return l, nil
}

func (l *link) dead() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *link) registeredWithin(d time.Duration) bool {
	at := l.lastBeat.Load()
	return at != 0 && !l.dead() && time.Since(time.Unix(0, at)) < d
}

func (l *link) close(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	close(l.done)
	_ = l.conn.Close()
	for op, ch := range l.pending {
		close(ch)
		delete(l.pending, op)
	}
}

// read dispatches responses to their callers and check-backs to onCheck.
func (l *link) read() {
	r := bufio.NewReaderSize(l.conn, 64<<10)
	for {
		cmd, err := wire.ReadFrame(r)
		if err != nil {
			l.close(fmt.Errorf("broker: read from %s: %w", l.addr, err))
			return
		}
		if cmd.Flag&wire.FlagResponse != 0 {
			l.mu.Lock()
			ch := l.pending[cmd.Opaque]
			delete(l.pending, cmd.Opaque)
			l.mu.Unlock()
			if ch != nil {
				ch <- cmd
			}
			continue
		}
		if cmd.Code == codeCheckTransactionState && l.onCheck != nil {
			l.onCheck(l, cmd)
		}
		// Other requests (none are expected for a producer) go unanswered.
	}
}

// call sends a request on the link and waits for its response (requests
// of several goroutines are in flight together). An error wraps errNotSent
// when nothing was written.
func (l *link) call(ctx context.Context, code int, ext map[string]string, body []byte) (*remotingCommand, error) {
	op := l.opaque.Add(1)
	ch := make(chan *remotingCommand, 1)
	l.mu.Lock()
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return nil, errors.Join(errNotSent, err)
	}
	l.pending[op] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.pending, op)
		l.mu.Unlock()
	}()
	if err := l.write(ctx, wire.AppendFrame(nil, wire.Request(code, op, ext), body)); err != nil {
		return nil, err
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("broker: link to %s closed", l.addr)
		}
		return resp, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("broker: no answer from %s: %w", l.addr, ctx.Err())
	}
}

// outFrame is a frame waiting to be written, and what became of it.
type outFrame struct {
	ctx   context.Context
	frame []byte
	err   error
	done  chan struct{} // closed once err is final
}

// write writes frame, together with the frames other callers queue while
// a write is in progress (see link). An error wraps errNotSent when
// nothing of frame was written (its ctx ended before its turn); any other
// error closed the link, and the frame may have been sent.
func (l *link) write(ctx context.Context, frame []byte) error {
	f := &outFrame{ctx: ctx, frame: frame, done: make(chan struct{})}
	l.wmu.Lock()
	l.queue = append(l.queue, f)
	if l.writing {
		l.wmu.Unlock()
		<-f.done // the writer's deadline bounds the wait
		return f.err
	}
	l.writing = true
	l.wmu.Unlock()
	l.flush(maxFlushRounds)
	return f.err
}

// maxFlushRounds bounds the writes a caller makes for others before it
// hands the writer's role to a goroutine and goes on with its own request.
const maxFlushRounds = 8

// flush writes the queue until it is empty, then gives up the writer's
// role; after rounds writes with more queued, a goroutine takes it over.
func (l *link) flush(rounds int) {
	for round := 0; ; round++ {
		l.wmu.Lock()
		batch := l.queue
		if len(batch) == 0 {
			l.writing = false
			l.wmu.Unlock()
			return
		}
		if round == rounds { // still the writer: the goroutine takes the queue as it is
			l.wmu.Unlock()
			go l.flush(math.MaxInt)
			return
		}
		l.queue = nil
		l.wmu.Unlock()
		var (
			bufs = make(net.Buffers, 0, len(batch))
			live = make([]*outFrame, 0, len(batch))
			// The latest deadline of the frames written: one frame about
			// to expire must not cut the others' write short (a failed
			// write closes the link under every request on it).
			dl time.Time
		)
		for _, f := range batch {
			if err := f.ctx.Err(); err != nil {
				// Out of time before a byte was written (a coalesced batch
				// runs to its earliest member's deadline): nothing was
				// sent, and the link, which other requests are waiting
				// on, stays open — a write that failed on its deadline
				// would have closed it under all of them.
				f.err = errors.Join(errNotSent, fmt.Errorf("broker: not sent to %s: %w", l.addr, err))
				close(f.done)
				continue
			}
			if d, ok := f.ctx.Deadline(); ok && d.After(dl) {
				dl = d
			}
			bufs = append(bufs, f.frame)
			live = append(live, f)
		}
		if len(live) == 0 {
			continue
		}
		if l.dead() { // closed under the queue (a failed write): nothing can go out
			for _, f := range live {
				f.err = errors.Join(errNotSent, fmt.Errorf("broker: link to %s closed", l.addr))
				close(f.done)
			}
			continue
		}
		_ = l.conn.SetWriteDeadline(dl) // zero: none (a write before may have set one)
		n, err := bufs.WriteTo(l.conn)
		if err != nil {
			l.close(err)
			err = fmt.Errorf("broker: write to %s: %w", l.addr, err)
		}
		var off int64 // where each frame starts in what was to be written
		for _, f := range live {
			switch {
			case err != nil && off >= n:
				// Not a byte of it left: another link may send it.
				f.err = errors.Join(errNotSent, err)
			default:
				// Written (its answer comes, or the link's close ends its
				// wait), or cut by the failed write: it may have been sent.
				f.err = err
			}
			off += int64(len(f.frame))
			close(f.done)
		}
	}
}

// heartbeat announces the producer group on this connection.
func (l *link) heartbeat(ctx context.Context, clientID, group string) error {
	body, err := json.Marshal(map[string]any{
		"clientID":        clientID,
		"producerDataSet": []map[string]string{{"groupName": group}},
		"consumerDataSet": []any{},
	})
	if err != nil {
		return fmt.Errorf("broker: encode heartbeat: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := l.call(ctx, codeHeartbeat, nil, body)
	if err != nil {
		return fmt.Errorf("broker: heartbeat to %s (%s): %w", l.brokerName, l.addr, err)
	}
	if resp.Code != respSuccess {
		return fmt.Errorf("broker: heartbeat to %s (%s): %w", l.brokerName, l.addr, &remoteError{resp.Code, resp.Remark})
	}
	l.lastBeat.Store(time.Now().UnixNano())
	return nil
}
