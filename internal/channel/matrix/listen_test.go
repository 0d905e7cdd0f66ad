package matrix

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// commander answers "ack N" and nothing else, recording every command.
type commander struct {
	mu   sync.Mutex
	cmds []notify.Command
}

func (c *commander) Command(_ context.Context, cmd notify.Command) notify.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cmds = append(c.cmds, cmd)
	if id, ok := strings.CutPrefix(cmd.Text, "ack "); ok {
		return notify.Reply{Text: "Acknowledged " + id + " <b>for " + cmd.Actor + "</b>"}
	}
	return notify.Reply{}
}

func (c *commander) commands() []notify.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Command(nil), c.cmds...)
}

// memCursor is a Cursor in memory.
type memCursor struct {
	mu    sync.Mutex
	value string
	saves int
}

func (c *memCursor) Load(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value, nil
}

func (c *memCursor) Save(_ context.Context, v string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value, c.saves = v, c.saves+1
	return nil
}

func (c *memCursor) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}

// listen runs ch.Listen until the test ends, failing the test if it
// returns an error.
func listen(t *testing.T, ch *Channel, cmd notify.Commander, cur notify.Cursor) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Listen(ctx, cmd, cur) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Listen: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Listen did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replyTo returns the bot's replies to event.
func replyTo(fake *chattest.Matrix, room, event string) []chattest.MatrixMessage {
	var out []chattest.MatrixMessage
	for _, m := range botMessages(fake, room) {
		if m.InReplyTo == event && m.MsgType == "m.notice" {
			out = append(out, m)
		}
	}
	return out
}

