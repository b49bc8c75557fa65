package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zeroloss/zeroloss/internal/console"
)

func TestServesTheEmbeddedConsole(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/console", console.Handler()))
	defer srv.Close()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/console/", "text/html", `<script type="module" src="app.js">`},
		{"/console/app.js", "text/javascript", "sessionStorage"},
		{"/console/api.js", "text/javascript", "Authorization"},
		{"/console/style.css", "text/css", "@media (max-width: 700px)"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if !strings.Contains(string(body), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
	resp, err := http.Get(srv.URL + "/console/missing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: %d, want 404", resp.StatusCode)
	}
}

// The console loads nothing from elsewhere: no absolute URL in its files.
func TestLoadsNothingFromElsewhere(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/console", console.Handler()))
	defer srv.Close()
	for _, f := range []string{"index.html", "app.js", "api.js", "dom.js", "chart.js", "overview.js",
		"subscriptions.js", "deadletters.js", "transactions.js", "producers.js", "style.css"} {
		resp, err := http.Get(srv.URL + "/console/" + f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", f, resp.StatusCode)
		}
		s := strings.ReplaceAll(string(body), "http://www.w3.org/2000/svg", "")
		if strings.Contains(s, "http://") || strings.Contains(s, "https://") || strings.Contains(s, "//cdn") {
			t.Errorf("%s refers to another origin", f)
		}
	}
}
