package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
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

// remotingCommand is a remoting frame's header and body.
type remotingCommand = wire.Command

// remoteError is a non-success response code from a name server or broker.
type remoteError struct {
	Code   int
	Remark string
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("broker: remote code %d: %s", e.Code, e.Remark)
}

// remoting speaks just enough of RocketMQ's remoting protocol for health
// checks, route lookups, topic administration and ending transactions, over
// a wire.Pool: one request at a time per connection, a failed request never
// retried (END_TRANSACTION must not be sent twice by accident).
type remoting struct {
	timeout time.Duration
	pool    wire.Pool
}

func (rm *remoting) invoke(ctx context.Context, addr string, code int, ext map[string]string, body []byte) (*remotingCommand, error) {
	resp, err := rm.pool.Invoke(ctx, addr, rm.timeout, code, ext, body)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	return resp, nil
}

func decodeFastJSON(data []byte, v any) error { return wire.DecodeFastJSON(data, v) }

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
		if err := decodeFastJSON(resp.Body, &ci); err != nil {
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
			if err := decodeFastJSON(resp.Body, &tr); err != nil {
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
