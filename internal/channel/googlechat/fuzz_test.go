package googlechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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

// maxFuzzEvent bounds a fuzzed event: the decoder's cost, not the handler's
// 1 MiB limit, is what a longer input would test.
const maxFuzzEvent = 64 << 10

// echo answers every command with its text and actor wrapped in markup
// that must reach Chat escaped.
type echo struct {
	mu  sync.Mutex
	got []notify.Command
}

func (e *echo) Command(_ context.Context, cmd notify.Command) notify.Reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, cmd)
	return notify.Reply{Text: "<users/all> ran <" + cmd.Text + "> for <" + cmd.Actor + ">", Code: cmd.Text + " ``` <b>x</b>"}
}

// take returns the commands run since the last take.
func (e *echo) take() []notify.Command {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

// FuzzEvent posts interaction events to the handler of a channel that
// takes both the legacy verification token and bearer tokens. With bearer,
// the request carries a valid token signed by the fake Chat certificates,
// so any body reaches the decoder; without, only a body carrying the
// verification token gets past authentication. A command runs only for an
// authenticated MESSAGE (or ADDED_TO_SPACE with a message), and the answer
// is JSON whose text has every markup character escaped.
func FuzzEvent(f *testing.F) {
	const thread = "spaces/AAAAklaxon/threads/t1"
	for _, tok := range []string{testToken, ""} {
		f.Add(chattest.GoogleChatEvent("ack 12", "alice@example.org", thread, tok), tok == "")
		f.Add(chattest.GoogleChatEvent("status", "bob@example.org", "spaces/D/threads/x", tok), tok == "")
		f.Add(chattest.GoogleChatEvent("<users/all> <script>alert(1)</script> ack 12", "a@example.org", thread, tok), tok == "")
		f.Add(chattest.GoogleChatEvent("ack 99999999999999999999 0 -1 \x00 \xff", "", "", tok), tok == "")
	}
	for _, s := range []string{
		`{"type":"ADDED_TO_SPACE","token":%q,"space":{"name":"spaces/A","type":"ROOM"},"user":{"name":"users/1","email":"a@example.org"}}`,
		`{"type":"ADDED_TO_SPACE","token":%q,"space":{"name":"spaces/A"},"message":{"text":"@Klaxon ack 1","argumentText":" ack 1","sender":{"name":"users/1"},"thread":{"name":"spaces/A/threads/1"}}}`,
		`{"type":"REMOVED_FROM_SPACE","token":%q}`,
		`{"type":"CARD_CLICKED","token":%q,"action":{"actionMethodName":"ack","parameters":[{"key":"id","value":"1"}]}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":" resolve 12 ","sender":{"name":"users/42"},"thread":{"name":"spaces/D/threads/x"}}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":"ack 1","argumentText":"   "}}`,
		`{"type":"MESSAGE","token":%q,"message":null,"user":{"email":"a@example.org"}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":["ack"],"sender":"x"}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":"ack 1","sender":{"email":1e999}}}`,
		`{"type":"MESSAGE","token":%q,"token":"other","message":{"text":"ack 1"}}`,
		`{"type":"MESSAGE","TOKEN":%q,"Message":{"Text":"ack 1"}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":"ack 1","thread":{"name":"spaces/A/threads/1\u0000\ud800"}}}`,
		`{"type":"MESSAGE","token":%q,"message":{"text":"` + strings.Repeat("ack 1 ", 2000) + `"}}`,
		`{"type":"MESSAGE","token":%q,"space":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500) + `}`,
	} {
		f.Add([]byte(fmt.Sprintf(s, testToken)), false)
	}
	f.Add([]byte(`{"type":"MESSAGE","message":{"text":"ack 1"}}`), false)
	f.Add([]byte(`{"type":"MESSAGE","token":"legacy-verification-token-0124","message":{"text":"ack 1"}}`), false)
	f.Add([]byte(`{"type":"MESSAGE","token":"","message":{"text":"ack 1"}}`), false)
	f.Add([]byte(`{"token":"`+testToken+`"`), false) // the token, then broken JSON
	f.Add([]byte("{"), true)
	f.Add([]byte(""), true)
	f.Add([]byte("null"), true)
	f.Add([]byte("\xff\xfe{}"), true)

	certs := chattest.NewGoogleChatCerts(f)
	cfg := notifytest.ChannelConfig(f, "incidents", "googlechat", "    webhook_url: https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t\n"+
		fmt.Sprintf("    verification_token: %s\n    audience: %q\n    certs_url: %s\n", testToken, testAudience, certs.URL))
	ch, err := New(cfg, notify.Env{Client: notify.NewHTTPClient(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	cmd := &echo{}
	h := ch.(*Channel).Handler(cmd)
	bearer := certs.Sign(testAudience, time.Now().Add(24*time.Hour))

	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		if len(body) > maxFuzzEvent {
			t.Skip()
		}
		r := httptest.NewRequest(http.MethodPost, "/api/v1/chat/incidents/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if signed {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cmds := cmd.take()

		// Who could have got in: a bearer token, or the exact verification
		// token, as encoding/json reads the body.
		var ev event
		decodeErr := json.Unmarshal(body, &ev)
		authentic := signed || ev.Token == testToken
		switch w.Code {
		case http.StatusOK:
			if !authentic || decodeErr != nil {
				t.Fatalf("got 200 for an event that is not authentic (%v) or not JSON (%v)", authentic, decodeErr)
			}
		case http.StatusUnauthorized:
			if authentic {
				t.Fatalf("got 401 for an authentic event")
			}
		case http.StatusBadRequest:
			if decodeErr == nil {
				t.Fatalf("got 400 for JSON that decodes")
			}
		default:
			t.Fatalf("status: got %d, want 200, 400 or 401", w.Code)
		}
		if w.Code != http.StatusOK {
			if len(cmds) != 0 {
				t.Fatalf("a %d answer ran commands: %+v", w.Code, cmds)
			}
			return
		}

		var answer struct {
			Text   string `json:"text"`
			Thread *struct {
				Name string `json:"name"`
			} `json:"thread"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer %q is not JSON: %v", w.Body, err)
		}
		if strings.ContainsAny(answer.Text, "<>") {
			t.Errorf("answer text has unescaped markup: %q", answer.Text)
		}
		if len(cmds) > 1 {
			t.Fatalf("one event ran %d commands", len(cmds))
		}
		if len(cmds) == 0 {
			return
		}
		c := cmds[0]
		if ev.Message == nil || (ev.Type != "MESSAGE" && ev.Type != "ADDED_TO_SPACE") {
			t.Errorf("a command ran for a %q event with message %v", ev.Type, ev.Message != nil)
		}
		if who, ok := strings.CutPrefix(c.Actor, "gchat:"); !ok || who == "" {
			t.Errorf("Actor: got %q, want gchat:<email or user>", c.Actor)
		}
		if c.Channel != "incidents" || !c.Addressed || c.Text != strings.TrimSpace(c.Text) {
			t.Errorf("got command %+v, want channel incidents, addressed, trimmed text", c)
		}
		if ev.Message != nil && c.Room != ev.Message.Thread.Name {
			t.Errorf("Room: got %q, want the thread %q", c.Room, ev.Message.Thread.Name)
		}
		if c.Room != "" && (answer.Thread == nil || answer.Thread.Name != c.Room) {
			t.Errorf("the reply is not in the command's thread %q: %s", c.Room, w.Body)
		}
	})
}

