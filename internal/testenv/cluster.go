package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster starts a Redis Cluster of three masters (no replicas) for
// the test — redis-server with cluster-enabled on free ports, joined with
// `redis-cli --cluster create` — and returns a cluster client (the client
// the gateway makes from several redis.addrs without a master name). The
// nodes are killed when the test ends.
func RedisCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	skipShort(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testenv: Redis Cluster needs redis-server: %v", err)
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		port, bus := freePort(t), freePort(t)
		node := filepath.Join(dir, strconv.Itoa(i))
		cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(node+".nodes.conf"), "--dir", dir,
			"--dbfilename", strconv.Itoa(i)+".rdb", "--save", "", "--appendonly", "no", "--daemonize", "no")
		// Never outlive the test binary, even when it is killed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := "127.0.0.1:" + strconv.Itoa(port)
		Eventually(t, 30*time.Second, func() error {
			c := redis.NewClient(&redis.Options{Addr: addr})
			defer c.Close()
			if err := c.Ping(context.Background()).Err(); err != nil {
				return fmt.Errorf("redis-server %s: %w\n%s", addr, err, tail(out.String(), 2000))
			}
			return nil
		})
		addrs = append(addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create := exec.CommandContext(ctx, "redis-cli", append([]string{"--cluster", "create"}, append(addrs, "--cluster-yes")...)...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, tail(string(out), 4000))
	}
	for _, addr := range addrs {
		Eventually(t, time.Minute, func() error {
			c := redis.NewClient(&redis.Options{Addr: addr})
			defer c.Close()
			info, err := c.ClusterInfo(context.Background()).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("cluster node %s not ready: %v %s", addr, err, info)
			}
			return nil
		})
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = c.Close() })
	Eventually(t, time.Minute, func() error {
		return c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			return m.Ping(ctx).Err()
		})
	})
	return c
}

// freePort returns a TCP port the kernel has just handed out and taken back.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
