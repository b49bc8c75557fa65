// Package console is the gateway's web console: static HTML, CSS and
// JavaScript modules embedded in the binary and served under /console/.
// The page signs in with an API key that it keeps in the browser's
// sessionStorage and calls only the public API (/v1/...) with it, so the
// key's scopes apply as for any client. Nothing is fetched from anywhere
// but the gateway.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// csp allows the page only its own scripts, styles and API calls.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the console's files; mount it with the /console prefix
// stripped.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: embedded files missing: " + err.Error()) // a build defect, not a runtime condition
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
