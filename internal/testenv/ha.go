package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// HA is a running HA stack (deploy/local/stack.sh up --ha): RocketMQ in
// controller mode with two replicated groups, broker-a and broker-b, of two
// brokers each (processes broker-a-0, broker-a-1, broker-b-0, broker-b-1),
// and Redis with AOF under three sentinels (redis-0, redis-1).
type HA struct {
	Stack                   // NameServer and Dir; no RedisURL
	SentinelAddrs []string  // host:port of the sentinels
	MasterName    string    // the sentinels' name for the Redis master
	Controller    string    // host:port of the RocketMQ controller
	Groups        [2]string // the broker groups
}

// HADir is the HA stack's runtime dir: $ZL_HA_STACK_DIR, else
// .stack/ha-default in the repository (`make test` and `make down` stop it).
func HADir() string {
	if d := os.Getenv("ZL_HA_STACK_DIR"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), ".stack", "ha-default")
}

func parseHAEnv(out string) (HA, error) {
	env := envLines(out)
	h := HA{
		Stack:      Stack{NameServer: env["ZEROLOSS_NAMESRV"], Dir: env["ZL_STACK_DIR"]},
		Groups:     [2]string{"broker-a", "broker-b"},
		MasterName: env["ZEROLOSS_REDIS_MASTER_NAME"],
		Controller: env["ZL_CONTROLLER"],
	}
	if addrs := env["ZEROLOSS_REDIS_ADDRS"]; addrs != "" {
		h.SentinelAddrs = strings.Split(addrs, ",")
	}
	if h.NameServer == "" || len(h.SentinelAddrs) == 0 || h.MasterName == "" || h.Dir == "" {
		return h, fmt.Errorf("testenv: stack.sh up --ha printed no addresses:\n%s", out)
	}
	return h, nil
}

var sharedHA = sync.OnceValues(func() (HA, error) {
	out, err := upStack([]string{"ZL_STACK_DIR=" + HADir()}, "up", "--ha")
	if err != nil {
		return HA{}, err
	}
	return parseHAEnv(out)
})

// SharedHA returns the HA stack, starting it if it is not running, and
// waits until every process runs and both groups have a master with a full
// SyncStateSet (a previous test may have killed some). It is left running.
func SharedHA(t testing.TB) HA {
	t.Helper()
	skipShort(t)
	h, err := sharedHA()
	if err != nil {
		t.Fatalf("testenv: HA stack: %v", err)
	}
	h.run(t, 10*time.Minute, "up", "--ha")
	// Right after a broker rejoined, a group's master can be missing from
	// the route for a moment: wait until both groups have one.
	Eventually(t, 2*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := h.Masters(ctx)
		if err != nil {
			return err
		}
		for _, g := range h.Groups {
			if m[g] == "" {
				return fmt.Errorf("testenv: no master routed for %s: %v", g, m)
			}
		}
		return nil
	})
	return h
}

// run runs stack.sh on the HA stack and returns its stdout.
func (h HA) run(t testing.TB, within time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	out, err := runStack(ctx, []string{"ZL_STACK_DIR=" + h.Dir}, args...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return strings.TrimSpace(out)
}

// KillMaster kills (-9) the master broker of group, as the name server
// routes it now, and returns its process name and the moment of the kill;
// the controller then elects the other broker.
func (h HA) KillMaster(t testing.TB, group string) (string, time.Time) {
	t.Helper()
	var name string
	Eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := h.Masters(ctx)
		if err != nil {
			return err
		}
		if m[group] == "" {
			return fmt.Errorf("testenv: no master routed for %s", group)
		}
		name, err = h.processAt(m[group])
		return err
	})
	at := time.Now()
	h.Kill(t, name)
	return name, at
}

// processAt returns the name of the stack's process listening on addr.
func (h HA) processAt(addr string) (string, error) { return ProcessAt(h.Dir, addr) }

