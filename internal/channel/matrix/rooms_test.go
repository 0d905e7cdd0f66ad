package matrix

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagetest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// roomRequest is the sample incident room: everyone invited, mallory's
// hostile name and identities included.
func roomRequest() notify.RoomRequest {
	return notify.RoomRequest{
		Key:    "klaxon-incident-4",
		Name:   "incident-20261121-api-requests-failing",
		Topic:  "SEV1 investigating · commander: alice",
		Text:   "SEV1: API requests failing\nCommander: alice\nNext update in 2m",
		Invite: []klaxon.User{pagetest.Alice(), pagetest.Bob(), pagetest.Carol(), pagetest.Mallory(), pagetest.Alice()},
	}
}

// hostilePost is the sample room post: markup and mass mentions in its
// text, and mallory among the people.
func hostilePost(room string) notify.RoomPost {
	return notify.RoomPost{
		Key:    "klaxon-incident-4-post-1",
		Room:   room,
		Text:   "Update: <script>alert(1)</script> @everyone <!channel> @room <users/all> *bold* `x` & <https://evil.example|click>",
		People: []klaxon.User{pagetest.Mallory(), pagetest.Alice(), pagetest.Bob()},
	}
}

func TestOpenRoom(t *testing.T) {
	fake, _, ch := fakeRoom(t)
	room, err := ch.OpenRoom(t.Context(), roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	made := fake.CreatedRooms()
	if len(made) != 1 || made[0].ID != room {
		t.Fatalf("got rooms %+v and room %q, want one room, its ID returned", made, room)
	}
	r := made[0]
	if r.Creator != botID || r.JoinRule != "invite" || strings.Join(r.Members, ",") != botID {
		t.Errorf("got room %+v, want a private room the bot made and is alone in", r)
	}
	if got := strings.Join(r.Invited, ","); got != alice+","+carol {
		t.Errorf("invited %s, want alice and carol (bob and mallory have no Matrix ID)", got)
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want the first post", len(msgs))
	}
	first := msgs[0]
	if first.MsgType != "m.text" || strings.Join(first.Mentions, ",") != alice+","+carol || first.TxnID != "klaxon-incident-4.open" {
		t.Errorf("first post is %s mentioning %v under txn %q", first.MsgType, first.Mentions, first.TxnID)
	}
	checkSafeHTML(t, first.FormattedBody)
	checkBalanced(t, first.FormattedBody)
	golden := map[string]any{
		"room":    map[string]any{"name": r.Name, "topic": r.Topic, "invited": r.Invited},
		"message": first.Content,
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_open.golden"), indentJSON(t, golden), *update)
}

func TestOpenRoomErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, false, 3 * time.Second},
		{"500", http.StatusInternalServerError, false, 0},
		{"forbidden", http.StatusForbidden, true, 0},
		{"bad token", http.StatusUnauthorized, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, _, ch := fakeRoom(t)
			fake.Fail(1, tc.status, tc.retryAfter)
			_, err := ch.OpenRoom(t.Context(), roomRequest())
			checkClass(t, err, tc.permanent, tc.retryAfter)
			if len(fake.CreatedRooms()) != 0 {
				t.Errorf("a room was made: %+v", fake.CreatedRooms())
			}
		})
	}
	ch := newChannel(t, "http://127.0.0.1:1", alias)
	for name, r := range map[string]notify.RoomRequest{
		"no key":  {Name: "incident-x", Text: "x"},
		"no name": {Key: "k", Text: "x"},
	} {
		if _, err := ch.OpenRoom(t.Context(), r); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
}

func checkClass(t *testing.T, err error, permanent bool, retryAfter time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	if got := notify.IsPermanent(err); got != permanent {
		t.Errorf("permanent: got %v, want %v (%v)", got, permanent, err)
	}
	var de *notify.DeliveryError
	if errors.As(err, &de) && de.RetryAfter != retryAfter {
		t.Errorf("retry after: got %v, want %v", de.RetryAfter, retryAfter)
	} else if !errors.As(err, &de) && retryAfter != 0 {
		t.Errorf("retry after: got none, want %v", retryAfter)
	}
}

