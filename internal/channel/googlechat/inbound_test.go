package googlechat

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

const (
	testToken    = "legacy-verification-token-0123"
	testAudience = "1234567890"
	testThread   = "spaces/AAAAklaxon/threads/t1"
)

// commander records the commands it runs and answers with reply.
type commander struct {
	mu    sync.Mutex
	cmds  []notify.Command
	reply string
}

func (c *commander) Command(_ context.Context, cmd notify.Command) notify.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cmds = append(c.cmds, cmd)
	return notify.Reply{Text: c.reply}
}

func (c *commander) ran() []notify.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Command(nil), c.cmds...)
}

func inbound(t *testing.T, keys string) *Channel {
	t.Helper()
	cfgChannel := notifytest.ChannelConfig(t, "incidents", "googlechat", "    webhook_url: https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t\n"+keys)
	ch, err := New(cfgChannel, notify.Env{Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return ch.(*Channel)
}

// call posts body to the channel's handler with an optional bearer token.
func call(h http.Handler, body []byte, bearer string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/chat/incidents/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestVerificationToken(t *testing.T) {
	ch := inbound(t, "    verification_token: "+testToken+"\n")
	cmd := &commander{reply: "Acknowledged #12 <users/all> & co"}
	h := ch.Handler(cmd)

	for _, tc := range []struct{ name, token string }{
		{"wrong token", "legacy-verification-token-0124"},
		{"no token", ""},
		{"prefix", testToken[:10]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := call(h, chattest.GoogleChatEvent("ack 12", "alice@example.org", testThread, tc.token), ""); w.Code != http.StatusUnauthorized {
				t.Errorf("got %d, want 401", w.Code)
			}
		})
	}
	if n := len(cmd.ran()); n != 0 {
		t.Fatalf("unauthenticated events ran %d commands", n)
	}

	w := call(h, chattest.GoogleChatEvent("ack 12", "alice@example.org", testThread, testToken), "")
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	cmds := cmd.ran()
	want := notify.Command{Channel: "incidents", Room: testThread, Actor: "gchat:alice@example.org", Text: "ack 12", Addressed: true}
	if len(cmds) != 1 || cmds[0] != want {
		t.Errorf("got commands %+v, want %+v", cmds, want)
	}
	var reply struct {
		Text   string
		Thread struct{ Name string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Text != "Acknowledged #12 &lt;users/all&gt; &amp; co" || reply.Thread.Name != testThread {
		t.Errorf("got reply %+v, want the escaped text in thread %s", reply, testThread)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type: got %q", ct)
	}
}

func TestBearerToken(t *testing.T) {
	certs := chattest.NewGoogleChatCerts(t)
	ch := inbound(t, fmt.Sprintf("    audience: %q\n    certs_url: %s\n", testAudience, certs.URL))
	cmd := &commander{reply: "ok"}
	h := ch.Handler(cmd)
	event := chattest.GoogleChatEvent("status", "bob@example.org", testThread, "")
	now := time.Now()

	for _, tc := range []struct{ name, bearer string }{
		{"no bearer", ""},
		{"wrong audience", certs.Sign("999", now.Add(time.Hour))},
		{"expired", certs.Sign(testAudience, now.Add(-time.Hour))},
		{"unknown key", certs.SignClaims("not-a-published-kid", map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})},
		{"wrong issuer", certs.SignClaims(certs.KeyID, map[string]any{"iss": "accounts.google.com", "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})},
		{"no expiry", certs.SignClaims(certs.KeyID, map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Unix()})},
		{"issued in the future", certs.SignClaims(certs.KeyID, map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()})},
		{"unsigned", unsigned(testAudience, now)},
		{"garbage", "not.a.jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := call(h, event, tc.bearer); w.Code != http.StatusUnauthorized {
				t.Errorf("got %d, want 401", w.Code)
			}
		})
	}
	if n := len(cmd.ran()); n != 0 {
		t.Fatalf("unauthenticated events ran %d commands", n)
	}
	// A verification token is no way in when only the audience is set.
	if w := call(h, chattest.GoogleChatEvent("status", "bob@example.org", testThread, testToken), ""); w.Code != http.StatusUnauthorized {
		t.Errorf("token without configured token: got %d, want 401", w.Code)
	}

	w := call(h, event, certs.Sign(testAudience, now.Add(time.Hour)))
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	if cmds := cmd.ran(); len(cmds) != 1 || cmds[0].Actor != "gchat:bob@example.org" || cmds[0].Text != "status" {
		t.Errorf("got commands %+v", cmds)
	}
}

// unsigned is a token with alg "none".
func unsigned(aud string, now time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": chattest.GoogleChatIssuer, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}) + "."
}

func TestCertificatesAreCached(t *testing.T) {
	certs := chattest.NewGoogleChatCerts(t)
	ch := inbound(t, fmt.Sprintf("    audience: %q\n    certs_url: %s\n", testAudience, certs.URL))
	var mu sync.Mutex
	clock := time.Now()
	ch.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	h := ch.Handler(&commander{})
	event := chattest.GoogleChatEvent("status", "bob@example.org", testThread, "")
	good := func() string { return certs.Sign(testAudience, ch.now().Add(2*time.Hour)) }
	forged := func() string {
		now := ch.now()
		return certs.SignClaims("rotated-away", map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(2 * time.Hour).Unix()})
	}

	steps := []struct {
		name    string
		advance time.Duration
		bearer  func() string
		code    int
		fetches int
	}{
		{"first use fetches", 0, good, http.StatusOK, 1},
		{"cached", 0, good, http.StatusOK, 1},
		{"unknown kid right after a fetch", 0, forged, http.StatusUnauthorized, 1}, // fetched under a minute ago
		{"unknown kid a minute on", time.Minute, forged, http.StatusUnauthorized, 2},
		{"unknown kid again", 10 * time.Second, forged, http.StatusUnauthorized, 2},
		{"still cached", 0, good, http.StatusOK, 2},
		{"max-age passed", time.Hour, good, http.StatusOK, 3},
	}
	for _, s := range steps {
		advance(s.advance)
		if w := call(h, event, s.bearer()); w.Code != s.code {
			t.Errorf("%s: got %d, want %d", s.name, w.Code, s.code)
		}
		if got := certs.Fetches(); got != s.fetches {
			t.Errorf("%s: got %d fetches, want %d", s.name, got, s.fetches)
		}
	}
}

func TestEvents(t *testing.T) {
	ch := inbound(t, "    verification_token: "+testToken+"\n")
	cmd := &commander{}
	h := ch.Handler(cmd)

	added := fmt.Sprintf(`{"type":"ADDED_TO_SPACE","token":%q,"space":{"name":"spaces/A","type":"ROOM"},"user":{"name":"users/1","email":"a@example.org"}}`, testToken)
	w := call(h, []byte(added), "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ack 12") {
		t.Errorf("added to space: got %d %s, want help", w.Code, w.Body)
	}
	removed := fmt.Sprintf(`{"type":"REMOVED_FROM_SPACE","token":%q}`, testToken)
	if w := call(h, []byte(removed), ""); w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "{}" {
		t.Errorf("removed: got %d %s, want {}", w.Code, w.Body)
	}
	// Not a command: an empty answer posts nothing.
	if w := call(h, chattest.GoogleChatEvent("thanks", "a@example.org", testThread, testToken), ""); w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "{}" {
		t.Errorf("no reply: got %d %s, want {}", w.Code, w.Body)
	}
	// A direct message has no argumentText; the sender has no email.
	dm := fmt.Sprintf(`{"type":"MESSAGE","token":%q,"message":{"text":" resolve 12 ","sender":{"name":"users/42"},"thread":{"name":"spaces/D/threads/x"}}}`, testToken)
	if w := call(h, []byte(dm), ""); w.Code != http.StatusOK {
		t.Errorf("dm: got %d", w.Code)
	}
	if cmds := cmd.ran(); len(cmds) != 2 || cmds[1].Text != "resolve 12" || cmds[1].Actor != "gchat:users/42" {
		t.Errorf("got %+v", cmds)
	}
	if w := call(h, bytes.Repeat([]byte(" "), maxEvent+1), ""); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: got %d, want 413", w.Code)
	}
	if w := call(h, []byte("{"), ""); w.Code != http.StatusUnauthorized {
		t.Errorf("bad JSON: got %d, want 401", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/chat/incidents/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: got %d, want 405", rec.Code)
	}
}

func TestOutboundOnly(t *testing.T) {
	ch := inbound(t, "")
	cmd := &commander{}
	if w := call(ch.Handler(cmd), chattest.GoogleChatEvent("ack 12", "a@example.org", testThread, ""), ""); w.Code != http.StatusNotFound {
		t.Errorf("got %d, want 404", w.Code)
	}
	if len(cmd.ran()) != 0 {
		t.Error("an outbound-only channel ran a command")
	}
}
