package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// The fuzz targets below drive the whole inbound path: each fuzzed body is
// signed with the test secret, so it passes verification and reaches the
// decoders behind it, as a request from Slack would. Replies go to a stub
// Web API that keeps nothing, so a long run does not grow memory.

// maxFuzzBody bounds a fuzzed input: the decoders' cost, not their limits,
// is what a longer input would test.
const maxFuzzBody = 64 << 10

// fuzzSlack is a channel wired to a stub Slack Web API and a commander that
// echoes the command in its reply, markup included, so escaping is checked.
type fuzzSlack struct {
	ch  *Channel
	h   http.Handler
	cmd *echoCommander

	mu    sync.Mutex
	posts []url.Values // chat.postMessage calls of the current input
}

func newFuzzSlack(f *testing.F) *fuzzSlack {
	f.Helper()
	fs := &fuzzSlack{cmd: &echoCommander{}}
	api := httptest.NewServer(http.HandlerFunc(fs.serveAPI))
	f.Cleanup(api.Close)
	doc := fmt.Sprintf("name: %s\ntype: slack\napi_url: %s/\nbot_token: %s\nsigning_secret: %s\nchannel: %s\n",
		testName, api.URL, chattest.SlackBotToken, testSecret, testChannel)
	c, err := New(channelConfigTB(f, doc), notify.Env{BaseURL: "https://klaxon.example.org", Logger: slog.New(slog.DiscardHandler), Client: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	fs.ch = c.(*Channel)
	fs.h = fs.ch.Handler(fs.cmd)
	return fs
}

// serveAPI answers auth.test and chat.postMessage as Slack does, recording
// the posts.
func (fs *fuzzSlack) serveAPI(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "auth.test":
		fmt.Fprintf(w, `{"ok":true,"user_id":%q,"bot_id":%q,"team_id":%q}`, chattest.SlackBotUserID, chattest.SlackBotID, chattest.SlackTeamID)
	case "chat.postMessage":
		fs.mu.Lock()
		fs.posts = append(fs.posts, r.PostForm)
		fs.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": "1795748000.000100"})
		w.Write(b)
	default:
		fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

// do sends body, signed now, to the handler at suffix, and returns the
// answer with the commands and posts it caused. Every input starts from
// the same state: no events seen, the bot's user ID known.
func (fs *fuzzSlack) do(suffix string, body []byte, contentType string) (*httptest.ResponseRecorder, []notify.Command, []url.Values) {
	fs.ch.mu.Lock()
	fs.ch.botUserID = chattest.SlackBotUserID
	fs.ch.mu.Unlock()
	fs.ch.seen = newRecent(16)
	fs.cmd.reset()
	fs.mu.Lock()
	fs.posts = nil
	fs.mu.Unlock()

	w := httptest.NewRecorder()
	fs.h.ServeHTTP(w, chattest.SlackRequest(prefix+suffix, testSecret, body, contentType, time.Now()))

	fs.mu.Lock()
	defer fs.mu.Unlock()
	return w, fs.cmd.commands(), fs.posts
}

// echoCommander answers every command with its text and actor wrapped in
// markup that must never reach Slack unescaped.
type echoCommander struct {
	mu  sync.Mutex
	got []notify.Command
}

func (c *echoCommander) Command(_ context.Context, cmd notify.Command) notify.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cmd)
	return notify.Reply{Text: "<!channel> ran <" + cmd.Text + "> for <@" + cmd.Actor + ">", Code: cmd.Text + " <script>&amp;"}
}

func (c *echoCommander) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = nil
}

func (c *echoCommander) commands() []notify.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Command(nil), c.got...)
}

// channelConfigTB is channelConfig for a *testing.F.
func channelConfigTB(tb testing.TB, doc string) config.Channel {
	tb.Helper()
	var ch config.Channel
	if err := yaml.Unmarshal([]byte(doc), &ch); err != nil {
		tb.Fatal(err)
	}
	return ch
}

// checkCommand asserts what every command from Slack carries. (Only events
// can come from the bot itself: Slack sends slash commands and button
// presses for people only.)
func checkCommand(t *testing.T, c notify.Command) {
	t.Helper()
	user, ok := strings.CutPrefix(c.Actor, "slack:")
	if !ok || user == "" {
		t.Errorf("Actor: got %q, want slack:<user ID>", c.Actor)
	}
	if c.Channel != testName {
		t.Errorf("Channel: got %q, want %q", c.Channel, testName)
	}
	if c.Text != strings.TrimSpace(c.Text) {
		t.Errorf("Text: got %q, want it trimmed", c.Text)
	}
}

