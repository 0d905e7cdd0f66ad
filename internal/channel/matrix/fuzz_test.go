package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// maxFuzzSync bounds a fuzzed /sync answer: the decoder's cost, not its
// limits, is what a longer input would test.
const maxFuzzSync = 64 << 10

// fuzzHomeserver answers /sync with the current input and every send with
// an event ID, keeping only the current input's sends.
type fuzzHomeserver struct {
	mu    sync.Mutex
	sync  []byte
	sends []content
	rooms []string // of each send
}

func (h *fuzzHomeserver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == clientAPI+"/sync":
		w.Write(h.sync)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, clientAPI+"/rooms/"):
		escaped, _, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), clientAPI+"/rooms/"), "/")
		room, err := url.PathUnescape(escaped)
		if err != nil {
			room = "unescapable " + escaped
		}
		var c content
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &c); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errcode":"M_NOT_JSON","error":%q}`, err.Error())
			return
		}
		h.sends = append(h.sends, c)
		h.rooms = append(h.rooms, room)
		fmt.Fprint(w, `{"event_id":"$reply"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errcode":"M_UNRECOGNIZED","error":"not in the fuzz homeserver"}`)
	}
}

// start sets the /sync answer and forgets earlier sends.
func (h *fuzzHomeserver) start(body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sync, h.sends, h.rooms = body, nil, nil
}

func (h *fuzzHomeserver) sent() ([]content, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sends, h.rooms
}

// echoCommander answers every command with its text and sender in markup
// that must reach formatted_body escaped.
type echoCommander struct {
	mu  sync.Mutex
	got []notify.Command
}

func (c *echoCommander) Command(_ context.Context, cmd notify.Command) notify.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cmd)
	return notify.Reply{Text: "<b>ran</b> " + cmd.Text + " for " + cmd.Actor + " @room", Code: cmd.Text + " <script>x</script>"}
}

func (c *echoCommander) take() []notify.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.got
	c.got = nil
	return got
}

// syncBody is a /sync answer with events in room, as a homeserver sends it.
func syncBody(room string, events ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"next_batch": "s72595_4483_1934",
		"rooms": map[string]any{"join": map[string]any{room: map[string]any{
			"timeline": map[string]any{"events": events, "limited": false, "prev_batch": "t392-516_47314"},
		}}},
	})
	return b
}

// message is an m.room.message event from sender with content.
func message(id, sender string, content map[string]any) map[string]any {
	return map[string]any{"type": "m.room.message", "event_id": id, "sender": sender, "origin_server_ts": 1432735824653, "content": content}
}

func text(body string) map[string]any { return map[string]any{"msgtype": "m.text", "body": body} }