// FuzzBearer sends an authentic-looking event with a fuzzed Authorization
// header to a channel that takes bearer tokens only: this header is what an
// unauthenticated caller controls before anything is verified. A token is
// accepted only if its signed part (header and claims) is exactly that of
// a token the fake Chat certificates signed.
func FuzzBearer(f *testing.F) {
	certs := chattest.NewGoogleChatCerts(f)
	now := time.Now()
	good := certs.Sign(testAudience, now.Add(24*time.Hour))
	claims := func(kid string, c map[string]any) string { return certs.SignClaims(kid, c) }
	for _, tok := range []string{
		good,
		certs.Sign("999", now.Add(time.Hour)),
		certs.Sign(testAudience, now.Add(-time.Hour)),
		claims("not-a-published-kid", map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		claims(certs.KeyID, map[string]any{"iss": "accounts.google.com", "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		claims(certs.KeyID, map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": now.Unix()}),
		claims(certs.KeyID, map[string]any{"iss": chattest.GoogleChatIssuer, "aud": []any{"1", testAudience}, "iat": now.Unix(), "exp": 1e300}),
		claims(certs.KeyID, map[string]any{"iss": chattest.GoogleChatIssuer, "aud": testAudience, "iat": -1e300, "exp": "tomorrow"}),
		unsigned(testAudience, now),
		"not.a.jwt",
		"..",
		"",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6ImYxZTJkM2M0YjVhNjk3ODgwMDExMjIzMzQ0NTU2Njc3ODg5OWFhYmIifQ.e30.AAAA",
		strings.Repeat("a", 8000) + "." + strings.Repeat("b", 8000) + ".c",
		good + "\x00",
	} {
		f.Add("Bearer " + tok)
	}
	f.Add("bearer " + good)
	f.Add("Bearer  " + good)
	f.Add("Basic YWxhZGRpbjpvcGVuc2VzYW1l")

	cfg := notifytest.ChannelConfig(f, "incidents", "googlechat", "    webhook_url: https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t\n"+
		fmt.Sprintf("    audience: %q\n    certs_url: %s\n", testAudience, certs.URL))
	ch, err := New(cfg, notify.Env{Client: notify.NewHTTPClient(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	cmd := &echo{}
	h := ch.(*Channel).Handler(cmd)
	body := chattest.GoogleChatEvent("ack 12", "alice@example.org", "spaces/A/threads/t1", testToken)
	signedPart := good[:strings.LastIndexByte(good, '.')]

	f.Fuzz(func(t *testing.T, authorization string) {
		if len(authorization) > maxFuzzEvent {
			t.Skip()
		}
		r := httptest.NewRequest(http.MethodPost, "/api/v1/chat/incidents/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header["Authorization"] = []string{authorization}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cmds := cmd.take()
		switch w.Code {
		case http.StatusOK:
			tok, _ := strings.CutPrefix(authorization, "Bearer ")
			if i := strings.LastIndexByte(tok, '.'); i < 0 || tok[:i] != signedPart {
				t.Fatalf("accepted a token Chat did not sign: %q", authorization)
			}
			if len(cmds) != 1 {
				t.Fatalf("got %d commands, want 1", len(cmds))
			}
		case http.StatusUnauthorized:
			if len(cmds) != 0 {
				t.Fatalf("a refused token ran commands: %+v", cmds)
			}
		default:
			t.Fatalf("status: got %d, want 200 or 401", w.Code)
		}
	})
}
