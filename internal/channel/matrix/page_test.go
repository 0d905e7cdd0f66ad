package matrix

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagetest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

const carol = "@carol:example.org"

func TestMentionOf(t *testing.T) {
	ch := newChannel(t, "http://127.0.0.1:1", alias)
	for _, tc := range []struct {
		user klaxon.User
		want string
	}{
		{pagetest.Alice(), alice},
		{pagetest.Bob(), ""},
		{pagetest.Carol(), carol},
		{pagetest.Mallory(), ""},
		{klaxon.User{Name: "dave", Matrix: "dave"}, ""},
	} {
		if got := ch.MentionOf(tc.user); got != tc.want {
			t.Errorf("MentionOf(%q): got %q, want %q", tc.user.Name, got, tc.want)
		}
	}
}

// TestPageGolden renders every sample page, as a reply in a thread, to the
// content Page would PUT, compared with testdata/<name>.golden.
func TestPageGolden(t *testing.T) {
	ch := newChannel(t, "http://127.0.0.1:1", alias)
	for name, p := range pagetest.Pages() {
		t.Run(name, func(t *testing.T) {
			got := renderPage(p, ch.people(p.People), "$root")
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), indentJSON(t, got), *update)
			checkSafeHTML(t, got.FormattedBody)
			checkBalanced(t, got.FormattedBody)
			var want []string
			for _, u := range p.People {
				if id := ch.MentionOf(u); id != "" {
					want = append(want, id)
				}
			}
			if got.MsgType != "m.text" || got.Mentions == nil || !slices.Equal(got.Mentions.UserIDs, want) {
				t.Errorf("got msgtype %q mentions %+v, want m.text mentioning %v", got.MsgType, got.Mentions, want)
			}
		})
	}
}

// TestOnCallGolden renders the sample first posts that call the people on
// call, compared with testdata/<name>.golden.
func TestOnCallGolden(t *testing.T) {
	ch := newChannel(t, "http://127.0.0.1:1", alias, alice, bob)
	for name, m := range pagetest.OnCall() {
		t.Run(name, func(t *testing.T) {
			got := render(m, ch.mentions(m), ch.people(m.Mention))
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), indentJSON(t, got), *update)
			checkSafeHTML(t, got.FormattedBody)
			checkBalanced(t, got.FormattedBody)
		})
	}
}

func TestPageHostile(t *testing.T) {
	p := pagetest.Pages()["page_hostile"]
	got := renderPage(p, newChannel(t, "http://127.0.0.1:1", alias).people(p.People), "$e")
	for _, bad := range []string{"<script", "<b>mal", "<a href=\"javascript", "evil.example\">", "@evil:example.org\""} {
		if strings.Contains(got.FormattedBody, bad) {
			t.Errorf("formatted_body contains %q:\n%s", bad, got.FormattedBody)
		}
	}
	if len(got.Mentions.UserIDs) != 1 || got.Mentions.UserIDs[0] != alice {
		t.Errorf("got mentions %v, want only alice", got.Mentions.UserIDs)
	}
	// Mallory is named, her name escaped; her forged ID is nowhere.
	if !strings.Contains(got.FormattedBody, "&lt;@U123&gt; &lt;!channel&gt; @room &lt;users/all&gt; &lt;b&gt;mal&lt;/b&gt;") || strings.Contains(got.Body, "@evil:example.org") {
		t.Errorf("got formatted_body:\n%s\nbody:\n%s", got.FormattedBody, got.Body)
	}
}

