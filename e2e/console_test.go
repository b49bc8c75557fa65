package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// The console test drives the web console in a real headless Chromium
// (Debian's chromium package; `make console-deps` installs it) against a
// gateway on the real stack. Without Chromium it fails, unless
// ZL_SKIP_BROWSER=1 says to skip outside CI.

// Browser sizes of the screenshots.
const (
	laptopW, laptopH = 1280, 860
	phoneW, phoneH   = 390, 844
)

// page is one headless Chromium tab on the console.
type page struct {
	t      *testing.T
	ctx    context.Context
	out    string // screenshot folder
	mu     sync.Mutex
	errors []string // uncaught exceptions and console.error calls
}

// chromiumPath finds the browser, or ends the test: fails, or skips when
// ZL_SKIP_BROWSER=1 and not in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ZL_SKIP_BROWSER") == "1" && os.Getenv("CI") == "" {
		t.Skip("no Chromium and ZL_SKIP_BROWSER=1: skipping the console test (run `make console-deps`)")
	}
	t.Fatal("no Chromium on PATH: run `make console-deps` (apt-get install chromium); set ZL_SKIP_BROWSER=1 to skip locally")
	return ""
}

// screenshotDir is $ZL_TEST_OUT/console, or .out/console in the repository.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("ZL_TEST_OUT")
	if root == "" {
		root = filepath.Join(testenv.RepoRoot(), ".out")
	}
	dir := filepath.Join(root, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openBrowser(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // root in CI
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(laptopW, laptopH),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	p := &page{t: t, ctx: ctx, out: screenshotDir(t)}
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			msg = "console.error"
			for _, a := range e.Args {
				msg += fmt.Sprintf(" %s", a.Value)
			}
		default:
			return
		}
		p.mu.Lock()
		p.errors = append(p.errors, msg)
		p.mu.Unlock()
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			t.Errorf("page error: %s", e)
		}
	})
	return p
}

// do runs actions; a failure ends the test with what step failed.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
}

// eval runs a JavaScript expression and returns its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// text is the text of the element sel, or "" when there is none.
func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim()`, sel))
}

// waitText polls until the text of sel satisfies ok; refresh, when set, is
// run between polls (e.g. to click a Refresh button).
func (p *page) waitText(sel, want string, ok func(string) bool, refresh func()) string {
	p.t.Helper()
	var got string
	testenv.Eventually(p.t, 90*time.Second, func() error {
		if got = p.text(sel); ok(got) {
			return nil
		}
		if refresh != nil {
			refresh()
		}
		return fmt.Errorf("%s reads %q, want %s", sel, got, want)
	})
	return got
}

func (p *page) waitExists(sel string, refresh func()) {
	p.t.Helper()
	testenv.Eventually(p.t, 90*time.Second, func() error {
		if eval[bool](p, fmt.Sprintf(`document.querySelector(%q) !== null`, sel)) {
			return nil
		}
		if refresh != nil {
			refresh()
		}
		return fmt.Errorf("no %s on the page", sel)
	})
}

func (p *page) waitGone(sel string, refresh func()) {
	p.t.Helper()
	testenv.Eventually(p.t, 90*time.Second, func() error {
		if !eval[bool](p, fmt.Sprintf(`document.querySelector(%q) !== null`, sel)) {
			return nil
		}
		if refresh != nil {
			refresh()
		}
		return fmt.Errorf("%s still on the page", sel)
	})
}

// click clicks the element sel (after it is visible).
func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// confirm answers the confirmation dialog with its confirm button.
func (p *page) confirm(wantTitle string) {
	p.t.Helper()
	p.waitText("#confirm-title", wantTitle, func(s string) bool { return strings.HasPrefix(s, wantTitle) }, nil)
	if !eval[bool](p, `document.getElementById("confirm").open`) {
		p.t.Fatal("the confirmation dialog is not open")
	}
	if got := eval[string](p, `document.activeElement.id`); got != "confirm-cancel" {
		p.t.Errorf("the confirmation dialog opens with focus on %q, want Cancel", got)
	}
	p.click("#confirm-ok")
}

// view opens a view by its link in the navigation and waits for sel.
func (p *page) view(name, sel string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`nav a[data-view=%q]`, name))
	p.waitExists(sel, nil)
}

// shot saves a full-page PNG screenshot as name.png.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	eval[string](p, `document.getElementById("status").textContent = ""`) // the passing notice
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.out, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// waitChart waits until the "ok" line of the chart in sel (height px
// high) leaves its baseline, 2 px above the bottom: a rate above 0.
func (p *page) waitChart(sel string, height int) {
	p.t.Helper()
	baseline := fmt.Sprintf(",%d.0", height-2)
	testenv.Eventually(p.t, 90*time.Second, func() error {
		pts := eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.getAttribute("points") ?? ""`, sel+" polyline.ok"))
		for _, xy := range strings.Fields(pts) {
			if !strings.HasSuffix(xy, baseline) {
				return nil
			}
		}
		return fmt.Errorf("the chart in %s is flat: %q", sel, pts)
	})
}

