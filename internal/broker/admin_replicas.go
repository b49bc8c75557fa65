package broker

import (
	"context"
	"fmt"
	"strconv"
)

// Brokers returns, for every broker group (brokerName) of cluster, its
// registered brokers by id ("0" is the master; controller-mode slaves have
// ids 1, 2, ...), as the name servers see them now.
func (a *Admin) Brokers(ctx context.Context, cluster string) (map[string]map[string]string, error) {
	ci, err := a.rm.clusterInfo(ctx, a.nameServers)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string)
	for _, name := range ci.ClusterAddrTable[cluster] {
		ids := make(map[string]string)
		for id, addr := range ci.BrokerAddrTable[name].BrokerAddrs {
			ids[id] = addr
		}
		out[name] = ids
	}
	return out, nil
}

// CreateTopicOnEveryBroker creates or updates topic on every registered
// broker of cluster, slaves included. In a replicated group a slave copies
// topic configs from its master only periodically (every 10 s); a slave
// promoted before that would refuse sends to a topic created on the master
// alone.
func (a *Admin) CreateTopicOnEveryBroker(ctx context.Context, cluster, topic string, queues int) error {
	return a.createOnReplicas(ctx, cluster, "", topic, queues)
}

// CreateTopicInGroup is CreateTopicOnEveryBroker limited to one broker
// group (brokerName): the topic's messages, and its transactions' half
// messages, then all live in that group.
func (a *Admin) CreateTopicInGroup(ctx context.Context, cluster, group, topic string, queues int) error {
	return a.createOnReplicas(ctx, cluster, group, topic, queues)
}

func (a *Admin) createOnReplicas(ctx context.Context, cluster, only, topic string, queues int) error {
	groups, err := a.Brokers(ctx, cluster)
	if err != nil {
		return err
	}
	q := strconv.Itoa(queues)
	ext := map[string]string{
		"topic": topic, "defaultTopic": "TBW102", "readQueueNums": q, "writeQueueNums": q,
		"perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
	}
	masters := 0
	for name, ids := range groups {
		if only != "" && name != only {
			continue
		}
		if ids["0"] != "" {
			masters++
		}
		for id, addr := range ids {
			resp, err := a.rm.invoke(ctx, addr, codeUpdateAndCreateTopic, ext, nil)
			if err != nil {
				return fmt.Errorf("broker: create topic %s on %s/%s %s: %w", topic, name, id, addr, err)
			}
			if resp.Code != respSuccess {
				return fmt.Errorf("broker: create topic %s on %s/%s %s: %w", topic, name, id, addr, &remoteError{resp.Code, resp.Remark})
			}
		}
	}
	if masters == 0 {
		return fmt.Errorf("broker: no master broker in cluster %q (group %q)", cluster, only)
	}
	return a.waitRouted(ctx, topic)
}