func TestPageInThread(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	p := pagetest.Pages()["page"]
	p.Ref = r
	var refs []string
	for range 2 { // the second is a retry after a lost answer: deduplicated
		got, err := ch.Page(t.Context(), p)
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		refs = append(refs, got)
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 2 {
		t.Fatalf("got %d bot messages, want the alert and one page", len(msgs))
	}
	post, page := msgs[0], msgs[1]
	if page.RelType != "m.thread" || page.RelatesTo != post.EventID || page.InReplyTo != post.EventID {
		t.Errorf("page relates %s %s (reply to %s), want m.thread of %s", page.RelType, page.RelatesTo, page.InReplyTo, post.EventID)
	}
	if page.TxnID != p.Key {
		t.Errorf("page txn %q, want %q", page.TxnID, p.Key)
	}
	if want := (ref{Room: room, Event: page.EventID}).String(); refs[0] != want || refs[1] != want {
		t.Errorf("got refs %q, want %s twice", refs, want)
	}
	if page.MsgType != "m.text" || strings.Join(page.Mentions, ",") != alice+","+carol {
		t.Errorf("page is %s mentioning %v, want an m.text mentioning alice and carol", page.MsgType, page.Mentions)
	}
	for _, want := range []string{"Unacknowledged for 15m", alice + ", bob, " + carol, "[P0] KubePodCrashLooping: prod/api-7d9f — https://klaxon.example.org/alerts/12", "Say `ack 12` to take it."} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("page body lacks %q:\n%s", want, page.Body)
		}
	}
	if want := `<a href="https://matrix.to/#/@alice:example.org">alice</a>, bob, <a href="https://matrix.to/#/@carol:example.org">Carol Smith</a>`; !strings.Contains(page.FormattedBody, want) {
		t.Errorf("formatted_body lacks %s:\n%s", want, page.FormattedBody)
	}
	if n := fake.Calls("send"); n != 3 {
		t.Errorf("got %d send calls, want 3 (post, page, retried page)", n)
	}
}

func TestPageInRoom(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	p := pagetest.Pages()["page_notice"]
	if _, err := ch.Page(t.Context(), p); err != nil {
		t.Fatalf("Page: %v", err)
	}
	msgs := botMessages(fake, room)
	if len(msgs) != 1 {
		t.Fatalf("got %d bot messages, want the page", len(msgs))
	}
	page := msgs[0]
	if page.RelType != "" || page.InReplyTo != "" {
		t.Errorf("a page without a ref relates %s %s, want a post of its own", page.RelType, page.RelatesTo)
	}
	if page.TxnID != p.Key || strings.Join(page.Mentions, ",") != alice+","+carol {
		t.Errorf("got txn %q mentions %v", page.TxnID, page.Mentions)
	}
	if want := "Hand-off: on call for primary until 2026-11-23 09:00 UTC\n" + alice + ", " + carol; page.Body != want {
		t.Errorf("got body %q, want %q", page.Body, want)
	}
	if fake.Calls("join") != 1 {
		t.Errorf("got %d joins, want 1", fake.Calls("join"))
	}
}

func TestPageErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		permanent bool
		wantWait  time.Duration
	}{
		{"rate limited", 429, false, 2 * time.Second},
		{"server error", 502, false, 0},
		{"unknown token", 401, true, 0},
		{"forbidden", 403, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, room, ch := fakeRoom(t)
			r, err := ch.Send(t.Context(), notify.Delivery{ID: 3, Version: 1, Message: notifytest.Cases()["warning_firing"]})
			if err != nil {
				t.Fatal(err)
			}
			p := pagetest.Pages()["page"]
			p.Ref = r
			fake.Fail(1, tt.status, tt.wantWait)
			_, err = ch.Page(t.Context(), p)
			if err == nil || notify.IsPermanent(err) != tt.permanent {
				t.Fatalf("got %v, want permanent %v", err, tt.permanent)
			}
			var de *notify.DeliveryError
			if errors.As(err, &de) && de.RetryAfter != tt.wantWait {
				t.Errorf("got retry after %v, want %v", de.RetryAfter, tt.wantWait)
			}
			if tt.permanent {
				return
			}
			if _, err := ch.Page(t.Context(), p); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := len(botMessages(fake, room)); n != 2 {
				t.Errorf("got %d messages after the retry, want 2", n)
			}
		})
	}
	_, _, ch := fakeRoom(t)
	page := pagetest.Pages()["page"]
	for name, p := range map[string]notify.PageDelivery{
		"bad ref": {Key: "k", Ref: "not json", Text: page.Text, People: page.People},
		"no key":  {Text: page.Text, People: page.People},
		"nothing": {Key: "k"},
	} {
		if _, err := ch.Page(t.Context(), p); !notify.IsPermanent(err) {
			t.Errorf("%s: got %v, want a permanent error", name, err)
		}
	}
	unknown := newChannel(t, ch.homeserver, "#nowhere:example.org")
	if _, err := unknown.Page(t.Context(), page); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "#nowhere:example.org") {
		t.Errorf("unknown room: got %v, want a permanent error naming it", err)
	}
}

