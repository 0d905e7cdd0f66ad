package googlechat_test

import (
	"context"
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
		People: []klaxon.User{pagetest.Mallory(), pagetest.Alice(), pagetest.Carol()},
	}
}

func rooms(t *testing.T, ch notify.Channel) notify.Rooms {
	t.Helper()
	r, ok := ch.(notify.Rooms)
	if !ok {
		t.Fatalf("%T is not a notify.Rooms", ch)
	}
	return r
}

func TestOpenRoom(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := rooms(t, newChannel(t, fake.URL, mentions))
	var names []string
	for range 2 { // the second is a retry after a lost answer
		room, err := ch.OpenRoom(context.Background(), roomRequest())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, room)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || fake.Posts() != 2 {
		t.Fatalf("got %d messages from %d posts, want one", len(msgs), fake.Posts())
	}
	first := msgs[0]
	if names[0] != first.ThreadName || names[1] != first.ThreadName || !strings.HasPrefix(first.ThreadName, "spaces/AAAAklaxon/threads/") {
		t.Errorf("got rooms %q, want the thread %q", names, first.ThreadName)
	}
	if first.ThreadKey != "klaxon-room-klaxon-incident-4" || first.Query.Get("requestId") != "klaxon-incident-4.open" {
		t.Errorf("thread key %q, request ID %q", first.ThreadKey, first.Query.Get("requestId"))
	}
	want := "SEV1: API requests failing\nCommander: alice\nNext update in 2m\n<users/111>, <users/222>, Carol Smith, &lt;@U123&gt;"
	if !strings.HasPrefix(first.Text, want) {
		t.Errorf("first post: got %q, want it to start %q", first.Text, want)
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_open.golden"), indented(t, first.Body), *update)

	// Another incident: another thread.
	r := roomRequest()
	r.Key = "klaxon-incident-5"
	other, err := ch.OpenRoom(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if other == names[0] {
		t.Errorf("two incidents share the thread %s", other)
	}
}

func TestPostRoom(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := rooms(t, newChannel(t, fake.URL, mentions))
	ctx := context.Background()
	room, err := ch.OpenRoom(ctx, roomRequest())
	if err != nil {
		t.Fatal(err)
	}
	p := hostilePost(room)
	for range 2 { // the second is a retry after a lost answer
		if err := ch.PostRoom(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	thread := fake.ThreadNamed(room)
	if len(thread) != 2 || len(fake.Messages()) != 2 {
		t.Fatalf("got %d messages in the thread, %d in all; want the first post and one post", len(thread), len(fake.Messages()))
	}
	post := thread[1]
	if !post.Reply || post.Query.Get("requestId") != p.Key || post.Query.Get("messageReplyOption") != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" {
		t.Errorf("post: reply %v, query %v", post.Reply, post.Query)
	}
	for _, text := range []string{thread[0].Text, post.Text} {
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(text, -1) {
			if !ourTokens.MatchString(tok) || tok == "<users/all>" {
				t.Errorf("text has a <…> sequence the renderer did not make: %q in %q", tok, text)
			}
		}
	}
	notifytest.Golden(t, filepath.Join("testdata", "room_post_hostile.golden"), indented(t, post.Body), *update)

	if err := ch.SetTopic(ctx, room, "SEV1 identified"); err != nil || len(fake.Messages()) != 2 {
		t.Errorf("SetTopic: got %v and %d messages, want nothing done", err, len(fake.Messages()))
	}
}

func TestRoomErrors(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := rooms(t, newChannel(t, fake.URL, mentions))
	ctx := context.Background()
	for _, tc := range []struct {
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{http.StatusTooManyRequests, "5", false, 5 * time.Second},
		{http.StatusServiceUnavailable, "", false, 0},
		{http.StatusForbidden, "", true, 0},
	} {
		fake.Fail(1, tc.status, tc.retryAfter)
		_, err := ch.OpenRoom(ctx, roomRequest())
		fake.Fail(1, tc.status, tc.retryAfter)
		errPost := ch.PostRoom(ctx, notify.RoomPost{Key: "k", Room: "spaces/AAAAklaxon/threads/t1", Text: "x"})
		for _, err := range []error{err, errPost} {
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || de.RetryAfter != tc.wait {
				t.Errorf("HTTP %d: got %v, want permanent %v, retry after %v", tc.status, err, tc.permanent, tc.wait)
			}
		}
	}
	for name, err := range map[string]error{
		"open, no key":       func() error { _, err := ch.OpenRoom(ctx, notify.RoomRequest{Text: "x"}); return err }(),
		"open, nothing":      func() error { _, err := ch.OpenRoom(ctx, notify.RoomRequest{Key: "k"}); return err }(),
		"post, not a thread": ch.PostRoom(ctx, notify.RoomPost{Key: "k", Room: "klaxon-room-4", Text: "x"}),
		"post, nothing":      ch.PostRoom(ctx, notify.RoomPost{Key: "k", Room: "spaces/AAAAklaxon/threads/t1"}),
	} {
		if !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("got %d messages, want none", n)
	}
}