// ProcessAt returns the name of the process of the HA stack in dir that
// listens on addr (host:port), from the stack's ports file (HA_<name>=<port>
// lines, written by stack.sh up --ha).
func ProcessAt(dir, addr string) (string, error) {
	_, port, _ := strings.Cut(addr, ":")
	b, err := os.ReadFile(filepath.Join(dir, "ports"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if strings.HasPrefix(k, "HA_") && v == port {
			return strings.TrimPrefix(k, "HA_"), nil
		}
	}
	return "", fmt.Errorf("testenv: no process of %s listens on %s", dir, addr)
}

// Kill kills (-9) one process of the stack by name.
func (h HA) Kill(t testing.TB, name string) {
	t.Helper()
	h.run(t, 2*time.Minute, "kill", name)
}

// Start starts a process of the stack again; a broker rejoins its group as
// a slave and Start waits until it is registered and in the SyncStateSet.
func (h HA) Start(t testing.TB, name string) {
	t.Helper()
	h.run(t, 5*time.Minute, "start", name)
}

// KillRedisMaster kills (-9) the Redis master and returns its process name.
func (h HA) KillRedisMaster(t testing.TB) string {
	t.Helper()
	return h.run(t, time.Minute, "kill-redis-master")
}

// RedisMaster returns the process name of the Redis master.
func (h HA) RedisMaster(t testing.TB) string {
	t.Helper()
	return h.run(t, time.Minute, "redis-master")
}

// RedisReplicas returns the process names of the Redis nodes other than
// the master (redis-0, redis-1, ... from the stack's ports file).
func (h HA) RedisReplicas(t testing.TB) []string {
	t.Helper()
	master := h.RedisMaster(t)
	b, err := os.ReadFile(filepath.Join(h.Dir, "ports"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		k, _, _ := strings.Cut(line, "=")
		if name, ok := strings.CutPrefix(k, "HA_"); ok && strings.HasPrefix(name, "redis-") && name != master {
			out = append(out, name)
		}
	}
	return out
}

// Masters returns the master address of each group as the name server
// routes it now (a group without a master is absent).
func (h HA) Masters(ctx context.Context) (map[string]string, error) {
	groups, err := broker.NewAdmin([]string{h.NameServer}).Brokers(ctx, "DefaultCluster")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string)
	for g, ids := range groups {
		if a := ids["0"]; a != "" {
			out[g] = a
		}
	}
	return out, nil
}

// Topic creates a topic with a unique name on every broker of both groups
// (queues queues per group) and returns its name.
func (h HA) Topic(t testing.TB, prefix string, queues int) string {
	t.Helper()
	topic := prefix + "-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := broker.NewAdmin([]string{h.NameServer}).CreateTopicOnEveryBroker(ctx, "DefaultCluster", topic, queues); err != nil {
		t.Fatalf("testenv: create topic %s: %v", topic, err)
	}
	return topic
}

// GatewayEnv is the environment that points a gateway at the HA stack.
func (h HA) GatewayEnv() []string {
	return []string{
		"ZEROLOSS_NAMESRV=" + h.NameServer,
		"ZEROLOSS_REDIS_ADDRS=" + strings.Join(h.SentinelAddrs, ","),
		"ZEROLOSS_REDIS_MASTER_NAME=" + h.MasterName,
		// The HA brokers check a half message back up to 60 times.
		"ZEROLOSS_TX_CHECK_MAX=60",
		// Records behind an answer wait for a Redis replica (WAIT 1).
		"ZEROLOSS_REDIS_WAIT_REPLICAS=1",
	}
}

// StartGateway starts a gateway against the HA stack (Redis through the
// sentinels), as testenv.StartGateway does.
func (h HA) StartGateway(t testing.TB, extraEnv ...string) *Gateway {
	t.Helper()
	return StartGateway(t, h.Stack, append(h.GatewayEnv(), extraEnv...)...)
}

// Redis returns a Sentinel failover client of the stack's Redis, closed
// when the test ends.
func (h HA) Redis(t testing.TB) redis.UniversalClient {
	t.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: h.SentinelAddrs, MasterName: h.MasterName})
	t.Cleanup(func() { c.Close() })
	return c
}

// GroupTopic creates a topic with a unique name on both brokers of one
// group only, so that its messages and half messages all live there.
func (h HA) GroupTopic(t testing.TB, prefix, group string, queues int) string {
	t.Helper()
	topic := prefix + "-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := broker.NewAdmin([]string{h.NameServer}).CreateTopicInGroup(ctx, "DefaultCluster", group, topic, queues); err != nil {
		t.Fatalf("testenv: create topic %s in %s: %v", topic, group, err)
	}
	return topic
}