// checkReplyText asserts that a reply shown in Slack carries no markup:
// the commander's <!channel>, <@…> and <script> must all arrive escaped,
// or a typed command could make Klaxon mention everyone.
func checkReplyText(t *testing.T, where, text string) {
	t.Helper()
	if strings.ContainsAny(text, "<>") {
		t.Errorf("%s: got unescaped markup in %q", where, text)
	}
	if n := len([]rune(text)); n > maxReply+1 {
		t.Errorf("%s: got %d characters, want at most %d", where, n, maxReply)
	}
}

// checkPosts asserts that each reply went to the command's room.
func checkPosts(t *testing.T, cmds []notify.Command, posts []url.Values) {
	t.Helper()
	if len(posts) > len(cmds) {
		t.Errorf("got %d replies for %d commands", len(posts), len(cmds))
	}
	rooms := map[string]bool{}
	for _, c := range cmds {
		rooms[c.Room] = true
	}
	for _, p := range posts {
		if ch := p.Get("channel"); ch == "" || !rooms[ch] {
			t.Errorf("reply posted to %q, not to the room of a command (%v)", ch, rooms)
		}
		checkReplyText(t, "posted reply", p.Get("text"))
	}
}

// innerEvent is the part of an event_callback the checks need, decoded as
// slack-go decodes it (encoding/json).
type innerEvent struct {
	Type  string `json:"type"`
	Event struct {
		Type    string          `json:"type"`
		SubType string          `json:"subtype"`
		User    string          `json:"user"`
		BotID   string          `json:"bot_id"`
		Edited  json.RawMessage `json:"edited"`
		Channel string          `json:"channel"`
	} `json:"event"`
}

// FuzzEvents posts signed Events API bodies. Slack must always get a 200
// (anything else makes it retry the same body), and a command runs only for
// a person's new message or mention: never for the bot's own messages, a
// bot's, an edit or a join.
func FuzzEvents(f *testing.F) {
	bot := "<@" + chattest.SlackBotUserID + ">"
	for _, e := range []chattest.SlackEvent{
		{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: testChannel, TS: "1795748100.000100"},
		{EventID: "Ev2", User: "U0ALICE", Text: "resolve 12", Channel: testChannel, TS: "1795748200.000100", ThreadTS: "1795748000.000001"},
		{EventID: "Ev3", Type: "app_mention", User: "U0ALICE", Text: bot + " ack 12 &amp; more", Channel: testChannel, TS: "1.1"},
		{EventID: "Ev4", User: "U0ALICE", Text: bot + " " + bot + " status", Channel: "C0INCIDENT", TS: "1.2"},
		{EventID: "Ev5", User: "U0ALICE", Text: "<@U0BOB> ack 12", Channel: testChannel, TS: "1.3"},
		{EventID: "Ev6", User: chattest.SlackBotUserID, Text: "ack 12", Channel: testChannel, TS: "1.4"},
		{EventID: "Ev7", BotID: chattest.SlackBotID, Text: "Acknowledged by <@U0BOB>", Channel: testChannel, TS: "1.5"},
		{EventID: "Ev8", SubType: "bot_message", BotID: "BOTHER", Text: "ack 12", Channel: testChannel, TS: "1.6"},
		{EventID: "Ev9", SubType: "message_changed", Text: "ack 12", Channel: testChannel, TS: "1.7"},
		{EventID: "Ev10", SubType: "channel_join", User: "U0ALICE", Text: "joined", Channel: testChannel, TS: "1.8"},
		{EventID: "Ev11", Type: "reaction_added", User: "U0ALICE", Channel: testChannel, TS: "1.9"},
		{EventID: "Ev12", User: "U0ALICE", Text: "  ", Channel: testChannel, TS: "1.10"},
		{EventID: "Ev13", User: "U0ALICE", Text: "<script>alert(1)</script> <!channel> ack \x00 12 \xff", Channel: testChannel, TS: "1.11"},
		{EventID: "", User: "U0ALICE", Text: "ack 99999999999999999999999 -1 0", Channel: testChannel, TS: "1.12"},
		{EventID: "Ev15", Type: "app_mention", User: chattest.SlackBotUserID, Text: bot + " ack 12", Channel: testChannel, TS: "1.13"},
	} {
		f.Add(chattest.SlackEventJSON(e))
	}
	f.Add(chattest.SlackURLVerificationJSON("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
	f.Add(chattest.SlackURLVerificationJSON("<script>alert(1)</script>"))
	f.Add([]byte(`{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","user":"U0ALICE","text":"ack 1","channel":"C1","ts":"1.1","edited":{"user":"U0ALICE","ts":"1.2"}}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","user":"U0ALICE","text":"ack 1","channel":"C1","ts":"1.1","previous_message":{"text":"x"}}}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","user":1e999,"text":["ack"],"channel":{}}}`))
	f.Add([]byte(`{"type":"event_callback","event":null}`))
	f.Add([]byte(`{"tYpe":"event_callback","event":"","event":{"tYpe":"app_mention","user":"0","teXt":"0","ChAnnel":"00","ts":"0"}}`)) // duplicate keys, any case
	f.Add([]byte(`{"type":"event_callback","event":` + strings.Repeat(`{"event":`, 500) + `1` + strings.Repeat(`}`, 501)))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","text":"` + strings.Repeat("ack 1 ", 2000) + `","user":"U1","channel":"C1","ts":"1"}}`))
	f.Add([]byte(`{"type":"url_verification"}`))
	f.Add([]byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"user\":\"U\\u0000\",\"text\":\"\xff\xfe ack 1\",\"channel\":\"C1\",\"ts\":\"1\"}}"))
	f.Add([]byte(""))
	f.Add([]byte("null"))
	f.Add([]byte("[]"))

	fs := newFuzzSlack(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzBody {
			t.Skip()
		}
		w, cmds, posts := fs.do("events", body, jsonType)
		if w.Code != http.StatusOK {
			t.Fatalf("status: got %d, want 200 for any signed event (else Slack retries it)", w.Code)
		}
		if w.Body.Len() > 0 && !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("answer %q served as %q, want text/plain", w.Body, w.Header().Get("Content-Type"))
		}
		if len(cmds) > 1 {
			t.Fatalf("one event ran %d commands: %+v", len(cmds), cmds)
		}
		for _, c := range cmds {
			checkCommand(t, c)
			if c.Actor == "slack:"+chattest.SlackBotUserID {
				t.Errorf("a command from the bot's own message ran: %+v", c)
			}
			if c.Room == "" {
				t.Errorf("Room: got empty")
			}
			var ev innerEvent
			if err := json.Unmarshal(body, &ev); err != nil {
				// encoding/json goes on past a value of the wrong type and
				// the last of duplicate keys wins, as in slack-go; anything
				// else slack-go could not have parsed.
				var typeErr *json.UnmarshalTypeError
				if !errors.As(err, &typeErr) {
					t.Fatalf("a command ran from a body encoding/json refuses (%v): %+v", err, c)
				}
			}
			e := ev.Event
			switch {
			case ev.Type != "event_callback":
				t.Errorf("a command ran from a %q body", ev.Type)
			case e.BotID != "":
				t.Errorf("a command ran from a bot's message (bot_id %q): %+v", e.BotID, c)
			case e.Type == "message" && e.SubType != "":
				t.Errorf("a command ran from a %q message: %+v", e.SubType, c)
			case e.Type == "app_mention" && len(e.Edited) > 0 && string(e.Edited) != "null":
				t.Errorf("a command ran from an edited mention: %+v", c)
			case e.Type != "message" && e.Type != "app_mention":
				t.Errorf("a command ran from a %q event", e.Type)
			case "slack:"+e.User != c.Actor:
				t.Errorf("Actor: got %q, want the event's user %q", c.Actor, e.User)
			case e.Channel != c.Room:
				t.Errorf("Room: got %q, want the event's channel %q", c.Room, e.Channel)
			}
		}
		checkPosts(t, cmds, posts)
	})
}