// FuzzSync decodes a /sync answer the way Listen does (over HTTP from the
// homeserver) and handles it. Every command comes from a text message of
// someone other than the bot, in a joined room, and every reply is an
// m.notice in that room, in the command's thread, that mentions nobody and
// carries the echoed text escaped.
func FuzzSync(f *testing.F) {
	const room = "!alerts:example.org"
	f.Add(syncBody(room, message("$1", alice, text("ack 12"))))
	f.Add(syncBody(room,
		message("$1", alice, text("klaxon: ack 12")),
		message("$2", bob, text("@klaxon:example.org resolve 12")),
		message("$3", alice, text("is anyone looking at this?")),
	))
	f.Add(syncBody(room, message("$1", botID, text("ack 12")))) // the bot's own alert says "ack 12" too
	f.Add(syncBody(room,
		message("$1", alice, map[string]any{"msgtype": "m.notice", "body": "ack 1"}),
		message("$2", alice, map[string]any{"msgtype": "m.image", "body": "ack 2", "url": "mxc://x"}),
		message("$3", alice, map[string]any{}),
		message("$4", alice, map[string]any{
			"msgtype": "m.text", "body": "* ack 3",
			"m.new_content": map[string]any{"msgtype": "m.text", "body": "ack 3"},
			"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": "$0"},
		}),
		message("", alice, text("ack 5")),
		map[string]any{"type": "m.room.member", "event_id": "$6", "sender": alice, "content": map[string]any{"membership": "join"}},
	))
	f.Add(syncBody(room, message("$1", alice, map[string]any{
		"msgtype": "m.text", "body": "klaxon: ack 12",
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": "$alert", "is_falling_back": true, "m.in_reply_to": map[string]any{"event_id": "$alert"}},
	})))
	f.Add(syncBody(room, message("$1", alice, map[string]any{
		"msgtype": "m.text", "body": "Klaxon Bot: ack 12", "format": "org.matrix.custom.html",
		"formatted_body": `<a href="https://matrix.to/#/%40klaxon%3Aexample.org">Klaxon Bot</a>: ack 12`,
	})))
	f.Add(syncBody(room, message("$1", alice, map[string]any{
		"msgtype": "m.text", "body": "> <@klaxon:example.org> [P0] KubePodCrashLooping\n> FIRING\n\nack 12", "format": "org.matrix.custom.html",
		"formatted_body": `<mx-reply><blockquote><a href="https://matrix.to/#/!r:example.org/$e">In reply to</a> <a href="https://matrix.to/#/@klaxon:example.org">@klaxon:example.org</a><br>[P0]</blockquote></mx-reply>ack 12`,
	})))
	f.Add(syncBody(room, message("$1", alice, text("<script>alert(1)</script> @room ack 12 \x00 \xff"))))
	f.Add(syncBody(room, message("$1", alice, text("ack 99999999999999999999 0 -1"))))
	f.Add(syncBody(room, message("$1", alice, text(strings.Repeat("ack 1 ", 2000)))))
	f.Add(syncBody("!other\x00room/../x?y#z", message("$1\n", "@mallory:evil.example\u202e", text("ack 1"))))
	f.Add([]byte(`{"next_batch":"s1","rooms":{"join":{"!a:x":{"timeline":{"events":[{"type":"m.room.message","event_id":"$1","sender":"@a:x","content":null}],"limited":true}},"!b:x":{"timeline":{"events":[{"type":"m.room.message","event_id":"$2","sender":"@a:x","content":{"msgtype":"m.text","body":"ack 2"}}]}}},"invite":{"!c:x":{}},"leave":{}}}`))
	f.Add([]byte(`{"next_batch":"s1","rooms":{"join":{"!a:x":{"timeline":{"events":[{"type":"m.room.message","event_id":"$1","sender":"@a:x","content":"ack 1"}]}}}}}`))
	f.Add([]byte(`{"next_batch":"s1","rooms":{"join":{"!a:x":{"timeline":{"events":[{"type":"m.room.message","event_id":"$1","sender":"@a:x","content":{"msgtype":"m.text","body":1e999}}]}}}}}`))
	f.Add([]byte(`{"next_batch":"s1","rooms":{"join":{"!a:x":{"timeline":{"events":[{"type":"m.room.message","event_id":"$1","sender":"@a:x","content":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500) + `}]}}}}}`))
	f.Add([]byte(`{"next_batch":"s1","rooms":{"join":null}}`))
	f.Add([]byte(`{"next_batch":"s1"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(`{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}`))

	hs := &fuzzHomeserver{}
	srv := httptest.NewServer(hs)
	f.Cleanup(srv.Close)
	src := fmt.Sprintf("name: ops\ntype: matrix\nhomeserver: %q\naccess_token: %q\nroom: %q\n", srv.URL, botToken, room)
	var cfg config.Channel
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		f.Fatal(err)
	}
	nc, err := New(cfg, notify.Env{BaseURL: notifytest.BaseURL, Logger: slog.New(slog.DiscardHandler), Client: notify.NewHTTPClient()})
	if err != nil {
		f.Fatal(err)
	}
	cmd := &echoCommander{}
	l := &listener{c: nc.(*Channel), cmd: cmd, self: botID, room: room, filter: syncFilter()}

	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzSync {
			t.Skip()
		}
		hs.start(body)
		var resp syncResponse
		if err := l.sync(t.Context(), "s1", 0, &resp); err != nil {
			if len(cmd.take()) != 0 {
				t.Fatal("a failed sync ran commands")
			}
			return
		}
		if !l.handle(t.Context(), &resp) {
			t.Fatal("handle: got false with a live context")
		}
		cmds := cmd.take()
		sends, rooms := hs.sent()

		// What the commands may come from, as encoding/json reads the answer.
		senders := map[string]map[string]bool{} // room → senders of text messages with an event ID
		n := 0
		for id, joined := range resp.Rooms.Join {
			for _, ev := range joined.Timeline.Events {
				if ev.Type != "m.room.message" || ev.EventID == "" || ev.Sender == botID {
					continue
				}
				var c content
				if json.Unmarshal(ev.Content, &c) != nil || c.MsgType != msgText {
					continue
				}
				if senders[id] == nil {
					senders[id] = map[string]bool{}
				}
				senders[id][ev.Sender] = true
				n++
			}
		}
		if len(cmds) > n {
			t.Fatalf("got %d commands from %d text messages of people", len(cmds), n)
		}
		for _, c := range cmds {
			if c.Actor == botID {
				t.Errorf("a command from the bot's own message ran: %+v", c)
			}
			if !senders[c.Room][c.Actor] {
				t.Errorf("command %+v: no text message from %q in room %q", c, c.Actor, c.Room)
			}
			if c.Channel != "ops" || c.Text == "" || c.Text != strings.TrimSpace(c.Text) || c.Addressed {
				t.Errorf("got command %+v, want channel ops, trimmed non-empty text, not addressed", c)
			}
		}
		if len(sends) != len(cmds) {
			t.Errorf("got %d replies for %d commands (each gets an answer)", len(sends), len(cmds))
		}
		for i, s := range sends {
			if s.MsgType != msgNotice {
				t.Errorf("reply msgtype: got %q, want %s (so other bots ignore it)", s.MsgType, msgNotice)
			}
			if s.Mentions == nil || len(s.Mentions.UserIDs) != 0 {
				t.Errorf("reply m.mentions: got %+v, want present and empty", s.Mentions)
			}
			if s.RelatesTo == nil || s.RelatesTo.RelType != relThread || s.RelatesTo.EventID == "" || s.RelatesTo.InReplyTo == nil || s.RelatesTo.InReplyTo.EventID == "" {
				t.Errorf("reply m.relates_to: got %+v, want a thread reply", s.RelatesTo)
			}
			markup := s.FormattedBody
			for _, tag := range []string{"<br>", "<pre><code>", "</code></pre>"} {
				markup = strings.ReplaceAll(markup, tag, "")
			}
			if strings.ContainsAny(markup, "<>") {
				t.Errorf("reply formatted_body has unescaped markup: %q", s.FormattedBody)
			}
			if i < len(cmds) && rooms[i] != cmds[i].Room {
				t.Errorf("reply %d went to room %q, want the command's room %q", i, rooms[i], cmds[i].Room)
			}
		}
	})
}
