package googlechat_test

import (
	"bytes"
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

// chatChannel is a channel that is also a Chat.
type chatChannel interface {
	notify.Channel
	notify.Chat
}

func chat(t *testing.T, ch notify.Channel) chatChannel {
	t.Helper()
	c, ok := ch.(chatChannel)
	if !ok {
		t.Fatalf("%T is not a notify.Chat", ch)
	}
	return c
}

func TestMentionOf(t *testing.T) {
	ch := chat(t, newChannel(t, chattest.NewGoogleChat(t).URL, ""))
	for _, tc := range []struct {
		user klaxon.User
		want string
	}{
		{pagetest.Alice(), "users/111"},
		{pagetest.Bob(), "users/222"},
		{pagetest.Carol(), ""},
		{pagetest.Mallory(), ""},
		{klaxon.User{Name: "dave", GoogleChat: "dave@example.org"}, ""},
	} {
		if got := ch.MentionOf(tc.user); got != tc.want {
			t.Errorf("MentionOf(%q): got %q, want %q", tc.user.Name, got, tc.want)
		}
	}
}

func indented(t *testing.T, body []byte) []byte {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	return got.Bytes()
}

// pageThread posts a group's card, then p in its thread, and returns the
// group's thread as the fake filed it.
func pageThread(t *testing.T, fake *chattest.GoogleChat, p notify.PageDelivery) []chattest.GoogleChatMessage {
	t.Helper()
	ch := chat(t, newChannel(t, fake.URL, mentions))
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p.Ref = ref
	if _, err := ch.Page(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return fake.Thread("klaxon-group-7")
}

// TestPageGolden posts every sample page in the group's thread, compared
// with testdata/<name>.golden.
func TestPageGolden(t *testing.T) {
	for name, p := range pagetest.Pages() {
		t.Run(name, func(t *testing.T) {
			thread := pageThread(t, chattest.NewGoogleChat(t), p)
			if len(thread) != 2 {
				t.Fatalf("got %d messages in the thread, want the card and the page", len(thread))
			}
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), indented(t, thread[1].Body), *update)
		})
	}
}

// TestOnCallGolden renders the sample first posts that call the people on
// call.
func TestOnCallGolden(t *testing.T) {
	for name, m := range pagetest.OnCall() {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewGoogleChat(t)
			if _, err := newChannel(t, fake.URL, mentions).Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: m}); err != nil {
				t.Fatal(err)
			}
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), indented(t, fake.Messages()[0].Body), *update)
		})
	}
}

// ourTokens are the only <…> sequences a page's or first post's text may
// hold: a mention of a well-formed user, or a link to Klaxon.
var ourTokens = regexp.MustCompile(`^<(users/[0-9A-Za-z]+|https://klaxon\.example\.org/[^|<>\s]+\|[^<>]*)>$`)

