package chattest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

func googleChatPost(t *testing.T, target, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(target, "application/json; charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer
}

func TestGoogleChatThreads(t *testing.T) {
	g := chattest.NewGoogleChat(t)
	reply := g.URL + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	keyed := `{"text":"hi","thread":{"threadKey":"k1"}}`

	code, first := googleChatPost(t, reply, keyed)
	if code != http.StatusOK {
		t.Fatalf("got %d %v", code, first)
	}
	code, second := googleChatPost(t, reply, keyed)
	if code != http.StatusOK {
		t.Fatalf("got %d %v", code, second)
	}
	name := func(m map[string]any) string { return m["thread"].(map[string]any)["name"].(string) }
	if name(first) != name(second) || !strings.HasPrefix(name(first), "spaces/") {
		t.Errorf("threads: got %q and %q, want the same", name(first), name(second))
	}
	// Without messageReplyOption the key is ignored: a new thread.
	code, third := googleChatPost(t, g.URL, keyed)
	if code != http.StatusOK || name(third) == name(first) {
		t.Errorf("without the option: got %d in thread %q", code, name(third))
	}
	if got := g.Thread("k1"); len(got) != 2 || got[0].Reply || !got[1].Reply {
		t.Errorf("got thread %+v, want a post and a reply", got)
	}
	if g.Posts() != 3 || len(g.Messages()) != 3 {
		t.Errorf("got %d posts, %d messages", g.Posts(), len(g.Messages()))
	}
}

func TestGoogleChatRequestID(t *testing.T) {
	g := chattest.NewGoogleChat(t)
	target := g.URL + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&requestId=r1"
	code, first := googleChatPost(t, target, `{"text":"first","thread":{"threadKey":"k1"}}`)
	if code != http.StatusOK {
		t.Fatalf("got %d %v", code, first)
	}
	code, again := googleChatPost(t, target, `{"text":"changed","thread":{"threadKey":"k1"}}`)
	if code != http.StatusOK || again["name"] != first["name"] || again["text"] != "first" {
		t.Errorf("repeated request ID: got %d %v, want the first message %v", code, again, first["name"])
	}
	if _, other := googleChatPost(t, strings.Replace(target, "r1", "r2", 1), `{"text":"second"}`); other["name"] == first["name"] {
		t.Error("another request ID got the first message")
	}
	if g.Posts() != 3 || len(g.Messages()) != 2 || len(g.Thread("k1")) != 1 {
		t.Errorf("got %d posts, %d messages, %d in the thread; want 3, 2, 1", g.Posts(), len(g.Messages()), len(g.Thread("k1")))
	}
}

func TestGoogleChatRefuses(t *testing.T) {
	g := chattest.NewGoogleChat(t)
	for _, tc := range []struct {
		name, target, body string
		want               int
	}{
		{"wrong key", strings.Replace(g.URL, "key=", "key=x", 1), `{"text":"hi"}`, http.StatusBadRequest},
		{"wrong token", strings.Replace(g.URL, "token=", "token=x", 1), `{"text":"hi"}`, http.StatusUnauthorized},
		{"empty", g.URL, `{}`, http.StatusBadRequest},
		{"unknown field", g.URL, `{"text":"hi","cards":[]}`, http.StatusBadRequest},
		{"unknown widget", g.URL, `{"cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[{"textparagraph":{"text":"x"}}]}]}}]}`, http.StatusBadRequest},
		{"javascript link", g.URL, `{"cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[{"buttonList":{"buttons":[{"text":"x","onClick":{"openLink":{"url":"javascript:alert(1)"}}}]}}]}]}}]}`, http.StatusBadRequest},
		{"too large", g.URL, `{"text":"` + strings.Repeat("x", 32001) + `"}`, http.StatusBadRequest},
		{"bad reply option", g.URL + "&messageReplyOption=SOMETIMES", `{"text":"hi"}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, answer := googleChatPost(t, tc.target, tc.body)
			if code != tc.want {
				t.Errorf("got %d %v, want %d", code, answer, tc.want)
			}
			if _, ok := answer["error"]; !ok {
				t.Errorf("got %v, want Google's error shape", answer)
			}
		})
	}
	if len(g.Messages()) != 0 {
		t.Errorf("refused posts were kept: %+v", g.Messages())
	}

	g.Fail(2, http.StatusTooManyRequests, "3")
	for range 2 {
		resp, err := http.Post(g.URL, "application/json", strings.NewReader(`{"text":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
			t.Errorf("got %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if code, _ := googleChatPost(t, g.URL, `{"text":"hi"}`); code != http.StatusOK {
		t.Errorf("after the failures: got %d", code)
	}
}

func TestGoogleChatCerts(t *testing.T) {
	c := chattest.NewGoogleChatCerts(t)
	resp, err := http.Get(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pems map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&pems); err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseRSAPublicKeyFromPEM([]byte(pems[c.KeyID]))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse(c.Sign("42", time.Now().Add(time.Minute)), func(tok *jwt.Token) (any, error) {
		if tok.Header["kid"] != c.KeyID {
			t.Errorf("kid: got %v", tok.Header["kid"])
		}
		return key, nil
	}, jwt.WithIssuer(chattest.GoogleChatIssuer), jwt.WithAudience("42"), jwt.WithValidMethods([]string{"RS256"}))
	if err != nil || !tok.Valid {
		t.Fatalf("the signed token does not verify: %v", err)
	}
	if c.Fetches() != 1 {
		t.Errorf("got %d fetches, want 1", c.Fetches())
	}
}

func TestGoogleChatEvent(t *testing.T) {
	var ev struct {
		Type, Token string
		Message     struct {
			Text, ArgumentText string
			Sender             struct{ Email string }
			Thread             struct{ Name string }
		}
		Space struct{ Name string }
	}
	b := chattest.GoogleChatEvent("ack 12", "alice@example.org", "spaces/S/threads/T", "tok")
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "MESSAGE" || ev.Token != "tok" || strings.TrimSpace(ev.Message.ArgumentText) != "ack 12" ||
		ev.Message.Sender.Email != "alice@example.org" || ev.Message.Thread.Name != "spaces/S/threads/T" || ev.Space.Name != "spaces/S" {
		t.Errorf("got %+v", ev)
	}
}

// TestGoogleChatThreadNamed starts a keyed thread and replies in it by the
// thread's name, as incident rooms do.
func TestGoogleChatThreadNamed(t *testing.T) {
	g := chattest.NewGoogleChat(t)
	reply := g.URL + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	_, first := googleChatPost(t, reply, `{"text":"opened","thread":{"threadKey":"klaxon-room-4"}}`)
	name := first["thread"].(map[string]any)["name"].(string)
	code, second := googleChatPost(t, reply, `{"text":"update","thread":{"name":"`+name+`"}}`)
	if code != http.StatusOK || second["thread"].(map[string]any)["name"] != name {
		t.Fatalf("reply by name: got %d %v, want the thread %s", code, second, name)
	}
	googleChatPost(t, reply, `{"text":"elsewhere"}`)
	got := g.ThreadNamed(name)
	if len(got) != 2 || got[0].Text != "opened" || got[1].Text != "update" || !got[1].Reply || got[1].ThreadKey != "klaxon-room-4" {
		t.Errorf("ThreadNamed: got %+v, want the post and the reply", got)
	}
	if got := g.ThreadNamed("spaces/AAAAklaxon/threads/none"); len(got) != 0 {
		t.Errorf("unknown thread: got %+v", got)
	}
}
