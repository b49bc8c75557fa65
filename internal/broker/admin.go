package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zeroloss/zeroloss/internal/broker/wire"
)

// Admin creates topics on every master broker of a cluster. The gateway
// never creates topics on the send path; Admin serves operators and tests.
type Admin struct {
	nameServers []string
	rm          *remoting
}

// NewAdmin returns an Admin for the name servers.
func NewAdmin(nameServers []string) *Admin {
	return &Admin{nameServers: nameServers, rm: &remoting{timeout: 5 * time.Second, pool: wire.Pool{MaxIdle: 64}}}
}

// CreateTopic creates or updates topic with queues read and write queues on
// every master of cluster, and waits until the name servers route it.
func (a *Admin) CreateTopic(ctx context.Context, cluster, topic string, queues int) error {
	ci, err := a.rm.clusterInfo(ctx, a.nameServers)
	if err != nil {
		return err
	}
	var masters []string
	for _, name := range ci.ClusterAddrTable[cluster] {
		if addr := ci.BrokerAddrTable[name].BrokerAddrs["0"]; addr != "" {
			masters = append(masters, addr)
		}
	}
	if len(masters) == 0 {
		return fmt.Errorf("broker: cluster %q has no master broker", cluster)
	}
	q := strconv.Itoa(queues)
	ext := map[string]string{
		"topic": topic, "defaultTopic": "TBW102", "readQueueNums": q, "writeQueueNums": q,
		"perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
	}
	for _, addr := range masters {
		resp, err := a.rm.invoke(ctx, addr, codeUpdateAndCreateTopic, ext, nil)
		if err != nil {
			return fmt.Errorf("broker: create topic %s on %s: %w", topic, addr, err)
		}
		if resp.Code != respSuccess {
			return fmt.Errorf("broker: create topic %s on %s: %w", topic, addr, &remoteError{resp.Code, resp.Remark})
		}
	}
	return a.waitRouted(ctx, topic)
}

// waitRouted waits until the name servers route topic (a topic just
// created is not routed before the brokers' next registration).
func (a *Admin) waitRouted(ctx context.Context, topic string) error {
	for {
		tr, err := a.rm.route(ctx, a.nameServers, topic)
		if err == nil && len(tr.QueueDatas) > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, ErrTopicNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker: topic %s not routed yet: %w", topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
