package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagetest"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// roomRequest is the sample incident room: everyone invited, mallory's
// hostile name and a hostile topic included.
func roomRequest() notify.RoomRequest {
	return notify.RoomRequest{
		Key:    "klaxon-incident-4",
		Name:   "incident-20261121-api-requests-failing",
		Topic:  "SEV1 investigating · commander: alice <!channel> & <script>",
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
		Text:   "Update: <script>alert(1)</script> @everyone <!channel> <!here> @room <users/all> *bold* `x` & <https://evil.example|click>",
		People: []klaxon.User{pagetest.Mallory(), pagetest.Alice(), pagetest.Carol()},
	}
}

// message is a posted message as the goldens show it.
func message(t *testing.T, m chattest.SlackMessage) map[string]any {
	t.Helper()
	out := map[string]any{"text": m.Text}
	if m.Metadata != nil {
		var v any
		if err := json.Unmarshal(m.Metadata, &v); err != nil {
			t.Fatal(err)
		}
		out["metadata"] = v
	}
	return out
}

func TestOpenRoom(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	room, err := ch.OpenRoom(context.Background(), roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	made := s.Channels()
	if len(made) != 1 || made[0].ID != room {
		t.Fatalf("got channels %+v and room %q, want one channel, its ID returned", made, room)
	}
	c := made[0]
	if c.Name != "incident-20261121-api-requests-failing" || c.Private {
		t.Errorf("got channel %q private %v, want the name, public", c.Name, c.Private)
	}
	if got := strings.Join(c.Members, ","); got != chattest.SlackBotUserID+",U0ALICE,U0BOB" {
		t.Errorf("members: got %s, want the bot, alice and bob (carol and mallory have no Slack ID)", got)
	}
	if want := "SEV1 investigating · commander: alice &lt;!channel&gt; &amp; &lt;script&gt;"; c.Topic != want {
		t.Errorf("topic: got %q, want %q", c.Topic, want)
	}
	msgs := s.Messages(room)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages in the room, want the first post", len(msgs))
	}
	if !strings.HasPrefix(msgs[0].Text, "SEV1: API requests failing\nCommander: alice\nNext update in 2m\n<@U0ALICE>, <@U0BOB>, Carol Smith, &lt;@U123&gt;") {
		t.Errorf("first post: got %q", msgs[0].Text)
	}
	if n := s.Posts(); n != 1 || len(s.Messages(testChannel)) != 0 {
		t.Errorf("got %d posts, %d in the alerts channel; want the first post only", n, len(s.Messages(testChannel)))
	}

	golden := map[string]any{
		"channel": map[string]any{"name": c.Name, "topic": c.Topic, "members": c.Members},
		"message": message(t, msgs[0]),
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_open.golden"), pretty(t, golden), *update)
}

func TestOpenRoomNameTaken(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	r := roomRequest()
	s.CreateChannel(r.Name)
	s.CreateChannel(r.Name + "-2")
	room, err := ch.OpenRoom(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Channel(room); c.Name != r.Name+"-3" {
		t.Errorf("got channel %q, want %s-3", c.Name, r.Name)
	}
	if n := s.Calls("conversations.create"); n != 3 {
		t.Errorf("got %d conversations.create calls, want 3", n)
	}

	// Every name taken: nothing to retry.
	for i := 1; i <= nameTries; i++ {
		s.CreateChannel(channelName("other", i))
	}
	if _, err := ch.OpenRoom(context.Background(), notify.RoomRequest{Key: "k", Name: "other", Text: "x"}); !notify.IsPermanent(err) {
		t.Errorf("all names taken: got %v, want a permanent error", err)
	}
}

func TestChannelName(t *testing.T) {
	long := strings.Repeat("a", 78) + "-b"
	for _, tc := range []struct {
		name string
		n    int
		want string
	}{
		{"incident-x", 1, "incident-x"},
		{"incident-x", 2, "incident-x-2"},
		{long, 1, long},
		{long, 2, strings.Repeat("a", 78) + "-2"},
		{long, 10, strings.Repeat("a", 77) + "-10"},
	} {
		if got := channelName(tc.name, tc.n); got != tc.want || len(got) > maxChannelName {
			t.Errorf("channelName(%q, %d): got %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
}

// TestOpenRoomAfterCreate checks that once the channel exists, a failed
// invite does not fail OpenRoom (a retry would make a second channel) nor
// keep the others out.
func TestOpenRoomAfterCreate(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	r := roomRequest()
	// The bot itself among the people: Slack refuses to invite it.
	r.Invite = append([]klaxon.User{{Name: "klaxon", Slack: chattest.SlackBotUserID}}, r.Invite...)
	room, err := ch.OpenRoom(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Channel(room)
	if got := strings.Join(c.Members, ","); got != chattest.SlackBotUserID+",U0ALICE,U0BOB" || c.Topic == "" || len(s.Messages(room)) != 1 {
		t.Errorf("got members %s, topic %q, %d messages; want alice and bob invited, the topic set, the first post", got, c.Topic, len(s.Messages(room)))
	}
}

func TestOpenRoomErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       func(*chattest.Slack)
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", func(s *chattest.Slack) { s.Fail(1, http.StatusTooManyRequests, "20") }, false, 20 * time.Second},
		{"503", func(s *chattest.Slack) { s.Fail(1, http.StatusServiceUnavailable, "") }, false, 0},
		{"missing_scope", func(s *chattest.Slack) { s.FailWith(1, "missing_scope") }, true, 0},
		{"invalid_name_specials", func(s *chattest.Slack) { s.FailWith(1, "invalid_name_specials") }, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chattest.NewSlack(t)
			ch := newChannel(t, s)
			tc.fail(s)
			_, err := ch.OpenRoom(context.Background(), roomRequest())
			checkClass(t, err, tc.permanent, tc.retryAfter)
			if len(s.Channels()) != 0 {
				t.Errorf("a channel was made: %+v", s.Channels())
			}
		})
	}
	ch := newChannel(t, chattest.NewSlack(t))
	if _, err := ch.OpenRoom(context.Background(), notify.RoomRequest{Key: "k", Text: "x"}); !notify.IsPermanent(err) {
		t.Errorf("no name: got %v, want permanent", err)
	}
}

// checkClass checks err is classified as permanent or not, with the wait
// Slack asked for.
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
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	room, err := ch.OpenRoom(ctx, roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.PostRoom(ctx, notify.RoomPost{Key: "p1", Room: room, Text: "Status: identified", People: []klaxon.User{pagetest.Bob()}}); err != nil {
		t.Fatal(err)
	}
	if err := ch.PostRoom(ctx, hostilePost(room)); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(room)
	if len(msgs) != 3 || msgs[1].Text != "Status: identified\n<@U0BOB>" || msgs[1].ThreadTS != "" {
		t.Fatalf("got %+v, want the first post, then the posts in the channel itself", msgs)
	}
	if m := string(msgs[1].Metadata); !strings.Contains(m, `"event_type":"klaxon_room"`) || !strings.Contains(m, `"key":"p1"`) {
		t.Errorf("metadata: %s", m)
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_post_hostile.golden"), pretty(t, message(t, msgs[2])), *update)
}

// TestRoomHostileIsEscaped checks the room posts and topic: the only <…>
// sequences are mentions of people with a well-formed Slack ID.
func TestRoomHostileIsEscaped(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	r := roomRequest()
	r.Text, r.Topic = hostilePost("").Text, hostilePost("").Text
	room, err := ch.OpenRoom(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.PostRoom(ctx, hostilePost(room)); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Channel(room)
	texts := []string{c.Topic}
	for _, m := range s.Messages(room) {
		texts = append(texts, m.Text)
	}
	for _, text := range texts {
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(text, -1) {
			if tok != "<@U0ALICE>" && tok != "<@U0BOB>" {
				t.Errorf("a <…> sequence the renderer did not make: %q in %q", tok, text)
			}
		}
	}
}

func TestPostRoomErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       func(*chattest.Slack)
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", func(s *chattest.Slack) { s.Fail(1, http.StatusTooManyRequests, "3") }, false, 3 * time.Second},
		{"channel_not_found", func(s *chattest.Slack) { s.FailWith(1, "channel_not_found") }, true, 0},
		{"is_archived", func(s *chattest.Slack) { s.FailWith(1, "is_archived") }, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chattest.NewSlack(t)
			ch := newChannel(t, s)
			tc.fail(s)
			checkClass(t, ch.PostRoom(context.Background(), notify.RoomPost{Key: "k", Room: "C0ROOM0001", Text: "x"}), tc.permanent, tc.retryAfter)
		})
	}
	ch := newChannel(t, chattest.NewSlack(t))
	for name, p := range map[string]notify.RoomPost{
		"not a channel": {Key: "k", Room: "#incident-4", Text: "x"},
		"nothing":       {Key: "k", Room: "C0ROOM0001", Text: " "},
	} {
		if err := ch.PostRoom(context.Background(), p); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
}

func TestSetTopic(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	room, err := ch.OpenRoom(ctx, roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.SetTopic(ctx, room, "SEV2\nmitigated · commander: bob"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Channel(room); c.Topic != "SEV2 mitigated · commander: bob" {
		t.Errorf("got topic %q, want it on one line", c.Topic)
	}
	// Past Slack's 250 characters, escaping included: cut, not refused.
	if err := ch.SetTopic(ctx, room, strings.Repeat("<", 100)+strings.Repeat("x", 300)); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Channel(room)
	if n := len([]rune(c.Topic)); n > maxTopic || !strings.HasSuffix(c.Topic, "…") || !strings.HasPrefix(c.Topic, "&lt;&lt;") {
		t.Errorf("got a topic of %d characters: %q", n, c.Topic)
	}
	if err := ch.SetTopic(ctx, "C0NOSUCH", "x"); !notify.IsPermanent(err) {
		t.Errorf("unknown channel: got %v, want permanent", err)
	}
	if err := ch.SetTopic(ctx, "#incident", "x"); !notify.IsPermanent(err) {
		t.Errorf("not a channel ID: got %v, want permanent", err)
	}
}

// TestCommandRoom checks every inbound command carries the channel it was
// typed in as its room, as OpenRoom names rooms.
func TestCommandRoom(t *testing.T) {
	in := newInbound(t)
	in.event(chattest.SlackEvent{EventID: "Ev1", User: "U0ALICE", Text: "ack 12", Channel: "C0ROOM0001", TS: "1.1"})
	in.do("commands", chattest.SlackSlashCommandForm(chattest.SlackSlashCommand{
		Command: "/klaxon", Text: "status", UserID: "U0ALICE", ChannelID: "C0ROOM0002",
	}), formType, testSecret, time.Now())
	in.do("interactivity", chattest.SlackBlockActionsForm(chattest.SlackAction{
		UserID: "U0ALICE", ActionID: actionAck, Value: "12", ChannelID: "C0ROOM0003", MessageTS: "1.2",
	}), formType, testSecret, time.Now())
	got := in.cmd.commands()
	if len(got) != 3 {
		t.Fatalf("got commands %+v, want 3", got)
	}
	for i, want := range []string{"C0ROOM0001", "C0ROOM0002", "C0ROOM0003"} {
		if got[i].Room != want {
			t.Errorf("command %d: got room %q, want %q", i, got[i].Room, want)
		}
	}
}
