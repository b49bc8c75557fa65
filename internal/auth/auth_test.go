package auth_test

import (
	"testing"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/internal/auth"
)

func TestAllows(t *testing.T) {
	kr, err := auth.NewKeyring([]config.APIKey{
		{Name: "ops", Key: "ops-secret", Scopes: []string{"admin"}},
		{Name: "orders", Key: "orders-secret", Tenant: "acme", Scopes: []string{"publish:orders-*", "publish:audit"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, action, topic string
		want               bool
	}{
		{"ops-secret", "publish", "anything", true},
		{"orders-secret", "publish", "orders-eu", true},
		{"orders-secret", "publish", "audit", true},
		{"orders-secret", "publish", "audit-2", false},
		{"orders-secret", "publish", "payments", false},
		{"orders-secret", "admin", "orders-eu", false},
	}
	for _, tc := range tests {
		p, ok := kr.Lookup(tc.key)
		if !ok {
			t.Fatalf("key %s not found", tc.key)
		}
		if got := p.Allows(tc.action, tc.topic); got != tc.want {
			t.Errorf("%s %s %s = %v, want %v", p.Name, tc.action, tc.topic, got, tc.want)
		}
	}
	if p, _ := kr.Lookup("orders-secret"); p.Tenant != "acme" {
		t.Errorf("tenant = %q", p.Tenant)
	}
	if p, _ := kr.Lookup("ops-secret"); p.Tenant != "ops" {
		t.Errorf("default tenant = %q, want the key name", p.Tenant)
	}
	if _, ok := kr.Lookup("guess"); ok {
		t.Error("unknown key accepted")
	}
}

func TestBadScopes(t *testing.T) {
	for _, s := range []string{"publish:[", "read:x", "publish:"} {
		if _, err := auth.NewKeyring([]config.APIKey{{Name: "a", Key: "secret-aa", Scopes: []string{s}}}); err == nil {
			t.Errorf("scope %q accepted", s)
		}
	}
}

func TestAllowsAll(t *testing.T) {
	kr, err := auth.NewKeyring([]config.APIKey{
		{Name: "ops", Key: "ops-secret", Scopes: []string{"admin"}},
		{Name: "all", Key: "all-secret", Scopes: []string{"transact:*", "publish:orders-*"}},
		{Name: "stars", Key: "stars-secret", Scopes: []string{"transact:**"}},
		{Name: "some", Key: "some-secret", Scopes: []string{"transact:orders-*", "transact:?*", "subscribe:*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, action string
		want        bool
	}{
		{"ops-secret", "transact", true},
		{"all-secret", "transact", true},
		{"all-secret", "publish", false},
		{"all-secret", "subscribe", false},
		{"stars-secret", "transact", true},
		{"some-secret", "transact", false},
		{"some-secret", "subscribe", true},
	}
	for _, tc := range tests {
		t.Run(tc.key+"/"+tc.action, func(t *testing.T) {
			p, _ := kr.Lookup(tc.key)
			if got := p.AllowsAll(tc.action); got != tc.want {
				t.Fatalf("AllowsAll(%s) = %v, want %v", tc.action, got, tc.want)
			}
		})
	}
}