// TestSendMentionsOnCall checks the first post mentions the people on call
// at any level, besides the configured people on critical ones, each once;
// and that edits show them without mentioning anyone.
func TestSendMentionsOnCall(t *testing.T) {
	fake, room, ch := fakeRoom(t)
	oncall := []klaxon.User{pagetest.Alice(), pagetest.Bob(), pagetest.Carol()}

	warning := notifytest.Cases()["warning_firing"]
	warning.Mention = oncall
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 1, Version: 1, Message: warning}); err != nil {
		t.Fatal(err)
	}
	critical := notifytest.Cases()["critical_firing"]
	critical.Mention = oncall
	r, err := ch.Send(t.Context(), notify.Delivery{ID: 2, Version: 1, Message: critical})
	if err != nil {
		t.Fatal(err)
	}
	msgs := botMessages(fake, room)
	if got := strings.Join(msgs[0].Mentions, ","); got != alice+","+carol {
		t.Errorf("warning mentions %s, want the people on call with a Matrix ID", got)
	}
	if got := strings.Join(msgs[1].Mentions, ","); got != alice+","+bob+","+carol {
		t.Errorf("critical mentions %s, want the configured people and the people on call, each once", got)
	}
	for _, m := range msgs {
		if want := "On call: " + alice + ", bob, " + carol; !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	if got := strings.Count(msgs[1].Body, alice); got != 1 {
		t.Errorf("alice shows %d times in the critical post, want once (on call):\n%s", got, msgs[1].Body)
	}

	// The edit (acknowledged) still shows who was called, but its outer
	// m.mentions is empty: nobody is notified again.
	acked := notifytest.Cases()["critical_acked"]
	acked.Mention = oncall
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 2, Version: 2, Ref: r, Message: acked}); err != nil {
		t.Fatal(err)
	}
	edit := replacement(render(acked, ch.mentions(acked), ch.people(acked.Mention)), "$e")
	if edit.Mentions == nil || len(edit.Mentions.UserIDs) != 0 || !strings.Contains(edit.NewContent.Body, "On call: ") {
		t.Errorf("edit mentions %+v; new content:\n%s", edit.Mentions, edit.NewContent.Body)
	}
	if msgs := botMessages(fake, room); len(msgs) != 2 || msgs[1].Edits != 1 || !strings.Contains(msgs[1].Body, "ACKNOWLEDGED") {
		t.Errorf("got %d messages, the critical one with %d edits:\n%s", len(msgs), msgs[1].Edits, msgs[1].Body)
	}

	// Reminders mention the configured people only, as before.
	if _, err := ch.Send(t.Context(), notify.Delivery{ID: 2, Version: 3, Ref: r, Remind: true, Message: critical}); err != nil {
		t.Fatal(err)
	}
	msgs = botMessages(fake, room)
	if rem := msgs[len(msgs)-1]; rem.RelType != "m.thread" || strings.Join(rem.Mentions, ",") != alice+","+bob {
		t.Errorf("reminder relates %s, mentions %v; want the configured people in the thread", rem.RelType, rem.Mentions)
	}
}
