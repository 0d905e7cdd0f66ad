package matrix

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
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
	if len(got) != 1 || got[0] != (notify.Command{Channel: "ops", Room: room, Actor: aliceID, Text: "ack 12"}) {
		t.Errorf("got commands %+v, want alice's ack 12 only (not %s)", got, early)
	}
}

// TestDendriteRooms opens an incident room on a real homeserver: private,
// with alice invited and the topic set; then posts in it (once, retried),
// changes its topic, and answers a command typed there, in that room.
func TestDendriteRooms(t *testing.T) {
	srv := dendritetest.Start(t)
	aliceID, aliceToken := srv.Register(t, "alice")
	botUser, token := srv.Register(t, "klaxon")
	srv.CreateRoom(t, aliceToken, "alerts", botUser)
	ch := newChannelToken(t, srv.URL, token, "#alerts:"+dendritetest.ServerName)
	aliceUser := klaxon.User{Name: "alice", Matrix: aliceID}

	room, err := ch.OpenRoom(t.Context(), notify.RoomRequest{
		Key: "klaxon-incident-1", Name: "incident-20261121-api-down", Topic: "SEV1 investigating",
		Text: "SEV1: API down", Invite: []klaxon.User{aliceUser},
	})
	if err != nil {
		t.Fatalf("OpenRoom: %v", err)
	}
	srv.Join(t, aliceToken, room) // a private room: only the invited can
	if got := roomState(t, srv.URL, aliceToken, room, "m.room.topic")["topic"]; got != "SEV1 investigating" {
		t.Errorf("topic: got %v", got)
	}
	if got := roomState(t, srv.URL, aliceToken, room, "m.room.name")["name"]; got != "incident-20261121-api-down" {
		t.Errorf("name: got %v", got)
	}
	if got := roomState(t, srv.URL, aliceToken, room, "m.room.join_rules")["join_rule"]; got != "invite" {
		t.Errorf("join rule: got %v, want invite", got)
	}

	post := notify.RoomPost{Key: "klaxon-incident-1-post-1", Room: room, Text: "Status: identified", People: []klaxon.User{aliceUser}}
	for range 2 { // the second is a retry: deduplicated
		if err := ch.PostRoom(t.Context(), post); err != nil {
			t.Fatalf("PostRoom: %v", err)
		}
	}
	msgs := srv.WaitMessages(t, aliceToken, room, "the post", func(ms []dendritetest.Event) bool {
		return len(ms) > 0 && strings.HasPrefix(ms[len(ms)-1].Body, "Status: identified")
	})
	if len(msgs) != 2 || msgs[0].Sender != botUser || !strings.HasPrefix(msgs[0].Body, "SEV1: API down\n"+aliceID) {
		t.Fatalf("got messages %+v, want the first post and one post", msgs)
	}
	if p := msgs[1]; len(p.Mentions) != 1 || p.Mentions[0] != aliceID || !strings.Contains(p.FormattedBody, `<a href="https://matrix.to/#/`+aliceID+`">alice</a>`) {
		t.Errorf("post: mentions %v, formatted_body %s", p.Mentions, p.FormattedBody)
	}

	if err := ch.SetTopic(t.Context(), room, "SEV1 identified"); err != nil {
		t.Fatalf("SetTopic: %v", err)
	}
	if got := roomState(t, srv.URL, aliceToken, room, "m.room.topic")["topic"]; got != "SEV1 identified" {
		t.Errorf("new topic: got %v", got)
	}

	cmd, cur := &commander{}, &memCursor{}
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	ev := srv.Say(t, aliceToken, room, "ack 12")
	srv.WaitMessages(t, aliceToken, room, "the reply in the incident room", func(ms []dendritetest.Event) bool {
		for _, m := range ms {
			if m.Sender == botUser && m.RelType == "m.thread" && m.RelatesTo == ev {
				return true
			}
		}
		return false
	})
	if got := cmd.commands(); len(got) != 1 || got[0] != (notify.Command{Channel: "ops", Room: room, Actor: aliceID, Text: "ack 12"}) {
		t.Errorf("got commands %+v, want alice's ack 12 in the incident room", got)
	}
}

// roomState reads a state event's content (state key "") as the holder of
// token.
func roomState(t *testing.T, homeserver, token, room, typ string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, homeserver+"/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/state/"+typ+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("state %s: HTTP %d, %v %v", typ, resp.StatusCode, out, err)
	}
	return out
}
