package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// TestSecretsNeverLeak provokes the failures most likely to repeat a
// credential: wrong tokens and signatures, platforms that echo what they
// were sent, a broken configuration on reload, a database that refuses.
// The harness's scan then finds none of them in the logs, the metrics, the
// answers or the alerts' history.
func TestSecretsNeverLeak(t *testing.T) {
	t.Run("wrong credentials", testWrongCredentials)
	t.Run("platforms echo credentials", testPlatformsEchoCredentials)
	t.Run("broken config on reload", testBrokenConfigOnReload)
	t.Run("database refuses", testDatabaseRefuses)
}

// nearMiss is secret with its last character changed: what a typo or an
// old copy presents, and as sensitive as the secret itself.
func nearMiss(secret string) string {
	last := byte('a')
	if secret[len(secret)-1] == last {
		last = 'b'
	}
	return secret[:len(secret)-1] + string(last)
}

func testWrongCredentials(t *testing.T) {
	const (
		gchatToken    = "gchat-verification-0123456789"
		gchatAudience = "1234567890"
		password      = "correct horse battery staple"
	)
	certs := chattest.NewGoogleChatCerts(t)
	k := startKlaxon(t, serverOptions{extraYAML: fmt.Sprintf(`
heartbeats:
  - {name: nightly-backup, timeout: 1h}
channels:
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
  - name: ops-chat
    type: googlechat
    webhook_url: %s
    verification_token: %s
    audience: "%s"
    certs_url: %s
`, chattest.NewSlack(t).URL, chattest.SlackBotToken, slackSecret, slackChannel,
		chattest.NewGoogleChat(t).URL, gchatToken, gchatAudience, certs.URL)})
	ctx := t.Context()
	if _, err := k.Client.AddUser(ctx, httpapi.UserRequest{Username: "carol", Role: klaxon.RoleResponder, Password: password}); err != nil {
		t.Fatal(err)
	}
	personal, err := (&httpapi.Client{BaseURL: k.URL}).Login(ctx, httpapi.LoginRequest{Username: "carol", Password: password, TokenName: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	k.scan.add("password", password)
	wrongBearer := certs.Sign("9999999999", time.Now().Add(time.Hour)) // signed for another Chat app
	k.scan.add("bearer token of another Chat app", wrongBearer)
	wrong := map[string]string{}
	for _, s := range []string{amToken, genericToken, pdToken, cliToken, personal.Token, password, slackSecret, gchatToken} {
		wrong[s] = nearMiss(s)
		k.scan.add("mistyped credential", wrong[s])
	}

	pdEvent := strings.Replace(string(fixture(t, "go-pagerduty-v2-trigger.json")), pdToken, wrong[pdToken], 1)
	login, _ := json.Marshal(httpapi.LoginRequest{Username: "carol", Password: wrong[password], TokenName: "guess"})
	gchatEvent := func(token string) string {
		return string(chattest.GoogleChatEvent("ack 1", "carol@example.org", "spaces/AAAAklaxon/threads/t1", token))
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	// Every one of these is refused with 401.
	for _, c := range []struct{ name, method, path, body, auth string }{
		{"alertmanager, header", "POST", "/api/v1/ingest/alertmanager", "{}", wrong[amToken]},
		{"alertmanager, query", "POST", "/api/v1/ingest/alertmanager?token=" + wrong[amToken], "{}", ""},
		{"generic", "POST", "/api/v1/ingest/generic", "{}", wrong[genericToken]},
		{"events v2 routing key", "POST", "/v2/enqueue", pdEvent, ""},
		{"heartbeat", "POST", "/api/v1/heartbeat/nightly-backup", "", wrong[genericToken]},
		{"configured API token", "GET", "/api/v1/alerts", "", wrong[cliToken]},
		{"personal API token", "GET", "/api/v1/alerts", "", wrong[personal.Token]},
		{"password", "POST", "/api/v1/login", string(login), ""},
		{"google chat verification token", "POST", "/api/v1/chat/ops-chat/", gchatEvent(wrong[gchatToken]), ""},
		{"google chat bearer of another app", "POST", "/api/v1/chat/ops-chat/", gchatEvent(""), wrongBearer},
		{"google chat bearer, mistyped", "POST", "/api/v1/chat/ops-chat/", gchatEvent(""), nearMiss(wrongBearer)},
	} {
		req, _ := http.NewRequest(c.method, k.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if c.auth != "" {
			req.Header.Set("Authorization", "Bearer "+c.auth)
		}
		if got := status(t, hc, req); got != http.StatusUnauthorized {
			t.Errorf("%s: got %d, want 401", c.name, got)
		}
	}
	form := []byte("payload=" + url.QueryEscape(`{"type":"block_actions","actions":[{"action_id":"ack","value":"1"}]}`))
	if got := status(t, hc, slackClick(k.URL, wrong[slackSecret], form)); got != http.StatusUnauthorized {
		t.Errorf("slack signed with a mistyped secret: got %d, want 401", got)
	}

	// A browser session, whose secret the scan learns from the sign-in
	// answer, and a mistyped copy of it.
	browser := browserSession(t, k, "dave", klaxon.RoleViewer)
	account, _ := http.NewRequest(http.MethodGet, k.URL+"/account", nil)
	if got := status(t, browser, account); got != http.StatusOK {
		t.Errorf("account page: got %d, want 200", got)
	}
	base, _ := url.Parse(k.URL)
	var session string
	for _, c := range browser.Jar.Cookies(base) {
		if c.Name == auth.SessionCookie {
			session = c.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie after signing in")
	}
	k.scan.add("mistyped credential", nearMiss(session))
	req, _ := http.NewRequest(http.MethodGet, k.URL+"/api/v1/alerts", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: nearMiss(session)})
	if got := status(t, hc, req); got != http.StatusUnauthorized {
		t.Errorf("mistyped session: got %d, want 401", got)
	}
}

// status sends req and returns the answer's status; the scan reads the
// answer itself.
func status(t *testing.T, c *http.Client, req *http.Request) int {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// newEchoPlatform is a platform gone wrong, as a proxy or a debugging
// endpoint may be: it refuses every call with 401, repeating the request's
// credentials, URL and body in its error.
func newEchoPlatform(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		echo := fmt.Sprintf("refused Authorization %q for %s: %s", r.Header.Get("Authorization"), r.RequestURI, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": echo, "message": echo, "ok": false})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func testPlatformsEchoCredentials(t *testing.T) {
	const hookHeaderToken = "hook-header-token-0123456789"
	echo := newEchoPlatform(t)
	k := startKlaxon(t, serverOptions{extraYAML: fmt.Sprintf(`
channels:
  - name: ops-matrix
    type: matrix
    homeserver: %[1]s
    access_token: %[2]s
    room: "#alerts:%[3]s"
  - name: ops-slack
    type: slack
    api_url: %[1]s/api/
    bot_token: %[4]s
    signing_secret: %[5]s
    channel: %[6]s
  - name: ops-chat
    type: googlechat
    webhook_url: %[1]s/v1/spaces/AAAA/messages?key=AIzaSyEchoKey0123456789&token=echo-token-0123456789
  - name: pager
    type: pagerduty
    url: %[1]s/v2/enqueue
    routing_key: %[7]s
  - name: audit
    type: webhook
    url: %[1]s/hook?token=hook-token-0123456789
    secret: %[8]s
    headers: {Authorization: "Bearer %[9]s"}
`, echo, matrixBotToken, chattest.MatrixServerName, chattest.SlackBotToken, slackSecret, slackChannel,
		chattest.PagerDutyRoutingKey, chattest.WebhookSecret, hookHeaderToken)})
	// config.Secrets lists scalar values only, not those of a map.
	k.scan.add("webhook header", hookHeaderToken)
	body := `{"key":"disk-db1","summary":"Disk full on db1","severity":"critical","labels":{"alertname":"DiskFull","host":"db1"}}`
	if r := post(t, k.URL+"/api/v1/ingest/generic", []byte(body), bearer(genericToken)...); r.status != http.StatusOK {
		t.Fatalf("ingest: got %d %s", r.status, r.body)
	}
	id := alerts(t, k, "open")[0].ID
	var detail *httpapi.AlertDetail
	waitFor(t, "every channel's refusal in the alert's history", func() bool {
		var err error
		if detail, err = k.Client.Alert(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, e := range detail.Events {
			if e.Kind == klaxon.EventNotifyFailed {
				failed[e.Actor] = true
			}
		}
		for _, ch := range []string{"ops-matrix", "ops-slack", "ops-chat", "pager", "audit"} {
			if !failed[ch] {
				return false
			}
		}
		return true
	})
	// The refusal is kept, with the status: only the secrets are gone.
	for _, e := range detail.Events {
		if e.Kind == klaxon.EventNotifyFailed && !strings.Contains(e.Message, "401") {
			t.Errorf("%s's failure does not say what the platform answered (401)", e.Actor)
		}
	}
}

func testBrokenConfigOnReload(t *testing.T) {
	const (
		dbPassword     = "db-password-0123456789"
		calendarSecret = "calendar-secret-0123456789abcdef"
		shortToken     = "short-tok1"
		botToken       = "xoxb-in-a-list-0123456789"
		chatKey        = "AIzaSyBrokenKey0123456789"
	)
	// Each file fails at another stage of loading (parse, key check,
	// decode, validation), with a mistake beside a secret: an error that
	// quotes its neighbourhood, or the value itself, shows it. want is in
	// the error logged.
	broken := []struct{ yaml, want string }{
		{"integrations:\n  - name: copy\n    token:" + amToken + "\n  type: generic\n", "could not find expected"},
		{"api_tokens:\n  - {name: ops-cli, token: " + cliToken + ", role: superuser}\n", "api_tokens[0].role"},
		{"api_tokens: {name: ops-cli, token: " + cliToken + "}\n", "cannot unmarshal"},
		{fmt.Sprintf(`database: postgress://klaxon:%s@127.0.0.1/klaxon
integrations:
  - {name: prod-alertmanager, type: alertmanagr, token: %s}
  - {name: copy, type: generic, token: %s}
  - {name: short, type: generic, token: %s}
calendar:
  secret: %s
channels:
  - name: ops-slack
    type: slack
    bot_token: [%s]
    signing_secret: %s
    channel: "#alerts"
  - name: ops-chat
    type: googlechat
    webhook_url: ftp://chat.example.org/v1/spaces/AAAA/messages?key=%s
`, dbPassword, amToken, amToken, shortToken, calendarSecret, botToken, slackSecret, chatKey), "integrations[0].type"},
	}
	path := filepath.Join(t.TempDir(), "test.yaml")
	var mu sync.Mutex
	var logs bytes.Buffer
	k := startKlaxon(t, serverOptions{configPath: path, logs: lockedWriter{&mu, &logs}})
	for kind, v := range map[string]string{
		"database password in the broken file": dbPassword, "calendar secret in the broken file": calendarSecret,
		"short token in the broken file": shortToken, "Slack bot token in the broken file": botToken,
		"Slack signing secret in the broken file": slackSecret, "Google Chat key in the broken file": chatKey,
	} {
		k.scan.add(kind, v)
	}

	// Listening for SIGHUP here too keeps the signal from ending the test
	// binary before the app has started listening for it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		if err := os.WriteFile(path, []byte("listen: 127.0.0.1:0\n"+b.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		logs.Reset()
		mu.Unlock()
		waitFor(t, "the refused reload naming "+b.want, func() bool {
			if err := self.Signal(syscall.SIGHUP); err != nil {
				t.Skipf("cannot send SIGHUP here: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			return strings.Contains(logs.String(), "configuration not reloaded") && strings.Contains(logs.String(), b.want)
		})
	}
}

func testDatabaseRefuses(t *testing.T) {
	const dbPassword = "db-password-0123456789"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	databases := map[string]string{
		"nothing listens":    "postgres://klaxon:" + dbPassword + "@" + nobody + "/klaxon?connect_timeout=5",
		"password parameter": "postgres://klaxon@" + nobody + "/klaxon?connect_timeout=5&password=" + dbPassword,
		"bad parameter":      "postgres://klaxon:" + dbPassword + "@" + nobody + "/klaxon?sslmode=sometimes",
		"scheme mistyped":    "postgress://klaxon:" + dbPassword + "@" + nobody + "/klaxon",
	}
	if pg := os.Getenv("KLAXON_TEST_POSTGRES_URL"); pg != "" {
		u, err := url.Parse(pg)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), dbPassword)
		databases["wrong password"] = u.String()
	}
	scan := newSecretScanner(t, &config.Config{})
	scan.add("database password", dbPassword)
	for name, database := range databases {
		cfg, err := config.Parse("test.yaml", []byte("listen: 127.0.0.1:0\ndatabase: "+database+"\n"), os.LookupEnv)
		if err == nil {
			_, err = app.New(t.Context(), app.Options{Config: cfg, Logger: slog.New(scan.logHandler())})
		}
		if err == nil {
			t.Fatalf("%s: Klaxon started", name)
		}
		scan.scan("the error with "+name, []byte(err.Error()), false)
	}
	scan.check()
}
