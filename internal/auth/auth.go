// Package auth holds API keys and what each may do. Keys are looked up by
// the SHA-256 of the presented secret, so lookups take the same time whatever
// the secret's prefix.
package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path"
	"strings"

	"github.com/zeroloss/zeroloss/config"
)

// Principal is the authenticated caller.
type Principal struct {
	// Name is the API key's name.
	Name string
	// Tenant owns the caller's resources.
	Tenant string
	scopes []scope
}

type scope struct {
	action  string // "admin", "publish" or "transact"
	pattern string // topic glob
}

// Allows reports whether p may do action ("publish") on resource (a topic).
// The admin scope allows everything.
func (p Principal) Allows(action, resource string) bool {
	for _, s := range p.scopes {
		if s.action == "admin" {
			return true
		}
		if s.action == action {
			if ok, _ := path.Match(s.pattern, resource); ok {
				return true
			}
		}
	}
	return false
}

// AllowsAll reports whether p may do action on every topic: it is an admin
// or holds action with a pattern of only '*' (e.g. "transact:*"). Resources
// that are not tied to one topic, such as transactional producers, need it
// to be changed.
func (p Principal) AllowsAll(action string) bool {
	for _, s := range p.scopes {
		if s.action == "admin" || s.action == action && s.pattern != "" && strings.Trim(s.pattern, "*") == "" {
			return true
		}
	}
	return false
}

// HasAction reports whether p may do action on at least some resource.
func (p Principal) HasAction(action string) bool {
	for _, s := range p.scopes {
		if s.action == "admin" || s.action == action {
			return true
		}
	}
	return false
}

// Keyring resolves bearer secrets to principals. It is immutable and safe for
// concurrent use.
type Keyring struct {
	byHash map[[sha256.Size]byte]Principal
}

// NewKeyring builds a keyring from configured keys.
func NewKeyring(keys []config.APIKey) (*Keyring, error) {
	kr := &Keyring{byHash: make(map[[sha256.Size]byte]Principal, len(keys))}
	for _, k := range keys {
		p := Principal{Name: k.Name, Tenant: k.Tenant}
		if p.Tenant == "" {
			p.Tenant = k.Name
		}
		for _, s := range k.Scopes {
			if err := config.ValidateScope(s); err != nil {
				return nil, fmt.Errorf("auth: key %s: %w", k.Name, err)
			}
			action, pattern, _ := strings.Cut(s, ":")
			if _, err := path.Match(pattern, ""); err != nil {
				return nil, fmt.Errorf("auth: key %s: scope %q: %w", k.Name, s, err)
			}
			p.scopes = append(p.scopes, scope{action: action, pattern: pattern})
		}
		kr.byHash[sha256.Sum256([]byte(k.Key))] = p
	}
	return kr, nil
}

// Lookup returns the principal for a presented secret.
func (kr *Keyring) Lookup(secret string) (Principal, bool) {
	p, ok := kr.byHash[sha256.Sum256([]byte(secret))]
	return p, ok
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of an authenticated request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
