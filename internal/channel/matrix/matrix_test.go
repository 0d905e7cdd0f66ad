package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
	"gopkg.in/yaml.v3"
)

const (
	botID    = "@klaxon:example.org"
	botToken = "bot-token-s3cr3t"
	alice    = "@alice:example.org"
	bob      = "@bob:example.org"
	alias    = "#alerts:example.org"
)

// channelConfig decodes a channel's YAML as the config package does.
func channelConfig(t *testing.T, src string) config.Channel {
	t.Helper()
	var ch config.Channel
	if err := yaml.Unmarshal([]byte(src), &ch); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return ch
}

// newChannelToken builds a channel on homeserver for room, with token.
func newChannelToken(t *testing.T, homeserver, token, room string, mention ...string) *Channel {
	t.Helper()
	src := fmt.Sprintf("name: ops\ntype: matrix\nhomeserver: %q\naccess_token: %q\nroom: %q\n", homeserver, token, room)
	if len(mention) > 0 {
		src += "mention:\n"
		for _, m := range mention {
			src += fmt.Sprintf("  - %q\n", m)
		}
	}
	ch, err := New(channelConfig(t, src), notify.Env{BaseURL: notifytest.BaseURL, Logger: slog.New(slog.DiscardHandler), Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ch.(*Channel)
}

func newChannel(t *testing.T, homeserver, room string, mention ...string) *Channel {
	t.Helper()
	return newChannelToken(t, homeserver, botToken, room, mention...)
}

// fakeRoom is a fake homeserver with the bot and alice in #alerts.
func fakeRoom(t *testing.T) (fake *chattest.Matrix, room string, ch *Channel) {
	t.Helper()
	fake = chattest.NewMatrix(t)
	fake.AddUser(botID, botToken)
	fake.AddUser(alice, "alice-token")
	room = fake.CreateRoom(alias, alice)
	return fake, room, newChannel(t, fake.URL, alias, alice, bob)
}

func botMessages(fake *chattest.Matrix, room string) []chattest.MatrixMessage {
	var out []chattest.MatrixMessage
	for _, m := range fake.Messages(room) {
		if m.Sender == botID {
			out = append(out, m)
		}
	}
	return out
}

func TestNewConfig(t *testing.T) {
	valid := "name: ops\ntype: matrix\nhomeserver: https://matrix.example.org/\naccess_token: t\nroom: '#alerts:example.org'\n"
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error; none for valid
	}{
		{"valid alias", valid, nil},
		{"valid id and mentions", "homeserver: http://127.0.0.1:8008\naccess_token: t\nroom: '!abc:example.org:8448'\nmention: ['@alice:example.org', '@bob.smith:matrix.example.org']\n", nil},
		{"missing everything", "name: ops\ntype: matrix\n", []string{".homeserver: missing", ".access_token: missing", ".room: missing"}},
		{"homeserver not http", strings.Replace(valid, "https://matrix.example.org/", "ftp://matrix.example.org", 1), []string{`.homeserver: "ftp://matrix.example.org" is not an http(s) URL`}},
		{"homeserver no host", strings.Replace(valid, "https://matrix.example.org/", "https://", 1), []string{"is not an http(s) URL"}},
		{"room without server", strings.Replace(valid, "'#alerts:example.org'", "alerts", 1), []string{`.room: "alerts" is neither a room ID`}},
		{"room with space", strings.Replace(valid, "'#alerts:example.org'", "'#al erts:example.org'", 1), []string{".room:"}},
		{"bad mention", valid + "mention: ['alice', '@bob:example.org', '@eve:evil.example <b>']\n", []string{`item 0: "alice" is not a Matrix user ID`, `item 2:`}},
		{"unknown key", valid + "token: x\n", []string{".token: unknown key for a matrix channel"}},
		{"wrong type", valid + "mention: 3\n", []string{".mention:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(channelConfig(t, tt.src), notify.Env{Logger: slog.New(slog.DiscardHandler)})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSendFirstPost(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	m := notifytest.Cases()["critical_firing"]
	d := notify.Delivery{ID: 3, Version: 1, Attempt: 1, Message: m}
	got, err := ch.Send(t.Context(), d)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 1 {
		t.Fatalf("got %d bot messages, want 1", len(msgs))
	}
	msg := msgs[0]
	if want := (ref{Room: room, Event: msg.EventID}).String(); got != want {
		t.Errorf("got ref %s, want %s", got, want)
	}
	if msg.TxnID != d.PostKey() {
		t.Errorf("got txn ID %q, want %q", msg.TxnID, d.PostKey())
	}
	if msg.MsgType != "m.text" || msg.Content["format"] != "org.matrix.custom.html" {
		t.Errorf("got msgtype %q format %v", msg.MsgType, msg.Content["format"])
	}
	for _, want := range []string{"[P0] KubePodCrashLooping: prod/api-7d9f", "FIRING", `Type "ack 12" to acknowledge.`, alice, bob} {
		if !strings.Contains(msg.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, msg.Body)
		}
	}
	pill := `<a href="https://matrix.to/#/@alice:example.org">@alice:example.org</a>`
	if !strings.Contains(msg.FormattedBody, pill) {
		t.Errorf("formatted_body lacks the pill %s:\n%s", pill, msg.FormattedBody)
	}
	if strings.Join(msg.Mentions, ",") != alice+","+bob {
		t.Errorf("got m.mentions %v, want alice and bob", msg.Mentions)
	}
	if n := fake.Calls("directory"); n != 1 {
		t.Errorf("got %d alias lookups, want 1", n)
	}

	// A second group's post reuses the resolved, joined room.
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 4, Version: 1, Message: notifytest.Cases()["warning_firing"]}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if fake.Calls("directory") != 1 || fake.Calls("join") != 1 {
		t.Errorf("got %d lookups and %d joins after two posts, want 1 each", fake.Calls("directory"), fake.Calls("join"))
	}
	if msgs := botMessages(fake, room); len(msgs[1].Mentions) != 0 {
		t.Errorf("warning mentions %v, want nobody", msgs[1].Mentions)
	}
}

func TestSendRoomID(t *testing.T) {
	fake, room, _ := fakeRoom(t)
	ch := newChannel(t, fake.URL, room)
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := fake.Calls("directory"); n != 0 {
		t.Errorf("got %d alias lookups for a room ID, want 0", n)
	}
	if n := len(botMessages(fake, room)); n != 1 {
		t.Errorf("got %d messages, want 1", n)
	}
}

func TestSendEdit(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	cases := notifytest.Cases()
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: cases["critical_firing"]})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, name := range []string{"critical_acked", "critical_resolved"} {
		d := notify.Delivery{ID: 3, Version: int64(2 + i), Ref: r, Message: cases[name]}
		got, err := ch.Send(t.Context(), d)
		if err != nil {
			t.Fatalf("Send %s: %v", name, err)
		}
		if got != r {
			t.Errorf("edit returned ref %s, want %s", got, r)
		}
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 1 {
		t.Fatalf("got %d bot messages after two edits, want 1", len(msgs))
	}
	if msgs[0].Edits != 2 {
		t.Errorf("got %d edits applied, want 2", msgs[0].Edits)
	}
	if !strings.Contains(msgs[0].Body, "RESOLVED by prod-alertmanager") || strings.HasPrefix(msgs[0].Body, "*") {
		t.Errorf("current body is not the resolved message:\n%s", msgs[0].Body)
	}
	if strings.Contains(msgs[0].Body, "ack 12") {
		t.Errorf("resolved message still asks to ack:\n%s", msgs[0].Body)
	}
	if n := fake.Calls("send"); n != 3 {
		t.Errorf("got %d send calls, want 3", n)
	}
}

func TestSendEditContent(t *testing.T) {
	msg := render(notifytest.Cases()["critical_acked"], nil, nil)
	c := replacement(msg, "$orig")
	if !strings.HasPrefix(c.Body, "* ") || !strings.HasPrefix(c.FormattedBody, "* ") {
		t.Errorf("fallback body does not start with \"* \": %q", c.Body)
	}
	if c.RelatesTo == nil || c.RelatesTo.RelType != "m.replace" || c.RelatesTo.EventID != "$orig" {
		t.Errorf("got m.relates_to %+v, want m.replace of $orig", c.RelatesTo)
	}
	if c.NewContent == nil || c.NewContent.Body != msg.Body || c.NewContent.RelatesTo != nil {
		t.Errorf("m.new_content is not the full new message: %+v", c.NewContent)
	}
	if c.Mentions == nil || len(c.Mentions.UserIDs) != 0 {
		t.Errorf("edit's outer m.mentions %+v, want empty", c.Mentions)
	}
}

// TestSendRetryDoesNotDoublePost: a first post whose answer was lost is
// retried after the group changed (a new version): the homeserver answers
// the post's transaction with the first event, which is then edited to the
// new content. One message, never two.
func TestSendRetryDoesNotDoublePost(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	d := notify.Delivery{ID: 5, Version: 1, Attempt: 1, Message: notifytest.Cases()["group"]}
	first, err := ch.Send(t.Context(), d)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	newer := notifytest.Cases()["critical_firing"]
	d.Version, d.Attempt, d.Message = 2, 2, newer
	second, err := ch.Send(t.Context(), d)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if first != second {
		t.Errorf("retry returned ref %s, want %s", second, first)
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages after a retry, want 1", len(msgs))
	}
	if !strings.HasPrefix(msgs[0].Body, newer.Headline()) || msgs[0].Edits != 1 {
		t.Errorf("after the retry the message is %q with %d edits; want the newer content in one edit", msgs[0].Body, msgs[0].Edits)
	}

	// A retried edit is one edit.
	e := notify.Delivery{ID: 5, Version: 3, Ref: first, Message: notifytest.Cases()["group"]}
	for range 2 {
		if _, err := ch.Send(t.Context(), e); err != nil {
			t.Fatalf("edit: %v", err)
		}
	}
	if msgs := botMessages(fake, room); len(msgs) != 1 || msgs[0].Edits != 2 {
		t.Errorf("got %d messages, first with %d edits, after a retried edit; want 1 with 2", len(msgs), msgs[0].Edits)
	}
}

func TestSendRemind(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	m := notifytest.Cases()["critical_firing"]
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.Delivery{ID: 3, Version: 2, Ref: r, Remind: true, Message: m}
	for range 2 { // the second is a retry: no second reminder
		if _, err := ch.Send(t.Context(), d); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 2 {
		t.Fatalf("got %d bot messages, want the alert and one reminder", len(msgs))
	}
	alert, rem := msgs[0], msgs[1]
	if rem.RelType != "m.thread" || rem.RelatesTo != alert.EventID || rem.InReplyTo != alert.EventID {
		t.Errorf("reminder relates %s %s (reply to %s), want m.thread of %s", rem.RelType, rem.RelatesTo, rem.InReplyTo, alert.EventID)
	}
	if rem.TxnID != d.IdempotencyKey()+".remind" {
		t.Errorf("reminder txn %q", rem.TxnID)
	}
	if !strings.Contains(rem.Body, "still FIRING") || !strings.Contains(rem.Body, `"ack 12"`) {
		t.Errorf("reminder body: %q", rem.Body)
	}
	if strings.Join(rem.Mentions, ",") != alice+","+bob {
		t.Errorf("critical reminder mentions %v", rem.Mentions)
	}
}

func TestSendErrors(t *testing.T) {
	d := notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]}
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		permanent  bool
		wantWait   time.Duration
	}{
		{"rate limited", 429, 1500 * time.Millisecond, false, 1500 * time.Millisecond},
		{"server error", 502, 0, false, 0},
		{"unknown token", 401, 0, true, 0},
		{"forbidden", 403, 0, true, 0},
		{"unknown room", 404, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, room, ch := fakeRoom(t)
			fake.Fail(1, tt.status, tt.retryAfter)
			_, err := ch.Send(t.Context(), d)
			if err == nil {
				t.Fatal("got no error")
			}
			if notify.IsPermanent(err) != tt.permanent {
				t.Errorf("got permanent %v, want %v: %v", notify.IsPermanent(err), tt.permanent, err)
			}
			var de *notify.DeliveryError
			if errors.As(err, &de) && de.RetryAfter != tt.wantWait {
				t.Errorf("got retry after %v, want %v", de.RetryAfter, tt.wantWait)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("error %q does not name the status", err)
			}
			if tt.permanent {
				return
			}
			// The retry goes through.
			if _, err := ch.Send(t.Context(), d); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := len(botMessages(fake, room)); n != 1 {
				t.Errorf("got %d messages, want 1", n)
			}
		})
	}
}

