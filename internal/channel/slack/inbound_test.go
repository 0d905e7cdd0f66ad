package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
	prefix   = "/api/v1/chat/" + testName + "/"
)

// inbound is a channel's handler with a recording commander.
type inbound struct {
	slack *chattest.Slack
	cmd   *commander
	h     http.Handler
}

func newInbound(t *testing.T) *inbound {
	s := chattest.NewSlack(t)
	cmd := &commander{reply: "Acknowledged #12 <for you>"}
	return &inbound{slack: s, cmd: cmd, h: newChannel(t, s).Handler(cmd)}
}

// do sends body to suffix signed with secret at ts.
func (in *inbound) do(suffix string, body []byte, contentType, secret string, ts time.Time) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, chattest.SlackRequest(prefix+suffix, secret, body, contentType, ts))
	return w
}

func (in *inbound) event(e chattest.SlackEvent) *httptest.ResponseRecorder {
	return in.do("events", chattest.SlackEventJSON(e), jsonType, testSecret, time.Now())
}

func TestInboundRejectsUnsigned(t *testing.T) {
	in := newInbound(t)
	body := chattest.SlackEventJSON(chattest.SlackEvent{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: testChannel, TS: "1.000001"})
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"wrong secret", func() *http.Request {
			return chattest.SlackRequest(prefix+"events", "not-the-secret", body, jsonType, time.Now())
		}},
		{"stale", func() *http.Request {
			return chattest.SlackRequest(prefix+"events", testSecret, body, jsonType, time.Now().Add(-6*time.Minute))
		}},
		{"future", func() *http.Request {
			return chattest.SlackRequest(prefix+"events", testSecret, body, jsonType, time.Now().Add(6*time.Minute))
		}},
		{"no headers", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, prefix+"events", strings.NewReader(string(body)))
		}},
		{"body changed", func() *http.Request {
			r := chattest.SlackRequest(prefix+"events", testSecret, body, jsonType, time.Now())
			r.Body = http.NoBody
			return r
		}},
		{"slash command, wrong secret", func() *http.Request {
			return chattest.SlackRequest(prefix+"commands", "x", chattest.SlackSlashCommandForm(chattest.SlackSlashCommand{Text: "ack 12", UserID: "U0ALICE"}), formType, time.Now())
		}},
		{"button, stale", func() *http.Request {
			return chattest.SlackRequest(prefix+"interactivity", testSecret, chattest.SlackBlockActionsForm(chattest.SlackAction{
				UserID: "U0ALICE", ActionID: actionAck, Value: "12", ChannelID: testChannel, MessageTS: "1.000001",
			}), formType, time.Now().Add(-10*time.Minute))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			in.h.ServeHTTP(w, tc.req())
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status: got %d, want 401", w.Code)
			}
		})
	}
	if got := in.cmd.commands(); len(got) != 0 {
		t.Errorf("commander called for unsigned requests: %+v", got)
	}
}

func TestInboundURLVerification(t *testing.T) {
	in := newInbound(t)
	w := in.do("events", chattest.SlackURLVerificationJSON("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"), jsonType, testSecret, time.Now())
	if w.Code != http.StatusOK || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %q, want 200 and the challenge", w.Code, w.Body)
	}
}

func TestInboundMessageRunsCommand(t *testing.T) {
	in := newInbound(t)
	w := in.event(chattest.SlackEvent{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: testChannel, TS: "1795748100.000100"})
	if w.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", w.Code)
	}
	want := notify.Command{Channel: testName, Room: testChannel, Actor: "slack:U0ALICE", Text: "ack 12"}
	if got := in.cmd.commands(); len(got) != 1 || got[0] != want {
		t.Fatalf("commands: got %+v, want [%+v]", got, want)
	}
	replies := in.slack.Thread(testChannel, "1795748100.000100")
	if len(replies) != 1 || replies[0].Text != "Acknowledged #12 &lt;for you&gt;" {
		t.Errorf("reply: got %+v, want one escaped reply in the thread", replies)
	}

	// In a thread, the reply goes to that thread.
	in.event(chattest.SlackEvent{EventID: "Ev2", User: "U0ALICE", Text: "resolve 12", Channel: testChannel, TS: "1795748200.000100", ThreadTS: "1795748000.000001"})
	if got := in.slack.Thread(testChannel, "1795748000.000001"); len(got) != 1 {
		t.Errorf("reply in thread: got %+v", got)
	}
}

