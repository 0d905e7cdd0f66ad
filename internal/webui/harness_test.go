package webui

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/runbook"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// testConfig is the configuration every test UI runs with: two people on
// one schedule (alice in Berlin, to see times in a person's zone).
const testConfig = `
users:
  - {name: alice, time_zone: Europe/Berlin}
  - {name: bob}
schedules:
  - name: primary
    rotations: [{participants: [alice, bob], shift: weekly, start: "2026-01-05"}]
escalation_policies:
  - name: default
    steps:
      - targets: [{schedule: primary}]
`

// testRunbook covers the DiskFull alert.
const testRunbook = `---
title: Disk full
alerts: [DiskFull]
---
# Disk full

## Diagnose
` + "```" + `
df -h {{ .Labels.pod }}
` + "```" + `
## Causes
## Escalate
`

// testUI is the web UI over a real SQLite store and the real services,
// served on 127.0.0.1 for one test.
type testUI struct {
	t      *testing.T
	URL    string
	UI     *UI
	Store  klaxon.Store
	Config *config.Config
	// RunbookDir holds the runbooks; write files and call
	// UI.Runbooks.Reload to change them.
	RunbookDir string

	accounts int // how many signIn made, for unique usernames
}

// newTestUI builds the services the way internal/app does, minus chat,
// jobs (nothing is sent, no reminder runs) and insights, and serves the
// UI until the test ends. Each configure func may change the UI (set
// UI.Insights over tu.Store…) before it serves anything.
func newTestUI(t *testing.T, configure ...func(tu *testUI)) *testUI {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Parse("test.yaml", []byte(testConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })

	severity := klaxon.DefaultSeverityPolicy()
	dir, err := oncall.Compile(cfg, severity.Names)
	if err != nil {
		t.Fatalf("compile on-call: %v", err)
	}
	onCall := oncall.NewService(store, dir, oncall.Options{})
	alerts := alerting.New(store, alerting.Options{Severity: severity, Writers: 1, Logger: log})
	t.Cleanup(alerts.Close)
	incidents := incident.New(store, incident.Options{Config: cfg, Severity: severity, OnCall: onCall, Logger: log})

	runbookDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(runbookDir, "disk-full.md"), []byte(testRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	runbooks := runbook.NewCatalog(runbookDir, log)
	if err := runbooks.Reload(); err != nil {
		t.Fatalf("runbooks: %v", err)
	}

	// The listener comes first: auth needs the address for its base URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	authn, err := auth.New(store, auth.Options{BaseURL: base, Logger: log})
	if err != nil {
		ln.Close()
		t.Fatalf("auth: %v", err)
	}
	ui := &UI{
		Auth:      authn,
		Alerts:    alerts,
		Incidents: incidents,
		OnCall:    onCall,
		Runbooks:  runbooks,
		Changes:   store.ChangeMark,
		Logger:    log,
		LivePoll:  20 * time.Millisecond,
	}
	tu := &testUI{t: t, URL: base, UI: ui, Store: store, Config: cfg, RunbookDir: runbookDir}
	for _, c := range configure {
		c(tu)
	}
	srv := httptest.NewUnstartedServer(ui.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	// Live streams end first, or Close would wait for them.
	t.Cleanup(srv.Close)
	t.Cleanup(ui.Shutdown)
	return tu
}

// testLogWriter sends log lines to the test's log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// testPassword is every test account's password.
const testPassword = "correct horse battery staple"

// addAccount creates an account with testPassword.
func (tu *testUI) addAccount(username string, role klaxon.Role) *klaxon.Account {
	tu.t.Helper()
	a, err := tu.UI.Auth.AddAccount(context.Background(), auth.NewAccount{Username: username, Role: role, Password: testPassword})
	if err != nil {
		tu.t.Fatalf("add account %s: %v", username, err)
	}
	return a
}

// signIn creates an account with role (named "viewer1", "responder2"…)
// and returns a browser signed in as it.
func (tu *testUI) signIn(role klaxon.Role) *browser {
	tu.t.Helper()
	tu.accounts++
	name := fmt.Sprintf("%s%d", role, tu.accounts)
	tu.addAccount(name, role)
	return tu.signInAs(name, testPassword)
}

// signInAs signs a new browser in through the /login form and fails the
// test if that does not work.
func (tu *testUI) signInAs(username, password string) *browser {
	tu.t.Helper()
	b := tu.browser()
	resp, body := b.login(username, password, "")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		tu.t.Fatalf("sign in as %s: status %d at %s:\n%s", username, resp.StatusCode, resp.Request.URL, body)
	}
	b.Name = username
	b.CSRF = csrfToken(tu.t, body)
	return b
}

// browser returns a browser with no session.
func (tu *testUI) browser() *browser {
	tu.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tu.t.Fatal(err)
	}
	return &browser{
		t:      tu.t,
		base:   tu.URL,
		client: &http.Client{Jar: jar, Timeout: 10 * time.Second},
		raw: &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// ingest fires an alert from integration "test" and returns its ID.
// summary goes in the summary annotation too, as Alertmanager sends it.
func (tu *testUI) ingest(key string, labels map[string]string, summary string) int64 {
	tu.t.Helper()
	annotations := map[string]string{"summary": summary}
	res, err := tu.UI.Alerts.Ingest(context.Background(), "test", []klaxon.Signal{{
		Key: key, Action: klaxon.ActionTrigger, Severity: labels["severity"], Summary: summary,
		Labels: labels, Annotations: annotations,
	}})
	if err != nil {
		tu.t.Fatalf("ingest %s: %v", key, err)
	}
	return res[0].AlertID
}

// alert reads an alert back from the store.
func (tu *testUI) alert(id int64) *klaxon.Alert {
	tu.t.Helper()
	a, err := tu.Store.Alert(context.Background(), id)
	if err != nil {
		tu.t.Fatalf("alert %d: %v", id, err)
	}
	return a
}

// browser is one person's browser: a cookie jar and, once signed in, the
// session's CSRF token.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client // follows redirects
	raw    *http.Client // same cookies, stops at a redirect
	Name   string
	CSRF   string
}

// login fills in and submits the sign-in form (of /login?next=next when
// next is not ""), following redirects.
func (b *browser) login(username, password, next string) (*http.Response, string) {
	b.t.Helper()
	path := "/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	_, page := b.get(path)
	form := url.Values{"username": {username}, "password": {password}, "csrf": {csrfToken(b.t, page)}}
	if m := nextField.FindStringSubmatch(page); m != nil {
		form.Set("next", html.UnescapeString(m[1]))
	}
	return b.send(http.MethodPost, "/login", form, true)
}

// get fetches a page, following redirects.
func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	return b.send(http.MethodGet, path, nil, true)
}

// post submits a form with the session's CSRF token, following
// redirects; form is not changed. (send posts other tokens, or none.)
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	withToken := url.Values{}
	maps.Copy(withToken, form)
	withToken.Set("csrf", b.CSRF)
	return b.send(http.MethodPost, path, withToken, true)
}

// send makes a request; form (if not nil) is the url-encoded body.
// follow=false stops at the first answer, redirect or not.
func (b *browser) send(method, path string, form url.Values, follow bool) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := b.raw
	if follow {
		c = b.client
	}
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, string(data)
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nextField = regexp.MustCompile(`name="next" value="([^"]*)"`)
)

// csrfToken is the CSRF token in a page's forms.
func csrfToken(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}
