package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestRunHelpListsEverySettingAndExitsCleanly(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"-help"}, func(string) string { return "" }, io.Discard, &stderr); err != nil {
		t.Fatalf("run -help: %v", err)
	}
	for _, want := range []string{"-redis-addrs", "ZEROLOSS_REDIS_ADDRS", "-namesrv", "ZEROLOSS_API_KEYS", "-config"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-help does not mention %s:\n%s", want, stderr.String())
		}
	}
}

// A configuration error stops the gateway before it connects to anything.
func TestRunRefusesRedisURLAndAddrs(t *testing.T) {
	env := map[string]string{
		"ZEROLOSS_API_KEYS":    "a:secret-aaa:admin",
		"ZEROLOSS_REDIS_URL":   "redis://127.0.0.1:1/0",
		"ZEROLOSS_REDIS_ADDRS": "127.0.0.1:2",
	}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "env ZEROLOSS_REDIS_URL") || !strings.Contains(err.Error(), "env ZEROLOSS_REDIS_ADDRS") {
		t.Fatalf("err = %v, want both sources named", err)
	}
}