func TestPageHostile(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	page := pageThread(t, fake, pagetest.Pages()["page_hostile"])[1].Text
	first := chattest.NewGoogleChat(t)
	if _, err := newChannel(t, first.URL, mentions).Send(context.Background(), notify.Delivery{Message: pagetest.OnCall()["oncall_hostile"]}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{page, first.Messages()[0].Text} {
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(text, -1) {
			if !ourTokens.MatchString(tok) || tok == "<users/all>" {
				t.Errorf("text has a <…> sequence the renderer did not make: %q in %q", tok, text)
			}
		}
	}
	if want := "&lt;@U123&gt; &lt;!channel&gt; @room &lt;users/all&gt; &lt;b&gt;mal&lt;/b&gt;"; !strings.Contains(page, want) {
		t.Errorf("page does not name mallory, escaped: %q", page)
	}
}

func TestPageInThread(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := chat(t, newChannel(t, fake.URL, mentions))
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p := pagetest.Pages()["page"]
	p.Ref = ref
	var names []string
	for range 2 { // the second is a retry after a lost answer
		name, err := ch.Page(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	thread := fake.Thread("klaxon-group-7")
	if len(thread) != 2 || fake.Posts() != 3 {
		t.Fatalf("got %d messages in the thread from %d posts, want the card and one page from 3", len(thread), fake.Posts())
	}
	page := thread[1]
	if !page.Reply || page.ThreadName != thread[0].ThreadName {
		t.Errorf("the page is not a reply in the group's thread: %+v", page)
	}
	if got := page.Query.Get("requestId"); got != p.Key {
		t.Errorf("requestId: got %q, want %q", got, p.Key)
	}
	want := "Unacknowledged for 15m: escalation step 2 of 3 (policy default)\n<users/111>, <users/222>, Carol Smith\n" +
		"<https://klaxon.example.org/alerts/12|[P0] KubePodCrashLooping: prod/api-7d9f>\nSay `ack 12` to take it"
	if page.Text != want || len(page.CardsV2) != 0 {
		t.Errorf("page text:\ngot  %q\nwant %q", page.Text, want)
	}
	if names[0] != page.Name || names[1] != page.Name {
		t.Errorf("got refs %q, want %s twice", names, page.Name)
	}
}

func TestPageOnItsOwn(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := chat(t, newChannel(t, fake.URL, mentions))
	if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["critical_firing"]}); err != nil {
		t.Fatal(err)
	}
	p := pagetest.Pages()["page"] // a group's page in a space without its message
	if _, err := ch.Page(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	notice := pagetest.Pages()["page_notice"]
	notice.Key = "klaxon-handoff-1"
	if _, err := ch.Page(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 3 || len(fake.Thread("klaxon-group-7")) != 1 {
		t.Fatalf("got %d messages, %d in the group's thread; want 3 and 1", len(msgs), len(fake.Thread("klaxon-group-7")))
	}
	for _, m := range msgs[1:] {
		if m.Reply || m.ThreadKey != "" || m.ThreadName == msgs[0].ThreadName {
			t.Errorf("%q is not a post of its own: %+v", m.Text, m)
		}
	}
	if want := "Hand-off: on call for primary until 2026-11-23 09:00 UTC\n<users/111>, Carol Smith"; msgs[2].Text != want {
		t.Errorf("got %q, want %q", msgs[2].Text, want)
	}
}

func TestPageNoticeInThreadByRef(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := chat(t, newChannel(t, fake.URL, ""))
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p := pagetest.Pages()["page_notice"]
	p.Ref = ref
	if _, err := ch.Page(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 2 || !msgs[1].Reply || msgs[1].ThreadName != msgs[0].ThreadName {
		t.Errorf("got %+v, want the notice in the thread the ref names", msgs)
	}
}

func TestPageErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, "9", false, 9 * time.Second},
		{"unavailable", http.StatusServiceUnavailable, "", false, 0},
		{"invalid", http.StatusBadRequest, "", true, 0},
		{"forbidden", http.StatusForbidden, "", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewGoogleChat(t)
			ch := chat(t, newChannel(t, fake.URL, ""))
			fake.Fail(1, tc.status, tc.retryAfter)
			_, err := ch.Page(context.Background(), pagetest.Pages()["page"])
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || de.RetryAfter != tc.wait {
				t.Errorf("got %v, want permanent %v, retry after %s", err, tc.permanent, tc.wait)
			}
			noSecrets(t, fake.URL, err)
		})
	}
	fake := chattest.NewGoogleChat(t)
	stale := chat(t, newChannel(t, strings.Replace(fake.URL, "token=", "token=stale", 1), ""))
	if _, err := stale.Page(context.Background(), pagetest.Pages()["page"]); !notify.IsPermanent(err) {
		t.Errorf("wrong credentials: got %v, want permanent", err)
	} else {
		noSecrets(t, fake.URL, err)
	}
	ch := chat(t, newChannel(t, fake.URL, ""))
	notice := pagetest.Pages()["page_notice"]
	notice.Ref = "not json"
	for name, p := range map[string]notify.PageDelivery{
		"ref without thread": notice,
		"nothing":            {Key: "k"},
	} {
		if _, err := ch.Page(context.Background(), p); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
}

// TestSendMentionsOnCall checks the first post mentions the people on call
// at any level, besides the configured people on critical ones, each once;
// and that follow-ups are as before.
func TestSendMentionsOnCall(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	s := &sender{t: t, ch: newChannel(t, fake.URL, mentions), fake: fake}
	oncall := []klaxon.User{pagetest.Alice(), pagetest.Bob(), pagetest.Carol()}
	line := "On call: <users/111>, <users/222>, Carol Smith"

	warning := notifytest.Cases()["warning_firing"]
	warning.Mention = oncall
	if got, err := newChannel(t, fake.URL, mentions).Send(context.Background(), notify.Delivery{ID: 9, Message: warning}); err != nil {
		t.Fatal(err)
	} else if msgs := fake.Messages(); msgs[0].Text != "[P2] NodeFilesystemAlmostFull: db-1:9100\n"+line {
		t.Errorf("warning: got %q (ref %s)", msgs[0].Text, got)
	}

	critical := notifytest.Cases()["critical_firing"]
	critical.Mention = []klaxon.User{pagetest.Alice(), pagetest.Carol()}
	if got := s.send(critical, false); len(got) != 1 || got[0].Text != "<users/222> [P0] KubePodCrashLooping: prod/api-7d9f\nOn call: <users/111>, Carol Smith" {
		t.Errorf("critical: got %+v, want users/222 configured, alice on call, each once", got)
	}
	if got := s.send(critical, true); len(got) != 1 || !strings.HasPrefix(got[0].Text, "<users/111> <users/222> Still firing:") {
		t.Errorf("reminder: got %+v, want the configured mentions as before", got)
	}
	acked := notifytest.Cases()["critical_acked"]
	acked.Mention = oncall
	if got := s.send(acked, false); len(got) != 1 || strings.Contains(got[0].Text, "<users/") || strings.Contains(got[0].Text, "On call") {
		t.Errorf("follow-up: got %+v, want no mentions", got)
	}
}