func TestListen(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	old := fake.Say(alice, room, "ack 99") // history: must not run
	cmd, cur := &commander{}, &memCursor{}
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	first := cur.get()

	// The bot's own alert says "ack 12" too: it is not a command.
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	alert := must(parseRef(r)).Event

	ev := fake.Say(alice, room, "ack 12")
	waitFor(t, "the reply", func() bool { return len(replyTo(fake, room, ev)) == 1 })
	reply := replyTo(fake, room, ev)[0]
	if reply.RelType != "m.thread" || reply.RelatesTo != ev {
		t.Errorf("reply relates %s to %s, want m.thread rooted at the command %s", reply.RelType, reply.RelatesTo, ev)
	}
	if want := "Acknowledged 12 <b>for " + alice + "</b>"; reply.Body != want {
		t.Errorf("got reply body %q, want %q", reply.Body, want)
	}
	if strings.Contains(reply.FormattedBody, "<b>") {
		t.Errorf("reply text reached formatted_body unescaped: %s", reply.FormattedBody)
	}

	// A command typed in the alert's thread is answered in that thread.
	inThread := fake.SayInThread(alice, room, alert, "klaxon: ack 12")
	waitFor(t, "the reply in the thread", func() bool { return len(replyTo(fake, room, inThread)) == 1 })
	if got := replyTo(fake, room, inThread)[0]; got.RelType != "m.thread" || got.RelatesTo != alert {
		t.Errorf("reply relates %s to %s, want m.thread rooted at the alert %s", got.RelType, got.RelatesTo, alert)
	} else if fallingBack(got) || !fallingBack(reply) {
		t.Errorf("is_falling_back: got %v in the thread and %v at the root; want false, true", fallingBack(got), fallingBack(reply))
	}

	// Not a command: no reply.
	chat := fake.Say(alice, room, "is anyone looking at this?")
	last := fake.Say(alice, room, "ack 13")
	waitFor(t, "the last reply", func() bool { return len(replyTo(fake, room, last)) == 1 })
	if n := len(replyTo(fake, room, chat)); n != 0 {
		t.Errorf("got %d replies to chatter, want 0", n)
	}

	want := []notify.Command{
		{Channel: "ops", Room: room, Actor: alice, Text: "ack 12"},
		{Channel: "ops", Room: room, Actor: alice, Text: "ack 12"},
		{Channel: "ops", Room: room, Actor: alice, Text: "is anyone looking at this?"},
		{Channel: "ops", Room: room, Actor: alice, Text: "ack 13"},
	}
	got := cmd.commands()
	if len(got) != len(want) {
		t.Fatalf("got commands %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("command %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(replyTo(fake, room, old)) != 0 {
		t.Errorf("a command from before the first start was run")
	}
	waitFor(t, "the cursor to move", func() bool { return cur.get() != first })
}

func TestListenCommandText(t *testing.T) {
	const self = "@klaxon:example.org"
	tests := []struct {
		name string
		c    content
		want string
	}{
		{"plain", content{Body: "ack 12"}, "ack 12"},
		{"user ID", content{Body: "@klaxon:example.org ack 12"}, "ack 12"},
		{"user ID colon", content{Body: "@klaxon:example.org: ack 12"}, "ack 12"},
		{"localpart", content{Body: "Klaxon: ack 12"}, "ack 12"},
		{"localpart comma", content{Body: "klaxon, ack 12"}, "ack 12"},
		{"localpart without separator", content{Body: "klaxon ack 12"}, "klaxon ack 12"},
		{"other word", content{Body: "klaxonfoo: ack 12"}, "klaxonfoo: ack 12"},
		{"display name pill", content{
			Body: "Klaxon Bot: ack 12", Format: htmlFmt,
			FormattedBody: `<a href="https://matrix.to/#/%40klaxon%3Aexample.org">Klaxon Bot</a>: ack 12`,
		}, "ack 12"},
		{"pill of someone else", content{
			Body: "Alice: ack 12", Format: htmlFmt,
			FormattedBody: `<a href="https://matrix.to/#/@alice:example.org">Alice</a>: ack 12`,
		}, "Alice: ack 12"},
		{"reply fallback", content{
			Body: "> <@klaxon:example.org> [P0] KubePodCrashLooping\n> FIRING\n\nack 12", Format: htmlFmt,
			FormattedBody: `<mx-reply><blockquote><a href="https://matrix.to/#/!r:example.org/$e">In reply to</a> <a href="https://matrix.to/#/@klaxon:example.org">@klaxon:example.org</a><br>[P0]</blockquote></mx-reply>ack 12`,
		}, "ack 12"},
		{"reply fallback and pill", content{
			Body: "> <@bob:example.org> hm\n\nKlaxon Bot: ack 12", Format: htmlFmt,
			FormattedBody: `<mx-reply><blockquote>hm</blockquote></mx-reply><a href="https://matrix.to/#/@klaxon:example.org">Klaxon Bot</a>: ack 12`,
		}, "ack 12"},
		{"only a mention", content{Body: "klaxon:"}, ""},
		{"blank", content{Body: "  \n "}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandText(tt.c, self); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListenIgnores(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	cmd, cur := &commander{}, &memCursor{}
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })

	fake.Post(alice, room, map[string]any{"msgtype": "m.notice", "body": "ack 1"})                  // a bot's notice
	fake.Post(alice, room, map[string]any{"msgtype": "m.image", "body": "ack 2", "url": "mxc://x"}) // an image
	fake.Post(alice, room, map[string]any{})                                                        // redacted
	first := fake.Say(alice, room, "ack 3")
	fake.Post(alice, room, map[string]any{ // an edit of a command already run
		"msgtype": "m.text", "body": "* ack 3",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "ack 3"},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": first},
	})
	last := fake.Say(alice, room, "ack 5")
	waitFor(t, "the last reply", func() bool { return len(replyTo(fake, room, last)) == 1 })
	var texts []string
	for _, c := range cmd.commands() {
		texts = append(texts, c.Text)
	}
	if got := strings.Join(texts, ","); got != "ack 3,ack 5" {
		t.Errorf("got commands %s, want ack 3,ack 5", got)
	}
}

// TestListenResume restarts the listener from a position before a command
// it has answered, as after a crash before the cursor was saved: the
// command runs again but the reply is not posted twice.
func TestListenResume(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	cmd, cur := &commander{}, &memCursor{}
	stop := listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	before := cur.get()
	ev := fake.Say(alice, room, "ack 12")
	waitFor(t, "the reply", func() bool { return len(replyTo(fake, room, ev)) == 1 })
	stop()

	cur.Save(t.Context(), before)
	listen(t, newChannel(t, fake.URL, alias), cmd, cur)
	waitFor(t, "the command to run again", func() bool { return len(cmd.commands()) == 2 })
	last := fake.Say(alice, room, "ack 13")
	waitFor(t, "the next reply", func() bool { return len(replyTo(fake, room, last)) == 1 })
	if n := len(replyTo(fake, room, ev)); n != 1 {
		t.Errorf("got %d replies to one command, want 1", n)
	}
}

func TestListenRetriesSync(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	cmd, cur := &commander{}, &memCursor{}
	fake.Fail(1, 502, 0) // whoami: retried after a second
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	ev := fake.Say(alice, room, "ack 12")
	waitFor(t, "the reply", func() bool { return len(replyTo(fake, room, ev)) == 1 })
	if n := fake.Calls("whoami"); n != 2 {
		t.Errorf("got %d whoami calls, want 2", n)
	}
}

func TestListenBadToken(t *testing.T) {
	fake, _, _ := fakeRoom(t)
	ch := newChannelToken(t, fake.URL, "wrong", alias)
	err := ch.Listen(t.Context(), &commander{}, &memCursor{})
	if err == nil || !strings.Contains(err.Error(), "M_UNKNOWN_TOKEN") {
		t.Errorf("got %v, want an M_UNKNOWN_TOKEN error", err)
	}
}

func TestListenStops(t *testing.T) {
	_, _, ch := fakeRoom(t)
	cur := &memCursor{}
	stop := listen(t, ch, &commander{}, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	time.Sleep(50 * time.Millisecond) // into the long-poll
	start := time.Now()
	stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Listen took %v to stop", d)
	}
}

// fallingBack is m.relates_to.is_falling_back: the reply is only there for
// clients without threads.
func fallingBack(m chattest.MatrixMessage) bool {
	rel, _ := m.Content["m.relates_to"].(map[string]any)
	b, _ := rel["is_falling_back"].(bool)
	return b
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