// FuzzSlashCommand posts signed slash command forms: a 200 answer is a
// reply for the channel with every markup character escaped, anything
// else a 400 with no command run.
func FuzzSlashCommand(f *testing.F) {
	for _, c := range []chattest.SlackSlashCommand{
		{Command: "/klaxon", Text: " ack 12 ", UserID: "U0ALICE", UserName: "alice", ChannelID: testChannel},
		{Command: "/klaxon", Text: "status", UserID: "U0BOB", UserName: "bob", ChannelID: "C0INCIDENT"},
		{Command: "/klaxon", Text: "", UserID: "U0ALICE", ChannelID: testChannel},
		{Command: "/klaxon", Text: "<!channel> <script>alert(1)</script> ack 12", UserID: "U0ALICE", ChannelID: testChannel},
		{Command: "/klaxon", Text: "ack 99999999999999999999 0 -1 \x00 \xff", UserID: "U0ALICE", ChannelID: ""},
		{Command: "/klaxon", Text: "ack 12", UserID: "", ChannelID: testChannel},
		{Command: "/klaxon", Text: "ack 12", UserID: chattest.SlackBotUserID, ChannelID: testChannel},
	} {
		f.Add(chattest.SlackSlashCommandForm(c))
	}
	f.Add([]byte("user_id=U1&text=ack+1&text=resolve+2&channel_id=C1"))
	f.Add([]byte("user_id=U1&text=%zz"))
	f.Add([]byte("user_id=U1;text=ack"))
	f.Add([]byte("user_id=U1&text=" + strings.Repeat("%41", 5000)))
	f.Add([]byte(""))
	f.Add([]byte("&&&==&"))

	fs := newFuzzSlack(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzBody {
			t.Skip()
		}
		w, cmds, posts := fs.do("commands", body, formType)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			if len(cmds) != 0 {
				t.Fatalf("a 400 answer ran commands: %+v", cmds)
			}
			return
		default:
			t.Fatalf("status: got %d, want 200 or 400", w.Code)
		}
		if len(cmds) != 1 {
			t.Fatalf("got %d commands, want 1", len(cmds))
		}
		c := cmds[0]
		checkCommand(t, c)
		if !c.Addressed {
			t.Error("a slash command is always addressed to Klaxon")
		}
		if len(posts) != 0 {
			t.Errorf("a slash command's reply is the answer, not a post: got %d posts", len(posts))
		}
		if w.Body.Len() == 0 {
			return
		}
		var answer map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer %q is not a JSON object of strings: %v", w.Body, err)
		}
		if answer["response_type"] != "in_channel" {
			t.Errorf("response_type: got %q", answer["response_type"])
		}
		checkReplyText(t, "slash command answer", answer["text"])
	})
}

