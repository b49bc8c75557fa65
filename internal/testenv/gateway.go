package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CoverDirEnv names the directory where gateways started by StartGateway
// write their coverage (`make test` sets it): when it is set the gateway is
// built with -cover and each process gets a directory of its own below it as
// GOCOVERDIR. A process stopped with Stop writes its counters as it exits;
// one ended by Kill writes none.
const CoverDirEnv = "ZL_COVER_DIR"

// buildGateway compiles cmd/gateway once per test process.
var buildGateway = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "zeroloss-gateway-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gateway")
	args := []string{"build", "-o", bin}
	if os.Getenv(CoverDirEnv) != "" {
		args = append(args, "-cover")
	}
	cmd := exec.Command("go", append(args, "./cmd/gateway")...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gateway: %w\n%s", err, out)
	}
	return bin, nil
})

// Gateway is a running gateway process.
type Gateway struct {
	URL string
	cmd *exec.Cmd
	log *lockedBuffer
	mu  sync.Mutex
	end chan struct{}
}

// The keys StartGateway configures: "admin" may do everything, "orders" may
// publish and run transactions on topics matching orders-*, "orders-ops"
// (tenant orders) runs transactions on every topic, which managing
// producers takes, "other" is an admin of another tenant.
const (
	AdminKey  = "test-admin-key"
	OrdersKey = "test-orders-key"
	// OrdersOpsKey manages the orders tenant's producers (transact:*).
	OrdersOpsKey = "test-orders-ops-key"
	// OtherKey is an admin of another tenant.
	OtherKey = "test-other-key"
	TestKeys = "admin:" + AdminKey + ":admin;orders:" + OrdersKey + ":publish:orders-*,transact:orders-*;" +
		"orders-ops@orders:" + OrdersOpsKey + ":transact:*;other@elsewhere:" + OtherKey + ":admin"
)

// StartGateway starts a gateway process on a free port against stack, with
// extra ZEROLOSS_* settings, waits until /readyz answers 200, and stops it
// (SIGTERM) when the test ends. Its log is printed if the test failed.
func StartGateway(t testing.TB, s Stack, extraEnv ...string) *Gateway {
	t.Helper()
	bin, err := buildGateway()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cmd := exec.Command(bin)
	redisEnv := "ZEROLOSS_REDIS_URL=" + s.RedisURL
	for _, e := range extraEnv {
		// Sentinel or Cluster addresses replace the stack's single node (a
		// url and addrs both set is a configuration error).
		if strings.HasPrefix(e, "ZEROLOSS_REDIS_ADDRS=") {
			redisEnv = "ZEROLOSS_REDIS_URL="
		}
	}
	cmd.Env = append(os.Environ(),
		"ZEROLOSS_LISTEN=127.0.0.1:0",
		"ZEROLOSS_NAMESRV="+s.NameServer,
		redisEnv,
		"ZEROLOSS_API_KEYS="+TestKeys,
		"ZEROLOSS_SHUTDOWN_TIMEOUT=10s",
		// The test webhooks listen on loopback; the test broker checks
		// transactions back at most 5 times (deploy/local/stack.sh).
		"ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true",
		"ZEROLOSS_TX_CHECK_MAX=5",
		"ZEROLOSS_DELAY_LEVELS=1s 1s 1s 1s 2s 2s 2s 2s 3s 3s 3s 3s 4s 4s 4s 4s 5s 5s",
	)
	if root := os.Getenv(CoverDirEnv); root != "" {
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		dir, err := os.MkdirTemp(root, "gateway-")
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+dir)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{cmd: cmd, log: &lockedBuffer{}, end: make(chan struct{})}
	cmd.Stderr = g.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start gateway: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			g.log.Write([]byte(line + "\n"))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(g.end) }()
	t.Cleanup(func() {
		g.Stop()
		if t.Failed() {
			t.Logf("gateway log (warnings and errors):\n%s", tail(problems(g.log.String()), 16000))
		}
	})
	select {
	case a := <-addr:
		g.URL = "http://" + a
	case <-g.end:
		t.Fatalf("testenv: gateway exited at start:\n%s", g.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("testenv: gateway did not listen within 60s:\n%s", g.log.String())
	}
	Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(g.URL + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("readyz %d: %s", resp.StatusCode, b)
		}
		return nil
	})
	return g
}

// Stop sends SIGTERM and waits for the process to drain and exit.
func (g *Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.end:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.end:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.end
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (g *Gateway) Kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = g.cmd.Process.Kill()
	<-g.end
}

// Log returns what the gateway has logged so far.
func (g *Gateway) Log() string { return g.log.String() }

// Eventually polls f until it returns nil or the deadline passes.
func Eventually(t testing.TB, within time.Duration, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testenv: condition not met within %s: %v", within, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// problems keeps the log lines above info level.
func problems(log string) string {
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `"level":"INFO"`) && !strings.Contains(line, `"level":"DEBUG"`) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

type lockedBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}