func TestInboundMention(t *testing.T) {
	in := newInbound(t)
	ts := "1795748100.000100"
	in.event(chattest.SlackEvent{EventID: "Ev1", Type: "app_mention", User: "U0ALICE", Text: "<@" + chattest.SlackBotUserID + "> ack 12 &amp; more", Channel: testChannel, TS: ts})
	// The same message also comes as a message event: run once.
	in.event(chattest.SlackEvent{EventID: "Ev2", User: "U0ALICE", Text: "<@" + chattest.SlackBotUserID + "> ack 12 &amp; more", Channel: testChannel, TS: ts})
	got := in.cmd.commands()
	if len(got) != 1 || got[0].Text != "ack 12 & more" {
		t.Errorf("commands: got %+v, want one with the mention stripped and & unescaped", got)
	}
}

func TestInboundIgnores(t *testing.T) {
	in := newInbound(t)
	for _, e := range []chattest.SlackEvent{
		{EventID: "Ev1", User: chattest.SlackBotUserID, Text: "ack 12", Channel: testChannel, TS: "1.1"},
		{EventID: "Ev2", BotID: chattest.SlackBotID, Text: "Acknowledged by <@U0BOB>", Channel: testChannel, TS: "1.2"},
		{EventID: "Ev3", SubType: "bot_message", BotID: "BOTHER", Text: "ack 12", Channel: testChannel, TS: "1.3"},
		{EventID: "Ev4", SubType: "message_changed", Text: "ack 12", Channel: testChannel, TS: "1.4"},
		{EventID: "Ev5", SubType: "channel_join", User: "U0ALICE", Text: "joined", Channel: testChannel, TS: "1.5"},
		{EventID: "Ev6", Type: "reaction_added", User: "U0ALICE", Channel: testChannel, TS: "1.6"},
		{EventID: "Ev7", User: "U0ALICE", Text: "  ", Channel: testChannel, TS: "1.7"},
	} {
		if w := in.event(e); w.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", e.EventID, w.Code)
		}
	}
	if got := in.cmd.commands(); len(got) != 0 {
		t.Errorf("commands: got %+v, want none", got)
	}
	if in.slack.Posts() != 0 {
		t.Errorf("posted %d replies, want none", in.slack.Posts())
	}
}

func TestInboundRetryIsDeduplicated(t *testing.T) {
	in := newInbound(t)
	e := chattest.SlackEvent{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: testChannel, TS: "1.1"}
	for range 3 {
		if w := in.event(e); w.Code != http.StatusOK {
			t.Errorf("status %d, want 200", w.Code)
		}
	}
	if got := in.cmd.commands(); len(got) != 1 {
		t.Errorf("commands: got %d, want 1", len(got))
	}
}

func TestInboundSlashCommand(t *testing.T) {
	in := newInbound(t)
	w := in.do("commands", chattest.SlackSlashCommandForm(chattest.SlackSlashCommand{
		Command: "/klaxon", Text: " ack 12 ", UserID: "U0ALICE", UserName: "alice", ChannelID: testChannel,
	}), formType, testSecret, time.Now())
	if w.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", w.Code)
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if got["response_type"] != "in_channel" || got["text"] != "Acknowledged #12 &lt;for you&gt;" {
		t.Errorf("response: got %v", got)
	}
	want := notify.Command{Channel: testName, Room: testChannel, Actor: "slack:U0ALICE", Text: "ack 12", Addressed: true}
	if cmds := in.cmd.commands(); len(cmds) != 1 || cmds[0] != want {
		t.Errorf("commands: got %+v, want [%+v]", cmds, want)
	}
}

