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

func TestMentionOf(t *testing.T) {
	ch := newChannel(t, chattest.NewSlack(t))
	for _, tc := range []struct {
		user klaxon.User
		want string
	}{
		{pagetest.Alice(), "U0ALICE"},
		{pagetest.Bob(), "U0BOB"},
		{pagetest.Carol(), ""},
		{pagetest.Mallory(), ""},
		{klaxon.User{Name: "dave", Slack: "S0GROUP"}, ""},
	} {
		if got := ch.MentionOf(tc.user); got != tc.want {
			t.Errorf("MentionOf(%q): got %q, want %q", tc.user.Name, got, tc.want)
		}
	}
}

// paged posts a group's message and then p in its thread, on a fresh
// fake, and returns the page as chat.postMessage received it, decoded.
func paged(t *testing.T, p notify.PageDelivery) map[string]any {
	t.Helper()
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 101, Version: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p.Ref = ref
	if _, err := ch.Page(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	thread := s.Thread(testChannel, decodeRef(t, ref).TS)
	if len(thread) != 1 {
		t.Fatalf("got %d thread replies, want the page", len(thread))
	}
	out := map[string]any{"text": thread[0].Text}
	if thread[0].Metadata != nil {
		var v any
		if err := json.Unmarshal(thread[0].Metadata, &v); err != nil {
			t.Fatal(err)
		}
		out["metadata"] = v
	}
	return out
}

func TestPageGolden(t *testing.T) {
	for name, p := range pagetest.Pages() {
		t.Run(name, func(t *testing.T) {
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), pretty(t, paged(t, p)), *update)
		})
	}
}

func TestOnCallGolden(t *testing.T) {
	for name, m := range pagetest.OnCall() {
		t.Run(name, func(t *testing.T) {
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), pretty(t, posted(t, m)), *update)
		})
	}
}

// TestPageHostileIsEscaped checks the hostile page and first post: the
// only mentions are of people with a well-formed Slack ID, the only link
// Klaxon's.
func TestPageHostileIsEscaped(t *testing.T) {
	page := paged(t, pagetest.Pages()["page_hostile"])["text"].(string)
	first := posted(t, pagetest.OnCall()["oncall_hostile"])
	marked, _, _ := markup(first)
	for _, s := range append(marked, page, first["text"].(string)) {
		for _, bad := range []string{"<!channel>", "<script", "<@U123>", "<@U0EVIL", "<https://evil", "<users/all>", "<b>"} {
			if strings.Contains(s, bad) {
				t.Errorf("mrkdwn contains raw %q: %q", bad, s)
			}
		}
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(s, -1) {
			if u, _, _ := strings.Cut(tok, "|"); !ourTokens.MatchString(tok) || strings.Contains(u, "evil.example") {
				t.Errorf("mrkdwn has a <…> sequence the renderer did not make: %q in %q", tok, s)
			}
		}
	}
	if want := "&lt;@U123&gt; &lt;!channel&gt; @room &lt;users/all&gt; &lt;b&gt;mal&lt;/b&gt;"; !strings.Contains(page, want) {
		t.Errorf("page does not name mallory, escaped: %q", page)
	}
}

