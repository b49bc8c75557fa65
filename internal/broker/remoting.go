package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// RocketMQ remoting request codes used here (RequestCode.java).
const (
	codeUpdateAndCreateTopic = 17
	codeGetRouteInfoByTopic  = 105
	codeGetBrokerClusterInfo = 106
)

// RocketMQ response codes (ResponseCode.java).
const (
	respSuccess       = 0
	respTopicNotExist = 17
)

// remotingCommand is the JSON header of a RocketMQ remoting frame.
type remotingCommand struct {
	Code      int16             `json:"code"`
	Language  string            `json:"language"`
	Version   int16             `json:"version"`
	Opaque    int32             `json:"opaque"`
	Flag      int32             `json:"flag"`
	Remark    string            `json:"remark,omitempty"`
	ExtFields map[string]string `json:"extFields,omitempty"`
	body      []byte
}

// remoteError is a non-success response code from a name server or broker.
type remoteError struct {
	Code   int16
	Remark string
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("broker: remote code %d: %s", e.Code, e.Remark)
}

// remoting speaks just enough of RocketMQ's remoting protocol for health
// checks, route lookups, topic administration and ending transactions: a
// 4-byte frame length, a 4-byte header length (serialisation type 0, JSON),
// the JSON header and the body. A connection carries one request at a time
// and goes back to a small idle pool after a clean answer; a failed request
// is never retried (END_TRANSACTION must not be sent twice by accident).
type remoting struct {
	timeout time.Duration
	opaque  atomic.Int32

	mu   sync.Mutex
	idle map[string][]idleConn
}

type idleConn struct {
	c     net.Conn
	since time.Time
}

// maxIdle bounds pooled connections per address; idleFor bounds their age
// (well below the broker's 120 s idle close).
const (
	maxIdle = 64
	idleFor = 30 * time.Second
)

func (rm *remoting) conn(ctx context.Context, addr string) (net.Conn, error) {
	rm.mu.Lock()
	for list := rm.idle[addr]; len(list) > 0; list = rm.idle[addr] {
		ic := list[len(list)-1]
		rm.idle[addr] = list[:len(list)-1]
		if time.Since(ic.since) < idleFor {
			rm.mu.Unlock()
			return ic.c, nil
		}
		ic.c.Close()
	}
	rm.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: dial %s: %w", addr, err)
	}
	return c, nil
}

func (rm *remoting) release(addr string, c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.idle == nil {
		rm.idle = map[string][]idleConn{}
	}
	if len(rm.idle[addr]) >= maxIdle {
		c.Close()
		return
	}
	rm.idle[addr] = append(rm.idle[addr], idleConn{c: c, since: time.Now()})
}

func (rm *remoting) invoke(ctx context.Context, addr string, code int16, ext map[string]string, body []byte) (*remotingCommand, error) {
	ctx, cancel := context.WithTimeout(ctx, rm.timeout)
	defer cancel()
	conn, err := rm.conn(ctx, addr)
	if err != nil {
		return nil, err
	}
	resp, err := rm.roundTrip(ctx, conn, addr, code, ext, body)
	if err != nil {
		conn.Close()
		return nil, err
	}
	rm.release(addr, conn)
	return resp, nil
}

func (rm *remoting) roundTrip(ctx context.Context, conn net.Conn, addr string, code int16, ext map[string]string, body []byte) (*remotingCommand, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := remotingCommand{Code: code, Language: "GO", Version: 317, Opaque: rm.opaque.Add(1), ExtFields: ext}
	if err := writeFrame(conn, req, body); err != nil {
		return nil, fmt.Errorf("broker: write to %s: %w", addr, err)
	}
	resp, err := readFrame(conn)
	if err != nil {
		return nil, fmt.Errorf("broker: read from %s: %w", addr, err)
	}
	if resp.Opaque != req.Opaque || resp.Flag&flagResponse == 0 {
		return nil, fmt.Errorf("broker: unexpected frame from %s (opaque %d, flag %d)", addr, resp.Opaque, resp.Flag)
	}
	return resp, nil
}

// numericKeys matches the unquoted integer map keys fastjson writes
// (e.g. brokerAddrs {0:"host:port"}), which encoding/json rejects.
var numericKeys = regexp.MustCompile(`([{,])(-?\d+):`)

func decodeFastJSON(data []byte, v any) error {
	return json.Unmarshal(numericKeys.ReplaceAll(data, []byte(`$1"$2":`)), v)
}

type brokerData struct {
	Cluster     string            `json:"cluster"`
	BrokerName  string            `json:"brokerName"`
	BrokerAddrs map[string]string `json:"brokerAddrs"`
}

type clusterInfo struct {
	BrokerAddrTable  map[string]brokerData `json:"brokerAddrTable"`
	ClusterAddrTable map[string][]string   `json:"clusterAddrTable"`
}

type topicRoute struct {
	BrokerDatas []brokerData `json:"brokerDatas"`
	QueueDatas  []struct {
		BrokerName     string `json:"brokerName"`
		ReadQueueNums  int    `json:"readQueueNums"`
		WriteQueueNums int    `json:"writeQueueNums"`
		Perm           int    `json:"perm"`
	} `json:"queueDatas"`
}

// errNoNameServer is returned when no name server answered.
var errNoNameServer = errors.New("broker: no name server answered")

// clusterInfo asks the name servers, in order, for the cluster table.
func (rm *remoting) clusterInfo(ctx context.Context, nameServers []string) (clusterInfo, error) {
	var errs []error
	for _, ns := range nameServers {
		resp, err := rm.invoke(ctx, ns, codeGetBrokerClusterInfo, nil, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resp.Code != respSuccess {
			errs = append(errs, &remoteError{resp.Code, resp.Remark})
			continue
		}
		var ci clusterInfo
		if err := decodeFastJSON(resp.body, &ci); err != nil {
			return ci, fmt.Errorf("broker: decode cluster info from %s: %w", ns, err)
		}
		return ci, nil
	}
	return clusterInfo{}, errors.Join(append([]error{errNoNameServer}, errs...)...)
}

// route asks the name servers for a topic's route. It returns
// ErrTopicNotFound when a name server says the topic does not exist.
func (rm *remoting) route(ctx context.Context, nameServers []string, topic string) (topicRoute, error) {
	var errs []error
	for _, ns := range nameServers {
		resp, err := rm.invoke(ctx, ns, codeGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch resp.Code {
		case respSuccess:
			var tr topicRoute
			if err := decodeFastJSON(resp.body, &tr); err != nil {
				return tr, fmt.Errorf("broker: decode route of %s: %w", topic, err)
			}
			return tr, nil
		case respTopicNotExist:
			return topicRoute{}, fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		default:
			errs = append(errs, &remoteError{resp.Code, resp.Remark})
		}
	}
	return topicRoute{}, errors.Join(append([]error{errNoNameServer}, errs...)...)
}