// buttonCommand is what a button press may run: our verb and alert
// numbers, nothing else a payload could smuggle in.
var buttonCommand = regexp.MustCompile(`^(ack|resolve)( [0-9]+)+$`)

// FuzzInteractivity posts signed block_actions forms: payload is the JSON
// Slack puts in the form's payload field (or, with raw, the whole body).
// Only Klaxon's own Ack and Resolve buttons run anything, and only as
// "ack"/"resolve" with alert numbers.
func FuzzInteractivity(f *testing.F) {
	payloadOf := func(form []byte) []byte {
		v, err := url.ParseQuery(string(form))
		if err != nil {
			f.Fatal(err)
		}
		return []byte(v.Get("payload"))
	}
	for _, a := range []chattest.SlackAction{
		{UserID: "U0ALICE", UserName: "alice", ActionID: actionAck, Value: "12 13", ChannelID: testChannel, MessageTS: "1795748000.000001"},
		{UserID: "U0ALICE", ActionID: actionResolve, Value: "12", ChannelID: testChannel, MessageTS: "1795748000.000001"},
		{UserID: "U0ALICE", ActionID: "other", Value: "12", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "12; resolve 13", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "0 99999999999999999999999 007", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "12\n13\t14", ChannelID: "", MessageTS: ""},
		{UserID: "U0ALICE", ActionID: actionAck, Value: "<!channel> 12", ChannelID: testChannel, MessageTS: "1.1"},
		{UserID: "", ActionID: actionAck, Value: "12", ChannelID: testChannel, MessageTS: "1.1"},
	} {
		f.Add(payloadOf(chattest.SlackBlockActionsForm(a)), false)
	}
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1","thread_ts":"1.2"},"actions":[{"action_id":"klaxon_ack","value":"1"},{"action_id":"klaxon_resolve","value":"2 3"}]}`), false)
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1"},"actions":[{"action_id":"klaxon_ack","value":"1"}]}`), false)
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"klaxon_ack","value":1e999}]}`), false)
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":`+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)+`}`), false)
	f.Add([]byte("{\"type\":\"block_actions\",\"user\":{\"id\":\"U\\u0000\\ud800\"},\"actions\":[{\"action_id\":\"klaxon_ack\",\"value\":\"1 \xff\"}]}"), false)
	f.Add([]byte("payload=%7Bnot+json"), true)
	f.Add([]byte("payload="), true)
	f.Add([]byte("payload=%7B%7D&payload=%7B%22type%22%3A%22block_actions%22%7D"), true)
	f.Add([]byte(""), true)

	fs := newFuzzSlack(f)
	f.Fuzz(func(t *testing.T, payload []byte, raw bool) {
		if len(payload) > maxFuzzBody {
			t.Skip()
		}
		body := payload
		if !raw {
			body = []byte(url.Values{"payload": {string(payload)}}.Encode())
		}
		w, cmds, posts := fs.do("interactivity", body, formType)
		switch w.Code {
		case http.StatusOK:
			if w.Body.Len() != 0 {
				t.Errorf("answer: got %q, want an empty 200", w.Body)
			}
		case http.StatusBadRequest:
			if len(cmds) != 0 {
				t.Fatalf("a 400 answer ran commands: %+v", cmds)
			}
			return
		default:
			t.Fatalf("status: got %d, want 200 or 400", w.Code)
		}
		for _, c := range cmds {
			checkCommand(t, c)
			if !buttonCommand.MatchString(c.Text) {
				t.Errorf("a button ran %q, want ack or resolve with alert numbers", c.Text)
			}
			if !c.Addressed {
				t.Error("a button press is always addressed to Klaxon")
			}
		}
		checkPosts(t, cmds, posts)
	})
}