func TestPostRoom(t *testing.T) {
	fake, _, ch := fakeRoom(t)
	room, err := ch.OpenRoom(t.Context(), roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	p := hostilePost(room)
	for range 2 { // the second is a retry after a lost answer: deduplicated
		if err := ch.PostRoom(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want the first post and one post", len(msgs))
	}
	post := msgs[1]
	if post.TxnID != p.Key || post.RelType != "" || post.MsgType != "m.text" || strings.Join(post.Mentions, ",") != alice {
		t.Errorf("post: txn %q, relation %q, %s mentioning %v; want the key, in the room, an m.text mentioning alice", post.TxnID, post.RelType, post.MsgType, post.Mentions)
	}
	checkSafeHTML(t, post.FormattedBody)
	checkBalanced(t, post.FormattedBody)
	for _, bad := range []string{"<script", "<b>mal", "evil.example\">", "@evil:example.org"} {
		if strings.Contains(post.FormattedBody, bad) {
			t.Errorf("formatted_body contains %q:\n%s", bad, post.FormattedBody)
		}
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_post_hostile.golden"), indentJSON(t, post.Content), *update)
}

func TestPostRoomErrors(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	fake.Fail(1, http.StatusTooManyRequests, 2*time.Second)
	checkClass(t, ch.PostRoom(t.Context(), notify.RoomPost{Key: "k", Room: room, Text: "x"}), false, 2*time.Second)
	// The bot is not in it.
	other := fake.CreateRoom("", alice)
	checkClass(t, ch.PostRoom(t.Context(), notify.RoomPost{Key: "k", Room: other, Text: "x"}), true, 0)
	checkClass(t, ch.PostRoom(t.Context(), notify.RoomPost{Key: "k", Room: "!gone:example.org", Text: "x"}), true, 0)
	for name, p := range map[string]notify.RoomPost{
		"no key":    {Room: room, Text: "x"},
		"alias":     {Key: "k", Room: alias, Text: "x"},
		"nothing":   {Key: "k", Room: room, Text: " "},
		"not an ID": {Key: "k", Room: "!a b:example.org", Text: "x"},
	} {
		if err := ch.PostRoom(t.Context(), p); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
}

func TestSetTopic(t *testing.T) {
	fake, _, ch := fakeRoom(t)
	room, err := ch.OpenRoom(t.Context(), roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	topic := "SEV1 identified · commander: bob <b>&</b>"
	if err := ch.SetTopic(t.Context(), room, topic); err != nil {
		t.Fatal(err)
	}
	if r, _ := fake.Room(room); r.Topic != topic {
		t.Errorf("got topic %q, want %q as it is: a topic is plain text", r.Topic, topic)
	}
	other := fake.CreateRoom("", alice)
	checkClass(t, ch.SetTopic(t.Context(), other, "x"), true, 0)
	if err := ch.SetTopic(t.Context(), alias, "x"); !notify.IsPermanent(err) {
		t.Errorf("alias: got %v, want permanent", err)
	}
}

// TestListenIncidentRoom checks commands typed in a room OpenRoom made run
// with that room as Command.Room and are answered there.
func TestListenIncidentRoom(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	cmd, cur := &commander{}, &memCursor{}
	listen(t, ch, cmd, cur)
	waitFor(t, "the first sync position", func() bool { return cur.get() != "" })
	incident, err := ch.OpenRoom(t.Context(), roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	ev := fake.Say(alice, incident, "ack 12")
	waitFor(t, "the reply", func() bool { return len(replyTo(fake, incident, ev)) == 1 })
	if got := replyTo(fake, incident, ev)[0]; got.RelType != "m.thread" || got.RelatesTo != ev {
		t.Errorf("reply relates %s to %s, want the command's thread", got.RelType, got.RelatesTo)
	}
	last := fake.Say(alice, room, "ack 13")
	waitFor(t, "the reply in the alerts room", func() bool { return len(replyTo(fake, room, last)) == 1 })
	want := []notify.Command{
		{Channel: "ops", Room: incident, Actor: alice, Text: "ack 12"},
		{Channel: "ops", Room: room, Actor: alice, Text: "ack 13"},
	}
	if got := cmd.commands(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got commands %+v, want %+v", got, want)
	}
	if n := len(botMessages(fake, room)); n != 1 {
		t.Errorf("got %d bot messages in the alerts room, want only its own reply", n)
	}
}
