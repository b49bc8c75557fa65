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
		{name: "unknown file field", args: []string{"-config", writeFile(t, dir, "listenn: x\n")}, wantErr: "field listenn not found"},
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
	f := filepath.Join(dir, "extra.yaml")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
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
