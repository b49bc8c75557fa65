package middleware

import (
	"net/http"
	"strings"

	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/problem"
)

// KeyLookup resolves a bearer secret to its principal.
type KeyLookup interface {
	Lookup(secret string) (auth.Principal, bool)
}

// Authenticate requires "Authorization: Bearer <api key>" with a known key
// and puts its principal in the request context; otherwise 401.
func Authenticate(keys KeyLookup, writeErr ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="zeroloss"`)
				writeErr(w, r, problem.New(problem.Unauthorized, "send Authorization: Bearer <api key>"))
				return
			}
			p, ok := keys.Lookup(strings.TrimSpace(secret))
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="zeroloss", error="invalid_token"`)
				writeErr(w, r, problem.New(problem.Unauthorized, "unknown API key"))
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		})
	}
}
