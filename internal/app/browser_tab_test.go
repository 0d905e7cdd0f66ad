package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Bounds of the browser tests. The whole run takes seconds; these only
// turn a hang into a failure that says where it hung.
const (
	browserRunTimeout  = 100 * time.Second // the browser lives no longer than this
	browserStepTimeout = 30 * time.Second  // one navigation, wait or script
)

// requireChromium returns the path of the Chromium to drive: $KLAXON_CHROMIUM,
// else chromium on the PATH. A missing one skips the test, except in CI,
// where skipping would hide that the web UI was never tested.
func requireChromium(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("KLAXON_CHROMIUM"); path != "" {
		return path
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (Debian package chromium, or set KLAXON_CHROMIUM): %v", err)
		}
		t.Skipf("chromium not installed (Debian package chromium, or set KLAXON_CHROMIUM): %v", err)
	}
	return path
}

// startBrowser starts one headless Chromium for the whole test and closes
// it when the test ends. Its output goes to the test log if the test fails.
func startBrowser(t *testing.T, execPath string) context.Context {
	t.Helper()
	var logs lockedBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.CombinedOutput(&logs),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox on, and CI
		// runs as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	bounded, cancelBound := context.WithTimeout(context.Background(), browserRunTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(bounded, opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelBound()
		if t.Failed() {
			t.Logf("chromium output:\n%s", logs.String())
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return ctx
}

// lockedBuffer collects the browser's output, written from another
// goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tab is one tab in a browser context of its own: its own cookies, so one
// person's session. It records what the page writes to the console.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // Klaxon's URL
	who  string // named in failures

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newTab(t *testing.T, browser context.Context, base, who string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tb := &tab{t: t, ctx: ctx, base: base, who: who}
	// Console opens the tab, so it sees the console from the first page on.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return // the tab closed
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return tb
}

// do runs browser steps, bounded, and fails the test naming what it was
// doing.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.who, what, err)
	}
}

// waitFor waits until an element matching selector is in the page.
func (tb *tab) waitFor(what, selector string) {
	tb.t.Helper()
	tb.do(what+" ("+selector+")", chromedp.WaitReady(chromedp.CSS(selector)))
}

// open loads a page and fails unless it answers 200.
func (tb *tab) open(path string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(tb.base+path))
	if err != nil {
		tb.t.Fatalf("%s: open %s: %v", tb.who, path, err)
	}
	if resp.Status != 200 {
		tb.t.Fatalf("%s: open %s: got %d %s, want 200", tb.who, path, resp.Status, resp.StatusText)
	}
}

// openLive loads a live page and waits until its event stream is open, so
// that whatever happens next reaches the page.
func (tb *tab) openLive(path string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	responses := chromedp.Events(ctx, network.ResponseReceived)
	tb.open(path)
	tb.waitFor("the live page "+path, "main#main[data-live]")
	for ev, err := range responses {
		if err != nil {
			tb.t.Fatalf("%s: %s: no answer from /events within %v: %v", tb.who, path, browserStepTimeout, err)
		}
		if ev.Response.URL == tb.base+"/events" {
			if ev.Response.Status != 200 {
				tb.t.Fatalf("%s: %s: /events answered %d %s, want 200", tb.who, path, ev.Response.Status, ev.Response.StatusText)
			}
			return
		}
	}
}

// eval runs a script in the page (awaiting it if it is a promise) and
// decodes its result.
func eval[T any](tb *tab, what, script string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.who, what, err)
	}
	return v
}

// signIn signs in through the form at /login and checks it lands on the
// Now page.
func (tb *tab) signIn(username, password string) {
	tb.t.Helper()
	tb.open("/login")
	tb.do("sign in as "+username,
		chromedp.SendKeys(chromedp.CSS(`form#login input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`form#login input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form#login button, form#login input[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`main#main[data-live]`)),
	)
	loc := eval[string](tb, "read the location", `location.href`)
	if loc != tb.base+"/" {
		tb.t.Fatalf("%s: signed in at %s, want %s/", tb.who, loc, tb.base)
	}
}

// viewports are the widths every page is looked at in.
var viewports = []struct {
	name          string
	width, height int64
	opts          []chromedp.EmulateViewportOption
}{
	{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait}},
	{"desktop", 1366, 900, nil},
}

// screenshotDir is where screenshots go: $KLAXON_SCREENSHOTS_DIR, else
// testdata/screenshots (ignored by git; docs/screenshots holds the copies
// for readers).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KLAXON_SCREENSHOTS_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot loads path at each viewport width and saves the whole page
// as <dir>/<name>-<phone|desktop>.png. The tab is left at desktop width.
func (tb *tab) screenshot(dir, name, path string) {
	tb.t.Helper()
	for _, v := range viewports {
		tb.do(fmt.Sprintf("set the %s viewport", v.name), chromedp.EmulateViewport(v.width, v.height, v.opts...))
		tb.open(path)
		ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			tb.t.Fatalf("%s: screenshot %s at %s width: %v", tb.who, path, v.name, err)
		}
		file := filepath.Join(dir, name+"-"+v.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
}

// checkConsole fails the test for what the pages wrote to the console
// that means a broken page: an uncaught exception, or something the
// Content-Security-Policy blocked (an inline script or style that
// slipped into the markup). Other errors, such as a 403 the test asked
// for, are logged.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		switch {
		case m.IsException():
			tb.t.Errorf("%s: uncaught exception at %s:%d: %s", tb.who, m.URL, m.Line+1, m.Text)
		case m.Source == "security" || strings.Contains(m.Text, "Content Security Policy"):
			tb.t.Errorf("%s: blocked by the Content-Security-Policy at %s: %s", tb.who, m.URL, m.Text)
		case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning:
			tb.t.Logf("%s: console %s at %s: %s", tb.who, m.Type, m.URL, m.Text)
		}
	}
}
