package testenv

import (
	"reflect"
	"testing"
)

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Stack
		wantErr bool
	}{
		{
			name: "all addresses, noise skipped",
			out:  "starting…\nZEROLOSS_NAMESRV=127.0.0.1:9876\n  ZEROLOSS_REDIS_URL=redis://127.0.0.1:6379/0\nZEROLOSS_BROKER_ADDR=127.0.0.1:10911\nZL_STACK_DIR=/tmp/s\n",
			want: Stack{NameServer: "127.0.0.1:9876", RedisURL: "redis://127.0.0.1:6379/0", BrokerAddr: "127.0.0.1:10911", Dir: "/tmp/s"},
		},
		{name: "no broker", out: "ZEROLOSS_NAMESRV=a:1\nZEROLOSS_REDIS_URL=redis://b:2\n", wantErr: true},
		{name: "empty", out: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnv(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseEnv error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("parseEnv = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseHAEnv(t *testing.T) {
	out := "ZEROLOSS_NAMESRV=n:1\nZEROLOSS_REDIS_ADDRS=s:1,s:2,s:3\nZEROLOSS_REDIS_MASTER_NAME=zl\nZL_CONTROLLER=c:1\nZL_STACK_DIR=/tmp/ha\n"
	got, err := parseHAEnv(out)
	if err != nil {
		t.Fatal(err)
	}
	want := HA{
		Stack:         Stack{NameServer: "n:1", Dir: "/tmp/ha"},
		SentinelAddrs: []string{"s:1", "s:2", "s:3"},
		MasterName:    "zl",
		Controller:    "c:1",
		Groups:        [2]string{"broker-a", "broker-b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseHAEnv = %+v, want %+v", got, want)
	}
	if _, err := parseHAEnv("ZEROLOSS_NAMESRV=n:1\nZL_STACK_DIR=/tmp/ha\n"); err == nil {
		t.Fatal("parseHAEnv without sentinels: want an error")
	}
}