func TestSendSecretNotInErrors(t *testing.T) {
	fake, _, _ := fakeRoom(t)
	ch := newChannelToken(t, fake.URL, "wrong-s3cr3t", alias)
	_, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "M_UNKNOWN_TOKEN") {
		t.Fatalf("got %v, want a permanent M_UNKNOWN_TOKEN error", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows the token: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", ch, ch, ch, ch); strings.Contains(s, "s3cr3t") {
		t.Errorf("channel prints its token: %s", s)
	}
}

func TestSendUnknownAlias(t *testing.T) {
	fake, _, _ := fakeRoom(t)
	ch := newChannel(t, fake.URL, "#nowhere:example.org")
	_, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "#nowhere:example.org") {
		t.Errorf("got %v, want a permanent error naming the alias", err)
	}
}

func TestSendBadRef(t *testing.T) {
	_, _, ch := fakeRoom(t)
	_, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 2, Ref: "not json", Message: notifytest.Cases()["warning_firing"]})
	if !notify.IsPermanent(err) {
		t.Errorf("got %v, want a permanent error", err)
	}
}

func TestSendTimeout(t *testing.T) {
	fake, _, ch := fakeRoom(t)
	_ = fake
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ch.Send(ctx, notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want a retryable context error", err)
	}
}

