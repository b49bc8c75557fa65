package pop

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// Broker is a master broker serving a topic.
type Broker struct {
	Name string // brokerName, as in receipt handles
	Addr string // host:port of its master (brokerId 0)
}

// ErrTopicNotFound is returned when the name servers do not know a topic.
var ErrTopicNotFound = errors.New("pop: topic not found")

// errNoNameServer is returned when no name server answered.
var errNoNameServer = errors.New("pop: no name server answered")

type topicRoute struct {
	BrokerDatas []struct {
		BrokerName  string            `json:"brokerName"`
		BrokerAddrs map[string]string `json:"brokerAddrs"`
	} `json:"brokerDatas"`
	QueueDatas []struct {
		BrokerName    string `json:"brokerName"`
		ReadQueueNums int    `json:"readQueueNums"`
		Perm          int    `json:"perm"`
	} `json:"queueDatas"`
}

// permRead is PermName.PERM_READ: a queue data without it is not popped.
const permRead = 1 << 2

// masters asks the name servers, in order, for topic's route and returns
// the master of every broker that has readable queues of it, sorted by
// name. A broker whose master is down (no id 0 in the route) is left out.
func masters(ctx context.Context, pool *wire.Pool, nameServers []string, timeout time.Duration, topic string) ([]Broker, error) {
	var errs []error
	for _, ns := range nameServers {
		resp, err := pool.Invoke(ctx, ns, timeout, codeGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch resp.Code {
		case respSuccess:
		case respTopicNotExist:
			return nil, fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		default:
			errs = append(errs, &RemoteError{resp.Code, resp.Remark})
			continue
		}
		var tr topicRoute
		if err := wire.DecodeFastJSON(resp.Body, &tr); err != nil {
			return nil, fmt.Errorf("pop: decode route of %s from %s: %w", topic, ns, err)
		}
		readable := map[string]bool{}
		for _, qd := range tr.QueueDatas {
			if qd.ReadQueueNums > 0 && qd.Perm&permRead != 0 {
				readable[qd.BrokerName] = true
			}
		}
		var out []Broker
		for _, bd := range tr.BrokerDatas {
			if addr := bd.BrokerAddrs["0"]; addr != "" && readable[bd.BrokerName] {
				out = append(out, Broker{Name: bd.BrokerName, Addr: addr})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	}
	return nil, errors.Join(append([]error{errNoNameServer}, errs...)...)
}
