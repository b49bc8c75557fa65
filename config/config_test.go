package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zeroloss/zeroloss/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(file, []byte(`
listen: 127.0.0.1:7000
sendTimeout: 5s
nameServers: [10.0.0.1:9876]
apiKeys:
  - {name: file, key: file-secret-1, scopes: [admin]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c config.Config)
		wantErr string
	}{
		{
			name: "defaults with env keys",
			env:  map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin"},
			check: func(t *testing.T, c config.Config) {
				if c.Listen != ":8080" || c.SendTimeout != 3*time.Second || c.IdempotencyTTL != 24*time.Hour {
					t.Errorf("defaults not applied: %+v", c)
				}
				if len(c.APIKeys) != 1 || c.APIKeys[0].Name != "a" || c.APIKeys[0].Scopes[0] != "admin" {
					t.Errorf("api keys = %+v", c.APIKeys)
				}
			},
		},
		{
			name: "file then env then flag",
			args: []string{"-config", file, "-listen", "127.0.0.1:9000"},
			env:  map[string]string{"ZEROLOSS_SEND_TIMEOUT": "7s", "ZEROLOSS_LISTEN": "127.0.0.1:8000"},
			check: func(t *testing.T, c config.Config) {
				if c.Listen != "127.0.0.1:9000" {
					t.Errorf("flag must win: listen = %s", c.Listen)
				}
				if c.SendTimeout != 7*time.Second {
					t.Errorf("env must beat file: sendTimeout = %s", c.SendTimeout)
				}
				if c.NameServers[0] != "10.0.0.1:9876" || c.APIKeys[0].Name != "file" {
					t.Errorf("file values lost: %+v", c)
				}
			},
		},
		{
			name: "env config file",
			env:  map[string]string{"ZEROLOSS_CONFIG": file},
			check: func(t *testing.T, c config.Config) {
				if c.Listen != "127.0.0.1:7000" {
					t.Errorf("listen = %s", c.Listen)
				}
			},
		},
		{name: "no api key", wantErr: "apiKeys: at least one API key is required"},
		{name: "bad duration", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin", "ZEROLOSS_SEND_TIMEOUT": "soon"}, wantErr: "ZEROLOSS_SEND_TIMEOUT"},
		{name: "bad scope", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:read:x"}, wantErr: `unknown action "read"`},
		{
			name: "scoped key with tenant",
			env:  map[string]string{"ZEROLOSS_API_KEYS": "billing@acme:secret-bbb:publish:orders-*,publish:invoices; ops:secret-ccc:admin"},
			check: func(t *testing.T, c config.Config) {
				if len(c.APIKeys) != 2 {
					t.Fatalf("keys = %+v", c.APIKeys)
				}
				k := c.APIKeys[0]
				if k.Name != "billing" || k.Tenant != "acme" || k.Key != "secret-bbb" || len(k.Scopes) != 2 || k.Scopes[0] != "publish:orders-*" || k.Scopes[1] != "publish:invoices" {
					t.Errorf("key = %+v", k)
				}
			},
		},
		{name: "short key", env: map[string]string{"ZEROLOSS_API_KEYS": "a:short:admin"}, wantErr: "at least 8 characters"},
		{name: "malformed keys never echo the secret", env: map[string]string{"ZEROLOSS_API_KEYS": "a:topsecret"}, wantErr: `entry "a:…"`},
		{name: "bad namesrv", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin", "ZEROLOSS_NAMESRV": "nohost"}, wantErr: "want host:port"},
		{name: "bad redis", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin", "ZEROLOSS_REDIS_URL": "http://x"}, wantErr: "redis: url"},
		{name: "lease shorter than send", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin", "ZEROLOSS_IDEMPOTENCY_LEASE": "2s"}, wantErr: "idempotencyLease"},
		{name: "unknown file field", args: []string{"-config", writeFile(t, dir, "listenn: x\n")}, wantErr: `unknown setting "listenn"`},
		{name: "unknown api key field", args: []string{"-config", writeFile(t, dir, "apiKeys: [{name: a, key: secret-aaa, scope: [admin]}]\n")}, wantErr: "scope"},
		{name: "bad int", env: map[string]string{"ZEROLOSS_API_KEYS": "a:secret-aaa:admin", "ZEROLOSS_SEND_RETRIES": "two"}, wantErr: "ZEROLOSS_SEND_RETRIES"},
		{name: "bad flag value", args: []string{"-send-coalesce=maybe"}, wantErr: "-send-coalesce"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, env(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "topsecret") {
					t.Fatalf("error leaks the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func writeFile(t *testing.T, dir, content string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "extra-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func TestValidateReportsEveryError(t *testing.T) {
	c := config.Default()
	c.Listen = "nope"
	c.ProducerGroup = ""
	err := c.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"listen", "producerGroup", "apiKeys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// The documented example must load as it is.
func TestExampleConfigLoads(t *testing.T) {
	c, err := config.Load([]string{"-config", "../deploy/gateway.example.yaml"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.APIKeys) != 2 || c.APIKeys[0].Tenant != "acme" || c.TxCheckMax != 15 {
		t.Fatalf("example config = %+v", c)
	}
}

// Redis addresses set by the user in any layer replace the default url; a url
// and addrs both set by the user are refused, naming where each came from.
func TestRedisURLAddrsPrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	urlFile := write("url.yaml", "redis:\n  url: redis://10.0.0.9:6379/2\n")
	addrsFile := write("addrs.yaml", "redis:\n  addrs: [s1:26379, s2:26379]\n  masterName: mymaster\n")
	const keys = "a:secret-aaa:admin"
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantURL   string
		wantAddrs []string
		wantErr   []string
	}{
		{name: "defaults", wantURL: "redis://127.0.0.1:6379/0"},
		{name: "env url", env: map[string]string{"ZEROLOSS_REDIS_URL": "redis://r:1/0"}, wantURL: "redis://r:1/0"},
		{name: "env addrs replace default url",
			env:       map[string]string{"ZEROLOSS_REDIS_ADDRS": "s1:26379,s2:26379", "ZEROLOSS_REDIS_MASTER_NAME": "mymaster"},
			wantAddrs: []string{"s1:26379", "s2:26379"}},
		{name: "file addrs replace default url", args: []string{"-config", addrsFile}, wantAddrs: []string{"s1:26379", "s2:26379"}},
		{name: "flag addrs replace default url", args: []string{"-redis-addrs", "n1:6379,n2:6379"}, wantAddrs: []string{"n1:6379", "n2:6379"}},
		{name: "file url kept", args: []string{"-config", urlFile}, wantURL: "redis://10.0.0.9:6379/2"},
		{name: "env addrs over file addrs", args: []string{"-config", addrsFile},
			env: map[string]string{"ZEROLOSS_REDIS_ADDRS": "s3:26379"}, wantAddrs: []string{"s3:26379"}},
		{name: "file url and env addrs", args: []string{"-config", urlFile},
			env:     map[string]string{"ZEROLOSS_REDIS_ADDRS": "s1:26379"},
			wantErr: []string{"url (from file " + urlFile + ")", "addrs (from env ZEROLOSS_REDIS_ADDRS)"}},
		{name: "env url and env addrs",
			env:     map[string]string{"ZEROLOSS_REDIS_URL": "redis://r:1/0", "ZEROLOSS_REDIS_ADDRS": "s1:26379"},
			wantErr: []string{"url (from env ZEROLOSS_REDIS_URL)", "addrs (from env ZEROLOSS_REDIS_ADDRS)"}},
		{name: "file addrs and flag url", args: []string{"-config", addrsFile, "-redis-url", "redis://r:1/0"},
			wantErr: []string{"url (from flag -redis-url)", "addrs (from file " + addrsFile + ")"}},
		{name: "env url and flag addrs", args: []string{"-redis-addrs", "n1:6379"},
			env:     map[string]string{"ZEROLOSS_REDIS_URL": "redis://r:1/0"},
			wantErr: []string{"url (from env ZEROLOSS_REDIS_URL)", "addrs (from flag -redis-addrs)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{"ZEROLOSS_API_KEYS": keys}
			for k, v := range tc.env {
				e[k] = v
			}
			c, err := config.Load(tc.args, env(e), io.Discard)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error, got redis %+v", c.Redis)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Redis.URL != tc.wantURL || strings.Join(c.Redis.Addrs, ",") != strings.Join(tc.wantAddrs, ",") {
				t.Errorf("redis url=%q addrs=%v, want url=%q addrs=%v", c.Redis.URL, c.Redis.Addrs, tc.wantURL, tc.wantAddrs)
			}
		})
	}
}

// Every variable and flag the gateway ever read keeps working: deploy files,
// testenv and the e2e tests pass settings this way.
func TestLegacyNamesKept(t *testing.T) {
	envs := map[string]bool{}
	flags := map[string]bool{}
	for _, s := range config.Settings() {
		envs[s.Env], flags[s.Flag] = true, true
	}
	for _, name := range []string{
		"ZEROLOSS_LISTEN", "ZEROLOSS_NAMESRV", "ZEROLOSS_PRODUCER_GROUP", "ZEROLOSS_SEND_TIMEOUT",
		"ZEROLOSS_SEND_RETRIES", "ZEROLOSS_SEND_COALESCE", "ZEROLOSS_MAX_BODY_BYTES", "ZEROLOSS_MAX_MESSAGE_BYTES",
		"ZEROLOSS_IDEMPOTENCY_TTL", "ZEROLOSS_IDEMPOTENCY_LEASE", "ZEROLOSS_SHUTDOWN_TIMEOUT", "ZEROLOSS_REDIS_URL",
		"ZEROLOSS_REDIS_ADDRS", "ZEROLOSS_REDIS_MASTER_NAME", "ZEROLOSS_REDIS_USERNAME", "ZEROLOSS_REDIS_PASSWORD",
		"ZEROLOSS_REDIS_POOL_SIZE", "ZEROLOSS_TX_GROUP", "ZEROLOSS_TX_CHECK_MAX", "ZEROLOSS_TX_RECORD_TTL",
		"ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS", "ZEROLOSS_DEDUP_WINDOW", "ZEROLOSS_CLUSTER",
		"ZEROLOSS_OTLP_ENDPOINT", "ZEROLOSS_PPROF_LISTEN", "ZEROLOSS_LOG_LEVEL", "ZEROLOSS_API_KEYS",
	} {
		if !envs[name] {
			t.Errorf("%s is no longer read", name)
		}
	}
	for _, name := range []string{"listen", "namesrv", "redis-url", "api-keys", "log-level"} {
		if !flags[name] {
			t.Errorf("-%s is no longer a flag", name)
		}
	}
}

// Each section refuses its invalid settings, and Config.Validate reports
// them with the setting's name.
func TestSectionValidate(t *testing.T) {
	valid := func() config.Config {
		c := config.Default()
		c.APIKeys = config.APIKeys{{Name: "a", Key: "secret-aaa", Scopes: []string{"admin"}}}
		return c
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("defaults with a key: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   string
	}{
		{"body", func(c *config.Config) { c.MaxBodyBytes = 10 }, "maxBodyBytes"},
		{"read timeout", func(c *config.Config) { c.ReadTimeout = 0 }, "readTimeout: must be positive"},
		{"health timeout", func(c *config.Config) { c.HealthTimeout = -time.Second }, "healthTimeout"},
		{"pprof", func(c *config.Config) { c.PprofListen = "6060" }, "pprofListen"},
		{"no name server", func(c *config.Config) { c.NameServers = nil }, "at least one name server"},
		{"cluster", func(c *config.Config) { c.Cluster = "" }, "cluster"},
		{"in-flight budget", func(c *config.Config) { c.DeliveryInFlight = 0 }, "deliveryInFlight: must be at least 1"},
		{"invisible time", func(c *config.Config) { c.DeliveryInvisibleTime = time.Second }, "deliveryInvisibleTime: must be 2s to 12h"},
		{"pollers", func(c *config.Config) { c.DeliveryPollers = 0 }, "deliveryPollers: must be 1 to 1024"},
		{"send timeout", func(c *config.Config) { c.SendTimeout = 0 }, "sendTimeout"},
		{"retries", func(c *config.Config) { c.SendRetries = 11 }, "sendRetries"},
		{"message size", func(c *config.Config) { c.MaxMessageBytes = 5 << 20 }, "maxMessageBytes"},
		{"idempotency ttl", func(c *config.Config) { c.IdempotencyTTL = time.Second }, "idempotencyTTL"},
		{"tx group same as producer", func(c *config.Config) { c.TxGroup = c.ProducerGroup }, "txGroup: must differ"},
		{"tx check max", func(c *config.Config) { c.TxCheckMax = 0 }, "txCheckMax"},
		{"tx record ttl", func(c *config.Config) { c.TxRecordTTL = time.Minute }, "txRecordTTL"},
		{"dedup window", func(c *config.Config) { c.DedupWindow = 0 }, "dedupWindow"},
		{"dead letter ttl", func(c *config.Config) { c.DeadLetterTTL = time.Minute }, "deadLetterTTL"},
		{"resync", func(c *config.Config) { c.SubscriptionResync = time.Millisecond }, "subscriptionResync"},
		{"lease wait", func(c *config.Config) { c.DeliveryLeaseWait = 0 }, "deliveryLeaseWait"},
		{"redis none", func(c *config.Config) { c.Redis.URL = "" }, "redis: url or addrs is required"},
		{"redis both", func(c *config.Config) { c.Redis.Addrs = []string{"a:1"} }, "redis: set url or addrs, not both"},
		{"redis url redacted", func(c *config.Config) { c.Redis.URL = "http://u:hunter2@h:1" }, "redis: url"},
		{"redis pool", func(c *config.Config) { c.Redis.PoolSize = 0 }, "poolSize"},
		{"duplicate key name", func(c *config.Config) {
			c.APIKeys = append(c.APIKeys, config.APIKey{Name: "a", Key: "secret-bbb", Scopes: []string{"admin"}})
		}, `duplicate name "a"`},
		{"key used twice", func(c *config.Config) {
			c.APIKeys = append(c.APIKeys, config.APIKey{Name: "b", Key: "secret-aaa", Scopes: []string{"admin"}})
		}, "key is used twice"},
		{"key without scope", func(c *config.Config) { c.APIKeys[0].Scopes = nil }, "at least one scope"},
		{"key without name", func(c *config.Config) { c.APIKeys[0].Name = "" }, "name is required"},
		{"log level", func(c *config.Config) { c.LogLevel = "loud" }, `logLevel "loud"`},
		{"gc percent", func(c *config.Config) { c.GCPercent = 10 }, "gcPercent: must be 0"},
		{"memory limit", func(c *config.Config) { c.MemoryLimitMiB = -1 }, "memoryLimitMiB: must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "secret-") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}
