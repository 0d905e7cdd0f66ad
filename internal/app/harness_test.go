package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// Tokens used by every end-to-end test.
const (
	cliToken     = "cli-token-0123456789abcdef"
	amToken      = "am-token-0123456789abcdef"
	pdToken      = "R0123456789ABCDEF0123456789ABCDE" // the routing_key in the fixtures
	genericToken = "generic-token-0123456789abcdef"
)

// klaxonServer is a Klaxon running in-process on 127.0.0.1:0.
type klaxonServer struct {
	URL    string
	Client *httpapi.Client
	stop   func()
	scan   *secretScanner // checks the logs, metrics and answers at stop
}

// serverOptions tweak the test server.
type serverOptions struct {
	database  string // default: SQLite in a temp dir
	extraYAML string // appended to the config
	now       func() time.Time
	shutdown  time.Duration
	logs      io.Writer // also receives every log line, at debug level
	// configPath is re-read on SIGHUP (app.Options.ConfigPath); the
	// server starts from the config built here, not from that file.
	configPath string
}

// startKlaxon starts Klaxon with a config holding one integration of each
// type and a CLI token, and stops it when the test ends.
func startKlaxon(t testing.TB, o serverOptions) *klaxonServer {
	t.Helper()
	if o.database == "" {
		o.database = "sqlite://" + filepath.Join(t.TempDir(), "klaxon.db")
	}
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
database: %s
api_tokens:
  - name: ops-cli
    token: %s
integrations:
  - name: prod-alertmanager
    type: alertmanager
    token: %s
  - name: grafana
    type: events-v2
    token: %s
  - name: scripts
    type: generic
    token: %s
%s`, o.database, cliToken, amToken, pdToken, genericToken, o.extraYAML)
	cfg, err := config.Parse("test.yaml", []byte(yaml), os.LookupEnv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scan := newSecretScanner(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{
		Config:          cfg,
		Logger:          slog.New(slog.NewMultiHandler(testLogger(t, o.logs).Handler(), scan.logHandler())),
		Listener:        scan.listen(ln),
		Now:             o.now,
		JobPollInterval: 50 * time.Millisecond,
		ShutdownTimeout: o.shutdown,
		ConfigPath:      o.configPath,
	})
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	url := "http://" + a.Addr()
	s := &klaxonServer{
		URL:    url,
		Client: &httpapi.Client{BaseURL: url, Token: cliToken},
		scan:   scan,
	}
	var stopped bool
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		scan.scrapeMetrics(url)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("app.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("app did not stop within 30s")
		}
		scan.check()
	}
	t.Cleanup(s.stop)
	return s
}

func testLogger(t testing.TB, extra io.Writer) *slog.Logger {
	var w io.Writer = testWriter{t}
	level := slog.LevelWarn
	if extra != nil {
		w, level = io.MultiWriter(w, extra), slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testWriter sends server logs to the test log, so they show on failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// browserSession is an HTTP client signed in to the web UI as a new
// account with role, through the real sign-in form.
func browserSession(t testing.TB, k *klaxonServer, username string, role klaxon.Role) *http.Client {
	t.Helper()
	const password = "correct horse battery staple"
	if _, err := k.Client.AddUser(t.Context(), httpapi.UserRequest{Username: username, Role: role, Password: password}); err != nil {
		t.Fatalf("add %s: %v", username, err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(k.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(k.URL+"/login", url.Values{"username": {username}, "password": {password}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("sign in as %s: %s at %s", username, resp.Status, resp.Request.URL)
	}
	return c
}