func (p *page) viewport(w, h int64) {
	p.t.Helper()
	p.do(fmt.Sprintf("viewport %dx%d", w, h), chromedp.EmulateViewport(w, h))
}

func TestConsole(t *testing.T) {
	s := stack(t)
	browser := openBrowser(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "console", 2)

	// A subscription to a recorder, and a producer with a pending
	// transaction on the same topic (checked back only in 10 minutes, so
	// the console decides it).
	r := newReceiver(t)
	sub := createSub(t, g, r, topic, map[string]any{"name": "billing", "maxAttempts": 3})
	hook := newCheckHook(t, func(checkCall) (int, string) { return 200, `{"decision":"unknown"}` })
	producer := registerProducer(t, g, testenv.AdminKey, hook)
	res := post(t, g.URL+"/v1/transactions", testenv.AdminKey, map[string]any{
		"producer": producer, "topic": topic, "body": "order 42 paid", "tag": "paid", "checkAfterSeconds": 600})
	if res.Status != http.StatusCreated {
		t.Fatalf("begin: %d %s", res.Status, res.Body)
	}
	var tx txView
	res.json(t, &tx)

	// The endpoints the console reads apply scopes as any other: another
	// tenant's key does not see the subscription's stats.
	if res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/stats", testenv.OtherKey); res.Status != http.StatusNotFound {
		t.Errorf("stats for another tenant's key: %d %s", res.Status, res.Body)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if res := getAuth(t, g.URL+"/v1/subscriptions/"+sub.ID+"/stats", testenv.AdminKey); res.Status != http.StatusOK ||
			!strings.Contains(string(res.Body), `"lag":0`) {
			return fmt.Errorf("stats: %d %s", res.Status, res.Body)
		}
		return nil
	})
	if res := get(t, g.URL+"/v1/ops/summary"); res.Status != http.StatusUnauthorized {
		t.Errorf("summary without a key: %d", res.Status)
	}

	p := browser
	p.do("open the console", chromedp.Navigate(g.URL+"/console"))

	// Sign in: a wrong key is refused, the test key lands on the overview.
	p.do("type a wrong key", chromedp.SendKeys(chromedp.CSS("#apikey"), "not-a-key"), chromedp.Click(chromedp.CSS("#signin")))
	p.waitText("#signin-error", "a refusal", func(s string) bool { return strings.Contains(s, "not known") }, nil)
	eval[string](p, `document.querySelector("#apikey").value = ""`)
	p.do("type the key", chromedp.SendKeys(chromedp.CSS("#apikey"), testenv.AdminKey),
		chromedp.Click(chromedp.CSS("#signin")))
	p.waitText("#replica-count", "at least one replica", func(s string) bool { return s != "" && s != "0" }, nil)
	if got := eval[string](p, `sessionStorage.getItem("zeroloss.apiKey")`); got != testenv.AdminKey {
		t.Fatalf("the key is not in sessionStorage: %q", got)
	}
	if got := eval[int](p, `localStorage.length + document.cookie.length`); got != 0 {
		t.Errorf("the console stored something besides sessionStorage (%d)", got)
	}
	if got := p.text("#readiness"); strings.Contains(got, "not ready") {
		t.Errorf("readiness: %q", got)
	}

	// Subscriptions: the test's subscription with its lag; pause, send
	// three messages, the lag moves to 3; resume, they are delivered and
	// the lag goes back to 0.
	lag, state := "#lag-"+sub.ID, "#state-"+sub.ID
	p.view("subscriptions", "#sub-"+sub.ID)
	// Earlier tests' subscriptions share the key: bring the row on screen,
	// as a user would (only rows on screen are polled).
	eval[bool](p, fmt.Sprintf(`(document.getElementById(%q).scrollIntoView({block: "center"}), true)`, "sub-"+sub.ID))
	p.waitText(lag, "0", func(s string) bool { return s == "0" }, nil)
	p.click("#pause-" + sub.ID)
	p.waitText(state, "paused", func(s string) bool { return strings.HasPrefix(s, "paused") }, nil)
	for i := range 3 {
		publish(t, g, topic, map[string]any{"body": fmt.Sprintf("event-%d", i), "tag": "created"})
	}
	p.waitText(lag, "3", func(s string) bool { return s == "3" }, nil)
	p.shot("subscriptions-paused-laptop")
	p.click("#resume-" + sub.ID)
	p.waitText(state, "active", func(s string) bool { return strings.HasPrefix(s, "active") }, nil)
	r.waitProcessed(t, 3, 90*time.Second)
	p.waitText(lag, "0", func(s string) bool { return s == "0" }, nil)
	p.waitExists("#rate-"+sub.ID+" svg polyline.ok", nil)

	// Dead letters: two messages the endpoint refuses (400) land there;
	// the first is redriven alone (selected), the second with "all".
	first := publish(t, g, topic, map[string]any{"body": `reject-400 {"orderId": 7, "note": "first"}`, "tag": "refund", "keys": []string{"order-7"}})
	second := publish(t, g, topic, map[string]any{"body": "reject-400 second", "tag": "refund"})
	p.click("#dlq-" + sub.ID)
	refresh := func() { p.click("#refresh") }
	p.waitExists("#dl-"+first.MessageID, refresh)
	p.waitExists("#dl-"+second.MessageID, refresh)
	if got := p.text("#dl-" + first.MessageID); !strings.Contains(got, "400") || !strings.Contains(got, `{"orderId": 7`) {
		t.Errorf("dead letter row lacks the last error or the body: %q", got)
	}
	p.do("open the body preview", chromedp.Click(chromedp.CSS("#dl-"+first.MessageID+" summary")))
	p.shot("dead-letters-laptop")
	r.mu.Lock()
	r.fixed = true // the endpoint accepts them now
	r.mu.Unlock()
	p.click("#pick-" + first.MessageID)
	p.click("#redrive-selected")
	p.waitGone("#dl-"+first.MessageID, nil)
	r.waitProcessed(t, 4, 90*time.Second)
	if n := len(r.ledger()); n != 4 || r.ledger()[3].ID != first.MessageID {
		t.Fatalf("after redriving the selected dead letter the endpoint has %d deliveries, the last %+v", n, r.ledger()[n-1].ID)
	}
	p.waitExists("#dl-"+second.MessageID, nil) // not selected: still dead
	p.click("#redrive-all")
	p.confirm("Redrive every dead letter?")
	p.waitGone("#dl-"+second.MessageID, nil)
	r.waitProcessed(t, 5, 90*time.Second)
	// A third, redriven by "since" a minute before it died.
	r.mu.Lock()
	r.fixed = false
	r.mu.Unlock()
	third := publish(t, g, topic, map[string]any{"body": "reject-400 third", "tag": "refund"})
	p.waitExists("#dl-"+third.MessageID, refresh)
	r.mu.Lock()
	r.fixed = true
	r.mu.Unlock()
	eval[string](p, `(() => { const d = new Date(Date.now() - 60000);
		return document.querySelector("#since").value = new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); })()`)
	p.click("#redrive-since")
	p.waitGone("#dl-"+third.MessageID, nil)
	r.waitProcessed(t, 6, 90*time.Second)

	// Transactions: the pending one first; commit it (confirmed), it is
	// consumed by the subscription.
	p.view("transactions", "#tx-"+tx.TransactionID)
	// Undecided ones first, whatever other tests left in the tenant.
	states := eval[[]string](p, `[...document.querySelectorAll("#transactions tbody tr")].map((r) => r.querySelector("[id^=txstate-] .badge").textContent)`)
	for i := 1; i < len(states); i++ {
		if states[i] == "pending" && states[i-1] != "pending" {
			t.Errorf("a pending transaction is listed after a %s one: %v", states[i-1], states)
			break
		}
	}
	p.shot("transactions-laptop")
	p.click("#commit-" + tx.TransactionID)
	p.confirm("Commit " + tx.TransactionID)
	p.waitText("#txstate-"+tx.TransactionID, "committed", func(s string) bool { return strings.HasPrefix(s, "committed") }, nil)
	got := r.waitProcessed(t, 7, 90*time.Second)
	if last := got[len(got)-1]; last.ID != tx.MessageID || last.Body != "order 42 paid" {
		t.Errorf("the committed message was not consumed: last delivery %s %q", last.ID, last.Body)
	}

	// Producers: the check URL of the test's producer.
	p.view("producers", "#prd-"+producer)
	if got := p.text("#prd-" + producer); !strings.Contains(got, hook.srv.URL) {
		t.Errorf("producer row lacks its check URL: %q", got)
	}
	p.shot("producers-laptop")

	// The subscriptions view again, its chart showing the deliveries.
	p.view("subscriptions", "#sub-"+sub.ID)
	p.waitChart("#rate-"+sub.ID, 36)
	p.shot("subscriptions-laptop")
	// The overview: deliveries and sends over the last minutes.
	p.view("overview", "#deliveries-chart")
	p.waitChart("#deliveries-chart", 120)
	p.waitChart("#sends-chart", 120)
	p.shot("overview-laptop")

	// Accessibility: every control has a name; from a fresh load the first
	// Tab reaches the skip link, focus is drawn, Enter on a link works.
	unlabeled := eval[[]string](p, `[...document.querySelectorAll("input, select, button, a[href]")]
		.filter((el) => !el.closest("dialog") && !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.textContent.trim())
		.map((el) => el.outerHTML.slice(0, 80))`)
	if len(unlabeled) > 0 {
		t.Errorf("controls without a label: %v", unlabeled)
	}
	p.do("reload", chromedp.Reload())
	p.waitExists("#replica-count", nil) // the overview, shown last
	p.do("tab to the skip link", chromedp.KeyEvent("\t"))
	if got := eval[string](p, `document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	if got := eval[string](p, `getComputedStyle(document.activeElement).outlineStyle`); got != "solid" {
		t.Errorf("the focused skip link has outline %q, want a visible one", got)
	}
	eval[bool](p, `document.querySelector('nav a[data-view="producers"]').focus(), true`)
	p.do("press Enter on Producers", chromedp.KeyEvent("\r"))
	p.waitExists("#prd-"+producer, nil)
	if got := eval[string](p, `document.activeElement.tagName + ":" + document.activeElement.textContent`); got != "H1:Producers" {
		t.Errorf("after opening a view focus is on %q, want its heading", got)
	}

	// Phone width: every view as one column.
	p.viewport(phoneW, phoneH)
	for _, v := range []struct{ name, sel, hash string }{
		{"overview", "#replica-count", "#/overview"},
		{"subscriptions", "#sub-" + sub.ID, "#/subscriptions"},
		{"dead-letters", "#dead-letters", "#/subscriptions/" + sub.ID + "/dead-letters"},
		{"transactions", "#tx-" + tx.TransactionID, "#/transactions"},
		{"producers", "#prd-" + producer, "#/producers"},
	} {
		eval[string](p, fmt.Sprintf(`location.hash = %q`, v.hash))
		p.waitExists(v.sel, nil)
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > phoneW {
			t.Errorf("%s at phone width scrolls sideways (%d px wide)", v.name, w)
		}
		p.shot(v.name + "-phone")
	}
	p.viewport(laptopW, laptopH)

	// Signing out forgets the key.
	p.click("#signout")
	p.waitExists("#apikey", nil)
	if got := eval[string](p, `sessionStorage.getItem("zeroloss.apiKey") ?? ""`); got != "" {
		t.Errorf("the key survived sign-out")
	}
	t.Logf("screenshots in %s", p.out)
}

// TestConsolePollsOnlyRowsOnScreen: with many subscriptions the console
// asks for the stats of the rows on screen only, at most four at a time,
// and fills a row scrolled into view without waiting for the next tick.
func TestConsolePollsOnlyRowsOnScreen(t *testing.T) {
	s := stack(t)
	p := openBrowser(t)
	g := testenv.StartGateway(t, s)
	topic := s.Topic(t, "console-many", 1)

	// Another tenant's key sees only the subscriptions made here.
	const n = 60
	key := testenv.OtherKey
	ids := make([]string, 0, n)
	t.Cleanup(func() {
		for _, id := range ids {
			if res := deleteAuth(t, g.URL+"/v1/subscriptions/"+id, key); res.Status != http.StatusNoContent {
				t.Errorf("delete %s: %d %s", id, res.Status, res.Body)
			}
		}
	})
	hook := newReceiver(t).srv.URL + "/hook"
	for i := range n {
		res := post(t, g.URL+"/v1/subscriptions", key, map[string]any{
			"name": fmt.Sprintf("many-%02d", i), "topic": topic, "endpoint": hook})
		if res.Status != http.StatusCreated {
			t.Fatalf("create subscription %d: %d %s", i, res.Status, res.Body)
		}
		var sv subView
		res.json(t, &sv)
		ids = append(ids, sv.ID)
	}

	p.do("open the console", chromedp.Navigate(g.URL+"/console"))
	p.do("sign in", chromedp.SendKeys(chromedp.CSS("#apikey"), key), chromedp.Click(chromedp.CSS("#signin")))
	p.waitText("#replica-count", "at least one replica", func(s string) bool { return s != "" && s != "0" }, nil)
	// Count the stats requests and the most in flight at once.
	eval[bool](p, `(() => {
		const seen = window.__stats = { cur: 0, max: 0, ids: [] };
		const f = window.fetch;
		window.fetch = async (...args) => {
			const m = String(args[0]).match(/subscriptions\/([^/]+)\/stats/);
			if (!m) return f(...args);
			seen.ids.push(m[1]);
			seen.max = Math.max(seen.max, ++seen.cur);
			try { return await f(...args); } finally { seen.cur--; }
		};
		return true;
	})()`)
	p.view("subscriptions", "#sub-"+ids[n-1])

	// Rows on screen now; two rounds of polling ask for those only.
	onScreen := eval[[]string](p, `[...document.querySelectorAll("tr[id^=sub-]")].filter((tr) => {
		const r = tr.getBoundingClientRect(); return r.bottom >= 0 && r.top <= window.innerHeight;
	}).map((tr) => tr.id.slice(4))`)
	if len(onScreen) == 0 || len(onScreen) >= n {
		t.Fatalf("%d of %d rows on screen at %dx%d: the test needs some rows off screen", len(onScreen), n, laptopW, laptopH)
	}
	visible := map[string]bool{}
	for _, id := range onScreen {
		visible[id] = true
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		if got := eval[int](p, `window.__stats.ids.length`); got < 2*len(onScreen) {
			return fmt.Errorf("%d stats requests, want two rounds of %d", got, len(onScreen))
		}
		return nil
	})
	asked := eval[[]string](p, `window.__stats.ids`)
	for _, id := range asked {
		if !visible[id] {
			t.Errorf("stats asked for %s, a row off screen", id)
		}
	}
	if got := eval[int](p, `window.__stats.max`); got > 4 {
		t.Errorf("%d stats requests in flight at once, want at most 4", got)
	}
	// The last row, off screen so far, is filled once scrolled into view.
	last := ids[n-1]
	if visible[last] {
		t.Fatalf("the last row is on screen already")
	}
	if got := p.text("#lag-" + last); got != "…" {
		t.Errorf("the last row's lag before it was on screen: %q, want …", got)
	}
	eval[bool](p, fmt.Sprintf(`(document.getElementById(%q).scrollIntoView({block: "end"}), true)`, "sub-"+last))
	p.waitText("#lag-"+last, "a lag", func(s string) bool { return s != "…" && s != "" }, nil)
}
