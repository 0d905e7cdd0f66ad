package matrix

import (
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/dendritetest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// TestDendrite runs the channel against a real homeserver: post a
// critical alert to a room the bot was invited to, edit it, remind, and
// answer "ack 12" typed by a person, in the thread.
func TestDendrite(t *testing.T) {
	srv := dendritetest.Start(t)
	aliceID, aliceToken := srv.Register(t, "alice")
	botUser, token := srv.Register(t, "klaxon")
	room := srv.CreateRoom(t, aliceToken, "alerts", botUser)
	ch := newChannelToken(t, srv.URL, token, "#alerts:"+dendritetest.ServerName, aliceID)
	cases := notifytest.Cases()

	// Post, retry (no second post), edit, remind.
	first := notify.Delivery{ID: 1, Version: 1, Message: cases["critical_firing"]}
	r, err := ch.Send(t.Context(), first)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if again, err := ch.Send(t.Context(), first); err != nil || again != r {
		t.Fatalf("retried Send: got %s, %v; want %s", again, err, r)
	}
	posted := must(parseRef(r))
	if posted.Room != room {
		t.Errorf("posted to %s, want %s", posted.Room, room)
	}
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 2, Ref: r, Remind: true, Message: cases["critical_acked"]}); err != nil {
		t.Fatalf("edit: %v", err)
	}

	// The reminder is sent last: once it is listed, a double post would be.
	msgs := srv.WaitMessages(t, aliceToken, room, "the reminder", func(ms []dendritetest.Event) bool {
		for _, m := range ms {
			if m.Sender == botUser && m.RelType == "m.thread" {
				return true
			}
		}
		return false
	})
	var original, edit, reminder *dendritetest.Event
	for i, m := range msgs {
		switch {
		case m.Sender != botUser:
		case m.EventID == posted.Event:
			original = &msgs[i]
		case m.RelType == "m.replace":
			edit = &msgs[i]
		case m.RelType == "m.thread":
			reminder = &msgs[i]
		}
	}
	if len(msgs) != 3 || original == nil || edit == nil || reminder == nil {
		t.Fatalf("got messages %+v, want the alert, one edit and one reminder", msgs)
	}
	if !strings.Contains(original.Body, "FIRING") || len(original.Mentions) != 1 || original.Mentions[0] != aliceID {
		t.Errorf("original: body %q, mentions %v", original.Body, original.Mentions)
	}
	if !strings.Contains(original.FormattedBody, `<a href="https://matrix.to/#/`+aliceID+`">`) {
		t.Errorf("original has no pill for %s: %s", aliceID, original.FormattedBody)
	}
	if edit.RelatesTo != posted.Event || !strings.Contains(edit.NewContent["body"].(string), "ACKNOWLEDGED by @alice:example.org") {
		t.Errorf("edit relates to %s with m.new_content %v", edit.RelatesTo, edit.NewContent)
	}
	if reminder.RelatesTo != posted.Event {
		t.Errorf("reminder in the thread of %s, want %s", reminder.RelatesTo, posted.Event)
	}

	// Commands.
	cmd, cur := &commander{}, &memCursor{}
	// Typed before the listener first starts (and visible by then): not
	// replayed.
	early := srv.Say(t, aliceToken, room, "ack 77")
	srv.WaitMessages(t, aliceToken, room, "ack 77", func(ms []dendritetest.Event) bool {
		return len(ms) > 0 && ms[len(ms)-1].EventID == early
	})
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	ev := srv.Say(t, aliceToken, room, "ack 12")
	var reply *dendritetest.Event
	srv.WaitMessages(t, aliceToken, room, "the reply in the thread", func(ms []dendritetest.Event) bool {
		for _, m := range ms {
			if m.Sender == botUser && m.RelType == "m.thread" && m.RelatesTo == ev {
				reply = &m
				return true
			}
		}
		return false
	})
	if reply.MsgType != "m.notice" || reply.InReplyTo != ev || !strings.HasPrefix(reply.Body, "Acknowledged 12") {
		t.Errorf("reply: %+v", reply)
	}
	got := cmd.commands()
	if len(got) != 1 || got[0] != (notify.Command{Channel: "ops", Actor: aliceID, Text: "ack 12"}) {
		t.Errorf("got commands %+v, want alice's ack 12 only (not %s)", got, early)
	}
}