func TestInboundButton(t *testing.T) {
	in := newInbound(t)
	w := in.do("interactivity", chattest.SlackBlockActionsForm(chattest.SlackAction{
		UserID: "U0ALICE", UserName: "alice", ActionID: actionAck, Value: "12 13", ChannelID: testChannel, MessageTS: "1795748000.000001",
	}), formType, testSecret, time.Now())
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("got %d %q, want 200 with an empty body", w.Code, w.Body)
	}
	want := notify.Command{Channel: testName, Room: testChannel, Actor: "slack:U0ALICE", Text: "ack 12 13", Addressed: true}
	if got := in.cmd.commands(); len(got) != 1 || got[0] != want {
		t.Errorf("commands: got %+v, want [%+v]", got, want)
	}
	if got := in.slack.Thread(testChannel, "1795748000.000001"); len(got) != 1 {
		t.Errorf("reply in the message's thread: got %+v", got)
	}

	in.do("interactivity", chattest.SlackBlockActionsForm(chattest.SlackAction{
		UserID: "U0ALICE", ActionID: actionResolve, Value: "12", ChannelID: testChannel, MessageTS: "1795748000.000001",
	}), formType, testSecret, time.Now())
	if got := in.cmd.commands(); len(got) != 2 || got[1].Text != "resolve 12" {
		t.Errorf("resolve: got %+v", got)
	}

	// Not our button, or not a list of IDs: nothing runs.
	for _, a := range []chattest.SlackAction{
		{UserID: "U0ALICE", ActionID: "other", Value: "12", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "12; resolve 13", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "", ChannelID: testChannel, MessageTS: "1.1"},
	} {
		in.do("interactivity", chattest.SlackBlockActionsForm(a), formType, testSecret, time.Now())
	}
	if got := in.cmd.commands(); len(got) != 2 {
		t.Errorf("bad buttons ran commands: %+v", got[2:])
	}
}

func TestInboundRouting(t *testing.T) {
	in := newInbound(t)
	if w := in.do("unknown", []byte("{}"), jsonType, testSecret, time.Now()); w.Code != http.StatusNotFound {
		t.Errorf("unknown suffix: got %d, want 404", w.Code)
	}
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, prefix+"events", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: got %d, want 405", w.Code)
	}
	big := make([]byte, maxBody+1)
	if w := in.do("events", big, jsonType, testSecret, time.Now()); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: got %d, want 413", w.Code)
	}
	if w := in.do("interactivity", []byte("payload=%7Bnot+json"), formType, testSecret, time.Now()); w.Code != http.StatusBadRequest {
		t.Errorf("bad payload: got %d, want 400", w.Code)
	}
	if got := in.cmd.commands(); len(got) != 0 {
		t.Errorf("commands: got %+v, want none", got)
	}
}

// slowCommander runs commands only once released.
type slowCommander struct {
	commander
	release chan struct{}
}

func (s *slowCommander) Command(ctx context.Context, cmd notify.Command) notify.Reply {
	<-s.release
	return s.commander.Command(ctx, cmd)
}

func TestInboundAnswersBeforeTheCommandFinishes(t *testing.T) {
	s := chattest.NewSlack(t)
	cmd := &slowCommander{commander: commander{reply: "ok"}, release: make(chan struct{})}
	srv := httptest.NewServer(newChannel(t, s).Handler(cmd))
	defer srv.Close()

	body := chattest.SlackEventJSON(chattest.SlackEvent{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: testChannel, TS: "1.1"})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+prefix+"events", bytes.NewReader(body))
	req.Header = chattest.SlackSign(testSecret, body, time.Now())
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("Slack waits at most 3s for the answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
	close(cmd.release)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(s.Thread(testChannel, "1.1")) == 0; {
		time.Sleep(10 * time.Millisecond)
	}
	if got := cmd.commands(); len(got) != 1 || got[0].Text != "ack 12" {
		t.Errorf("commands: got %+v", got)
	}
	if len(s.Thread(testChannel, "1.1")) != 1 {
		t.Error("the reply was not posted after the answer")
	}
}
