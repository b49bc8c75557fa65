// Package testenv starts the real services integration and end-to-end tests
// run against: RocketMQ (name server + broker from Maven Central jars) and
// Redis, through deploy/local/stack.sh, and gateway processes built from
// cmd/gateway. Nothing here fakes a broker: a missing dependency fails the
// test loudly.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/broker"
)

// Stack is a running RocketMQ name server, broker and Redis.
type Stack struct {
	NameServer string // host:port
	RedisURL   string // redis://host:port/db
	BrokerAddr string // host:port
	Dir        string // the stack's runtime dir (ZL_STACK_DIR)
}

// RepoRoot returns the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

func stackScript() string { return filepath.Join(RepoRoot(), "deploy", "local", "stack.sh") }

// runStack runs stack.sh with args and extra environment, returning stdout.
func runStack(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{stackScript()}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("stack.sh %s: %w\n%s", strings.Join(args, " "), err, tail(errb.String(), 4000))
	}
	return out.String(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func parseEnv(out string) (Stack, error) {
	env := envLines(out)
	s := Stack{
		NameServer: env["ZEROLOSS_NAMESRV"],
		RedisURL:   env["ZEROLOSS_REDIS_URL"],
		BrokerAddr: env["ZEROLOSS_BROKER_ADDR"],
		Dir:        env["ZL_STACK_DIR"],
	}
	if s.NameServer == "" || s.RedisURL == "" || s.BrokerAddr == "" {
		return s, fmt.Errorf("testenv: stack.sh printed no addresses:\n%s", out)
	}
	return s, nil
}

// envLines reads the KEY=value lines stack.sh prints; other lines are skipped.
func envLines(out string) map[string]string {
	env := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			env[k] = v
		}
	}
	return env
}

// shared is the process-wide shared stack: started (or found running, e.g.
// by `make test`) once, left running for other test packages.
var shared = sync.OnceValues(func() (Stack, error) {
	out, err := upStack(nil, "up")
	if err != nil {
		return Stack{}, err
	}
	return parseEnv(out)
})

// upStack runs stack.sh up (args) with env, allowing a slow machine ten
// minutes, and returns what it printed: the stack's env file.
func upStack(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	return runStack(ctx, env, args...)
}

// skipShort skips a test that needs real services under `go test -short`
// (`make test-short`: unit tests only).
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("testenv: needs RocketMQ and Redis; skipped with -short")
	}
}

// Shared returns the shared stack (ZL_STACK_DIR, default .stack/default),
// starting it if it is not running. It is not stopped by the test: `make
// test` stops it at the end.
func Shared(t testing.TB) Stack {
	t.Helper()
	skipShort(t)
	s, err := shared()
	if err != nil {
		t.Fatalf("testenv: shared RocketMQ + Redis stack: %v", err)
	}
	return s
}

// Private starts a stack of the test's own (for tests that stop the broker)
// and stops it when the test ends.
func Private(t testing.TB) Stack {
	t.Helper()
	skipShort(t)
	dir := filepath.Join(RepoRoot(), ".stack", "private-"+randomHex(4))
	env := []string{"ZL_STACK_DIR=" + dir}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := runStack(ctx, env, "down"); err != nil {
			t.Logf("testenv: stop private stack: %v", err)
		}
	})
	out, err := runStack(ctx, env, "up")
	if err != nil {
		t.Fatalf("testenv: private stack: %v", err)
	}
	s, err := parseEnv(out)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// StopBroker kills the stack's broker (kill -9) and waits until it is gone.
func (s Stack) StopBroker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := runStack(ctx, []string{"ZL_STACK_DIR=" + s.Dir}, "stop-broker"); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// StartBroker starts the stack's broker again and waits until it is routed.
func (s Stack) StartBroker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := runStack(ctx, []string{"ZL_STACK_DIR=" + s.Dir}, "start-broker"); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// Redis returns a client of the stack's Redis, closed when the test ends.
func (s Stack) Redis(t testing.TB) redis.UniversalClient {
	t.Helper()
	return s.RedisDB(t, -1)
}

// RedisDB returns a client of database db of the stack's Redis (-1: the
// stack's own), closed when the test ends. Tests whose Redis state every
// gateway on the stack would act on (a transaction resolver's schedule)
// use a database of their own, so other packages' gateways, running at the
// same time, do not act as their replicas.
func (s Stack) RedisDB(t testing.TB, db int) redis.UniversalClient {
	t.Helper()
	o, err := redis.ParseURL(s.RedisURL)
	if err != nil {
		t.Fatalf("testenv: redis url: %v", err)
	}
	if db < 0 {
		db = o.DB
	}
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{o.Addr}, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

// Topic creates a topic with a unique name (prefix plus random suffix) and
// queues queues, and returns its name.
func (s Stack) Topic(t testing.TB, prefix string, queues int) string {
	t.Helper()
	topic := prefix + "-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := broker.NewAdmin([]string{s.NameServer}).CreateTopic(ctx, "DefaultCluster", topic, queues); err != nil {
		t.Fatalf("testenv: create topic %s: %v", topic, err)
	}
	return topic
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