func TestNoteInThread(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: r, Note: notifytest.Notes()["note"]}
	for range 2 { // the second is a retry after a lost answer: deduplicated
		if err := ch.Note(t.Context(), n); err != nil {
			t.Fatalf("Note: %v", err)
		}
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 2 {
		t.Fatalf("got %d bot messages, want the alert and one note", len(msgs))
	}
	alert, note := msgs[0], msgs[1]
	if note.RelType != "m.thread" || note.RelatesTo != alert.EventID || note.InReplyTo != alert.EventID {
		t.Errorf("note relates %s %s (reply to %s), want m.thread of %s", note.RelType, note.RelatesTo, note.InReplyTo, alert.EventID)
	}
	if note.TxnID != n.Key {
		t.Errorf("note txn %q, want %q", note.TxnID, n.Key)
	}
	if note.MsgType != "m.notice" || len(note.Mentions) != 0 {
		t.Errorf("note is %s mentioning %v, want a notice mentioning nobody", note.MsgType, note.Mentions)
	}
	if n := fake.Calls("send"); n != 3 {
		t.Errorf("got %d send calls, want 3 (post, note, retried note)", n)
	}
	for _, want := range []string{"<details><summary>✅ <code>kubectl -n prod get pod api-7d9f -o wide</code> — exit 0 in 0.4s</summary>", "<p>⛔ <code>kubectl -n prod delete pod api-7d9f</code>"} {
		if !strings.Contains(note.FormattedBody, want) {
			t.Errorf("formatted_body lacks %s:\n%s", want, note.FormattedBody)
		}
	}

	// Another note is another transaction.
	n.Key = "klaxon-note-7-2"
	if err := ch.Note(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if got := len(botMessages(fake, room)); got != 3 {
		t.Errorf("got %d bot messages after a second note, want 3", got)
	}
}

func TestNoteErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		permanent bool
		wantWait  time.Duration
	}{
		{"rate limited", 429, false, 2 * time.Second},
		{"server error", 503, false, 0},
		{"forbidden", 403, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, _, ch := fakeRoom(t)
			r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: notifytest.Cases()["warning_firing"]})
			if err != nil {
				t.Fatal(err)
			}
			fake.Fail(1, tt.status, tt.wantWait)
			err = ch.Note(t.Context(), notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: r, Note: notifytest.Notes()["note"]})
			if err == nil || notify.IsPermanent(err) != tt.permanent {
				t.Fatalf("got %v, want permanent %v", err, tt.permanent)
			}
			var de *notify.DeliveryError
			if errors.As(err, &de) && de.RetryAfter != tt.wantWait {
				t.Errorf("got retry after %v, want %v", de.RetryAfter, tt.wantWait)
			}
		})
	}
	_, _, ch := fakeRoom(t)
	for name, n := range map[string]notify.NoteDelivery{
		"bad ref": {Key: "k", Ref: "not json", Note: notifytest.Notes()["note"]},
		"no note": {Key: "k", Ref: ref{Room: "!r:example.org", Event: "$e"}.String()},
		"no key":  {Ref: ref{Room: "!r:example.org", Event: "$e"}.String(), Note: notifytest.Notes()["note"]},
	} {
		if err := ch.Note(t.Context(), n); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want a permanent error", name, err)
		}
	}
}