func TestPageInThread(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	ref, err := ch.Send(ctx, notify.Delivery{ID: 3, Version: 1, Attempt: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p := pagetest.Pages()["page"]
	p.Ref = ref
	got, err := ch.Page(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	thread := s.Thread(testChannel, decodeRef(t, ref).TS)
	if len(thread) != 1 || s.Posts() != 2 || s.Updates() != 0 {
		t.Fatalf("got %d replies, %d posts, %d updates; want the page in the thread, nothing edited", len(thread), s.Posts(), s.Updates())
	}
	page := thread[0]
	want := "Unacknowledged for 15m: escalation step 2 of 3 (policy default)\n<@U0ALICE>, <@U0BOB>, Carol Smith\n" +
		"<https://klaxon.example.org/alerts/12|[P0] KubePodCrashLooping: prod/api-7d9f>\nSay `ack 12` to take it"
	if page.Text != want {
		t.Errorf("page text:\ngot  %q\nwant %q", page.Text, want)
	}
	if m := string(page.Metadata); !strings.Contains(m, `"event_type":"klaxon_page"`) || !strings.Contains(m, `"key":"`+pagetest.Key+`"`) {
		t.Errorf("page metadata: %s", m)
	}
	if r := decodeRef(t, got); r.Channel != testChannel || r.TS != page.TS {
		t.Errorf("got ref %+v, want the page's ts %s", r, page.TS)
	}
}

func TestPageInChannel(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	if _, err := ch.Page(context.Background(), pagetest.Pages()["page_notice"]); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(testChannel)
	if len(msgs) != 1 || msgs[0].ThreadTS != "" {
		t.Fatalf("got %+v, want one post in the channel", msgs)
	}
	if want := "Hand-off: on call for primary until 2026-11-23 09:00 UTC\n<@U0ALICE>, Carol Smith"; msgs[0].Text != want {
		t.Errorf("got %q, want %q", msgs[0].Text, want)
	}
}

func TestPageErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       func(*chattest.Slack)
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", func(s *chattest.Slack) { s.Fail(1, http.StatusTooManyRequests, "4") }, false, 4 * time.Second},
		{"503", func(s *chattest.Slack) { s.Fail(1, http.StatusServiceUnavailable, "") }, false, 0},
		{"invalid_auth", func(s *chattest.Slack) { s.FailWith(1, "invalid_auth") }, true, 0},
		{"channel_not_found", func(s *chattest.Slack) { s.FailWith(1, "channel_not_found") }, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chattest.NewSlack(t)
			ch := newChannel(t, s)
			tc.fail(s)
			_, err := ch.Page(context.Background(), pagetest.Pages()["page"])
			if err == nil {
				t.Fatal("got no error")
			}
			if got := notify.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent: got %v, want %v (%v)", got, tc.permanent, err)
			}
			var de *notify.DeliveryError
			if wait := time.Duration(0); errors.As(err, &de) && de.RetryAfter != tc.retryAfter {
				t.Errorf("retry after: got %v, want %v", de.RetryAfter, tc.retryAfter)
			} else if !errors.As(err, &de) && wait != tc.retryAfter {
				t.Errorf("retry after: got none, want %v", tc.retryAfter)
			}
		})
	}
	ch := newChannel(t, chattest.NewSlack(t))
	for name, p := range map[string]notify.PageDelivery{
		"bad ref": {Ref: "not json", Text: "x"},
		"nothing": {Key: "k"},
	} {
		if _, err := ch.Page(context.Background(), p); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want permanent", name, err)
		}
	}
}

// TestSendMentionsOnCall checks the first post mentions the people on call
// at any level, besides the configured people on critical ones, each once;
// that updates name them without mentioning; and that reminders are as
// before.
func TestSendMentionsOnCall(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	oncall := []klaxon.User{pagetest.Alice(), pagetest.Bob(), pagetest.Carol()}

	warning := notifytest.Cases()["warning_firing"]
	warning.Mention = oncall
	if _, err := ch.Send(ctx, notify.Delivery{ID: 1, Version: 1, Attempt: 1, Message: warning}); err != nil {
		t.Fatal(err)
	}
	critical := notifytest.Cases()["critical_firing"]
	critical.Mention = oncall
	ref, err := ch.Send(ctx, notify.Delivery{ID: 2, Version: 1, Attempt: 1, Message: critical})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(testChannel)
	line := "On call: <@U0ALICE>, <@U0BOB>, Carol Smith"
	if want := "[P2] NodeFilesystemAlmostFull: db-1:9100\n" + line; msgs[0].Text != want {
		t.Errorf("warning text: got %q, want %q", msgs[0].Text, want)
	}
	if want := "<!subteam^S0ONCALL> [P0] KubePodCrashLooping: prod/api-7d9f\n" + line + "\n"; !strings.HasPrefix(msgs[1].Text, want) {
		t.Errorf("critical text: got %q, want it to start %q (alice once, on call)", msgs[1].Text, want)
	}
	var blocks any
	if err := json.Unmarshal(msgs[1].Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	if b := string(pretty(t, blocks)); !strings.Contains(b, `"text": "`+line+`"`) || !strings.Contains(b, `"text": "<!subteam^S0ONCALL>"`) {
		t.Errorf("blocks lack the configured mentions or the on-call line: %s", b)
	}

	acked := notifytest.Cases()["critical_acked"]
	acked.Mention = oncall
	if _, err := ch.Send(ctx, notify.Delivery{ID: 2, Version: 2, Attempt: 1, Ref: ref, Message: acked}); err != nil {
		t.Fatal(err)
	}
	top := s.Messages(testChannel)[1]
	if top.Edits != 1 || strings.Contains(top.Text, "<@") || strings.Contains(string(top.Blocks), "<@") || !strings.Contains(top.Text, "On call: alice, bob, Carol Smith") {
		t.Errorf("update: got text %q blocks %s; want the people named, nobody mentioned", top.Text, top.Blocks)
	}

	if _, err := ch.Send(ctx, notify.Delivery{ID: 2, Version: 3, Attempt: 1, Ref: ref, Remind: true, Message: critical}); err != nil {
		t.Fatal(err)
	}
	thread := s.Thread(testChannel, decodeRef(t, ref).TS)
	if last := thread[len(thread)-1].Text; last != "Still firing… Reply `ack 12`" {
		t.Errorf("reminder: got %q", last)
	}
}
