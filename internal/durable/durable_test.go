package durable_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/durable"
	"github.com/zeroloss/zeroloss/internal/testenv"
)

func client(t *testing.T) redis.UniversalClient {
	t.Helper()
	return testenv.Shared(t).Redis(t)
}

// setScript sets KEYS[1] to ARGV[1]; the run id in its body makes it new
// to Redis, so the first EvalSha meets NOSCRIPT.
func setScript(t *testing.T) *redis.Script {
	return redis.NewScript(fmt.Sprintf(`-- %s %d
redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
return 'ok'`, t.Name(), time.Now().UnixNano()))
}

func TestWriterWithoutReplicasRunsThePlainScript(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	w, err := durable.New(rdb, durable.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Waits() {
		t.Fatal("Waits with 0 replicas")
	}
	key := "zl:test:durable:{" + t.Name() + "}"
	if got, err := w.Run(ctx, setScript(t), []string{key}, "v1").Text(); err != nil || got != "ok" {
		t.Fatalf("Run = %q, %v", got, err)
	}
	if v, _ := rdb.Get(ctx, key).Result(); v != "v1" {
		t.Fatalf("value %q, want v1", v)
	}
}

// The test Redis is a lone master: WAIT 1 counts no replica, so every
// write is applied but reported as not replicated — never as acknowledged.
func TestWriterReportsAWriteNoReplicaConfirmed(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	w, err := durable.New(rdb, durable.Config{Replicas: 1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Waits() {
		t.Fatal("does not wait with 1 replica")
	}
	key := "zl:test:durable:{" + t.Name() + "}"
	script := setScript(t)
	for i, v := range []string{"first (NOSCRIPT, loaded)", "second (cached)"} {
		cmd := w.Run(ctx, script, []string{key}, v)
		if !errors.Is(cmd.Err(), durable.ErrNotReplicated) {
			t.Fatalf("run %d: err %v, want ErrNotReplicated", i, cmd.Err())
		}
		if cmd.Val() != "ok" {
			t.Fatalf("run %d: the script's answer is lost: %v", i, cmd.Val())
		}
		if got, _ := rdb.Get(ctx, key).Result(); got != v {
			t.Fatalf("run %d: value %q, want %q (applied on the master)", i, got, v)
		}
	}
}

func TestWriterScriptErrorsComeFirst(t *testing.T) {
	rdb := client(t)
	w, err := durable.New(rdb, durable.Config{Replicas: 1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	bad := redis.NewScript(fmt.Sprintf("-- %d\nreturn redis.error_reply('boom')", time.Now().UnixNano()))
	err = w.Run(context.Background(), bad, []string{"zl:test:durable:{bad}"}).Err()
	if err == nil || errors.Is(err, durable.ErrNotReplicated) {
		t.Fatalf("err %v, want the script's error", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  durable.Config
		ok   bool
	}{
		{"off", durable.Config{}, true},
		{"one replica", durable.Config{Replicas: 1, Timeout: time.Second}, true},
		{"negative", durable.Config{Replicas: -1}, false},
		{"no timeout", durable.Config{Replicas: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// On Redis Cluster the script and WAIT go to the master of the key's slot
// (WAIT has no key, and a cluster client would send it to any node).
func TestWriterOnRedisClusterWaitsOnTheKeysMaster(t *testing.T) {
	rdb := testenv.RedisCluster(t)
	ctx := context.Background()
	w, err := durable.New(rdb, durable.Config{Replicas: 1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	script := setScript(t)
	for i := range 8 { // keys spread over the three masters
		key := fmt.Sprintf("zl:test:durable:{k%d}", i)
		cmd := w.Run(ctx, script, []string{key}, "v")
		if !errors.Is(cmd.Err(), durable.ErrNotReplicated) || cmd.Val() != "ok" {
			t.Fatalf("%s: %v %v, want ok and ErrNotReplicated (the cluster has no replicas)", key, cmd.Val(), cmd.Err())
		}
		if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "v" {
			t.Fatalf("%s: %q %v", key, v, err)
		}
	}
	w0, _ := durable.New(rdb, durable.Config{})
	if err := w0.Run(ctx, script, []string{"zl:test:durable:{plain}"}, "v").Err(); err != nil {
		t.Fatalf("without replicas: %v", err)
	}
}
