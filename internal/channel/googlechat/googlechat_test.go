package googlechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/googlechat"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func channel(t *testing.T, keys string) config.Channel {
	t.Helper()
	return notifytest.ChannelConfig(t, "incidents", "googlechat", keys)
}

func newChannel(t *testing.T, webhookURL, extra string) notify.Channel {
	t.Helper()
	ch, err := googlechat.New(channel(t, fmt.Sprintf("    webhook_url: %q\n%s", webhookURL, extra)), notify.Env{BaseURL: notifytest.BaseURL, Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

const mentions = "    mention: [users/111, users/222]\n"

func TestNewValidates(t *testing.T) {
	hook := "https://chat.googleapis.com/v1/spaces/AAA/messages?key=hunter2key&token=hunter2token"
	for _, tc := range []struct{ name, keys, want string }{
		{"missing webhook", "", "channels[0].webhook_url: missing"},
		{"http webhook", "    webhook_url: http://chat.example.org/v1/spaces/AAA/messages?key=hunter2key&token=hunter2token\n", "channels[0].webhook_url: not an https URL"},
		{"no token", "    webhook_url: https://chat.googleapis.com/v1/spaces/AAA/messages?key=hunter2key\n", "channels[0].webhook_url: has no key and token"},
		{"bad mention", fmt.Sprintf("    webhook_url: %q\n    mention: [\"<users/all>\"]\n", hook), `"<users/all>" is not a user`},
		{"bad audience", fmt.Sprintf("    webhook_url: %q\n    audience: https://klaxon.example.org\n", hook), "channels[0].audience"},
		{"bad certs url", fmt.Sprintf("    webhook_url: %q\n    audience: \"1234\"\n    certs_url: ftp://x/\n", hook), "channels[0].certs_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := googlechat.New(channel(t, tc.keys), notify.Env{})
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the webhook's secrets", err)
			}
		})
	}
	if _, err := googlechat.New(channel(t, fmt.Sprintf("    webhook_url: %q\n    verification_token: abc\n    audience: \"1234\"\n"+mentions, hook)), notify.Env{}); err != nil {
		t.Errorf("a full configuration: %v", err)
	}
}

// TestGolden renders every sample as the first post of its group.
func TestGolden(t *testing.T) {
	for name, m := range notifytest.Cases() {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewGoogleChat(t)
			ch := newChannel(t, fake.URL, mentions)
			if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Attempt: 1, Message: m}); err != nil {
				t.Fatal(err)
			}
			msgs := fake.Messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d posts, want 1", len(msgs))
			}
			var got bytes.Buffer
			if err := json.Indent(&got, msgs[0].Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got.Bytes(), *update)
		})
	}
}

// TestHostile checks the hostile sample's post, as Chat would read it: no
// markup, mention or link of the alert's making survives.
func TestHostile(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, fake.URL, mentions)
	m := notifytest.Cases()["hostile"]
	m.Labels["team"] = "<users/all> <users/111>"
	m.Alerts[0].Labels["owner"] = "<users/all>"
	if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: m}); err != nil {
		t.Fatal(err)
	}
	body := string(fake.Messages()[0].Body)
	for _, bad := range []string{"<script", "<users/all>", "javascript:", "<img", "<b>&amp;", "<https://evil", "<@U123>", "<!channel>", "</code>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the post contains %q", bad)
		}
	}
	// The only link in text is the runbook's, to Klaxon.
	if got := regexp.MustCompile(`<a href=[^>]*>`).FindAllString(body, -1); len(got) != 1 || got[0] != `<a href=\"https://klaxon.example.org/runbooks/evil?alert=66\">` {
		t.Errorf("got links %q, want only the runbook's", got)
	}
	var msg struct {
		Text    string
		CardsV2 []struct {
			Card struct {
				Sections []struct {
					Widgets []struct {
						ButtonList *struct {
							Buttons []struct {
								OnClick struct{ OpenLink struct{ URL string } }
							}
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(fake.Messages()[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, s := range msg.CardsV2[0].Card.Sections {
		for _, w := range s.Widgets {
			if w.ButtonList != nil {
				for _, b := range w.ButtonList.Buttons {
					links = append(links, b.OnClick.OpenLink.URL)
				}
			}
		}
	}
	if want := []string{"https://klaxon.example.org/alerts/66"}; !slices.Equal(links, want) {
		t.Errorf("got links %q, want %q (no javascript: or data:)", links, want)
	}
	// The only mentions are the configured ones, at the start.
	if !strings.HasPrefix(msg.Text, "<users/111> <users/222> ") || strings.Count(msg.Text, "<") != 2 {
		t.Errorf("got text %q", msg.Text)
	}
}

func TestPostsIntoTheGroupThread(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, fake.URL, "")
	m := notifytest.Cases()["warning_firing"]
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	posted := fake.Messages()[0]
	if got := posted.Query.Get("messageReplyOption"); got != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" {
		t.Errorf("messageReplyOption: got %q", got)
	}
	if posted.ThreadKey != "klaxon-group-7" {
		t.Errorf("thread key: got %q, want klaxon-group-7", posted.ThreadKey)
	}
	if strings.Contains(posted.Text, "<users/") {
		t.Errorf("a warning mentions people: %q", posted.Text)
	}
	var r struct{ Thread, State string }
	if err := json.Unmarshal([]byte(ref), &r); err != nil {
		t.Fatalf("ref %q: %v", ref, err)
	}
	if r.Thread != posted.ThreadName || r.State != "firing" {
		t.Errorf("got ref %q, want thread %q and state firing", ref, posted.ThreadName)
	}
}

// TestRetriedFirstPostIsOneCard: the answer to a first post was lost and
// the group changed before the retry: the retry finds the card by its
// request ID instead of posting a second one.
func TestRetriedFirstPostIsOneCard(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, fake.URL, "")
	d := notify.Delivery{ID: 4, Version: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]}
	first, err := ch.Send(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	d.Version, d.Attempt, d.Message = 2, 2, notifytest.Cases()["critical_firing"]
	again, err := ch.Send(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	var a, b struct{ Thread string }
	json.Unmarshal([]byte(first), &a)
	json.Unmarshal([]byte(again), &b)
	if n := len(fake.Messages()); n != 1 || a.Thread == "" || a.Thread != b.Thread {
		t.Errorf("got %d cards, threads %q and %q; want one card in one thread", n, a.Thread, b.Thread)
	}
}

// step sends the next version of a group and returns what was posted.
type sender struct {
	t    *testing.T
	ch   notify.Channel
	fake *chattest.GoogleChat
	ref  string
	v    int64
}

func (s *sender) send(m *notify.Message, remind bool) []chattest.GoogleChatMessage {
	s.t.Helper()
	before := len(s.fake.Messages())
	s.v++
	ref, err := s.ch.Send(context.Background(), notify.Delivery{ID: 1, Version: s.v, Remind: remind, Ref: s.ref, Message: m})
	if err != nil {
		s.t.Fatal(err)
	}
	s.ref = ref
	return s.fake.Messages()[before:]
}

func TestFollowUps(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	s := &sender{t: t, ch: newChannel(t, fake.URL, mentions), fake: fake}
	cases := notifytest.Cases()

	if got := s.send(cases["critical_firing"], false); len(got) != 1 || !strings.HasPrefix(got[0].Text, "<users/111> <users/222> [P0]") {
		t.Fatalf("first post: got %+v", got)
	}
	if got := s.send(cases["critical_firing"], false); len(got) != 0 {
		t.Errorf("nothing changed: got %d posts, want none", len(got))
	}
	for _, step := range []struct {
		name   string
		m      *notify.Message
		remind bool
		want   string // the reply's text, "" for no post
	}{
		{"reminder", cases["critical_firing"], true, "<users/111> <users/222> Still firing: [P0] KubePodCrashLooping: prod/api-7d9f — to acknowledge, tell Klaxon: `ack 12`"},
		{"acknowledged", cases["critical_acked"], false, "[P0] KubePodCrashLooping: prod/api-7d9f — acknowledged by @alice:example.org"},
		{"no reminder once acknowledged", cases["critical_acked"], true, ""},
		{"resolved", cases["critical_resolved"], false, "[P0] KubePodCrashLooping: prod/api-7d9f — resolved by prod-alertmanager"},
		{"resolved again", cases["critical_resolved"], false, ""},
	} {
		got := s.send(step.m, step.remind)
		switch {
		case step.want == "" && len(got) != 0:
			t.Errorf("%s: got %q, want no post", step.name, got[0].Text)
		case step.want != "" && len(got) != 1:
			t.Errorf("%s: got %d posts, want 1", step.name, len(got))
		case step.want != "" && (got[0].Text != step.want || len(got[0].CardsV2) != 0):
			t.Errorf("%s: got %q (cards %s), want %q", step.name, got[0].Text, got[0].CardsV2, step.want)
		}
	}
	thread := fake.Thread("klaxon-group-7")
	if len(thread) != 4 || fake.Posts() != 4 {
		t.Errorf("got %d messages in the thread, %d posts; want 4 and 4", len(thread), fake.Posts())
	}
	for _, m := range thread[1:] {
		if !m.Reply || m.ThreadName != thread[0].ThreadName {
			t.Errorf("%q is not a reply in the group's thread", m.Text)
		}
	}
}

func TestGroupCountsChange(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	s := &sender{t: t, ch: newChannel(t, fake.URL, ""), fake: fake}
	m := notifytest.Cases()["group"]
	s.send(m, false)
	m.Counts.Firing++
	got := s.send(m, false)
	if want := "[P0] KubePodCrashLooping: 13 alerts — now 13 alerts: 10 firing, 2 acknowledged, 1 resolved"; len(got) != 1 || got[0].Text != want {
		t.Errorf("got %+v, want one reply %q", got, want)
	}
	m.State = klaxon.StateAcknowledged
	m.Counts = klaxon.GroupCounts{Acknowledged: 12, Resolved: 1}
	m.LastFrom = "acknowledged by bob"
	got = s.send(m, true) // a reminder of an acknowledged group says nothing more
	if want := "[P0] KubePodCrashLooping: 13 alerts — acknowledged by bob; 13 alerts: 0 firing, 12 acknowledged, 1 resolved"; len(got) != 1 || got[0].Text != want {
		t.Errorf("got %+v, want one reply %q", got, want)
	}
}

func TestRefFromAnotherVersion(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, fake.URL, "")
	ref, err := ch.Send(context.Background(), notify.Delivery{Ref: "spaces/AAA/messages/xyz", Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := fake.Messages(); len(msgs) != 1 || len(msgs[0].CardsV2) == 0 || !strings.HasPrefix(ref, "{") {
		t.Errorf("an unreadable ref: got %d posts, ref %q; want the card again", len(msgs), ref)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, "12", false, 12 * time.Second},
		{"rate limited without a wait", http.StatusTooManyRequests, "", false, 0},
		{"unavailable", http.StatusServiceUnavailable, "", false, 0},
		{"invalid", http.StatusBadRequest, "", true, 0},
		{"forbidden", http.StatusForbidden, "", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewGoogleChat(t)
			ch := newChannel(t, fake.URL, "")
			fake.Fail(1, tc.status, tc.retryAfter)
			_, err := ch.Send(context.Background(), notify.Delivery{Message: notifytest.Cases()["critical_firing"]})
			if err == nil {
				t.Fatal("got no error")
			}
			if got := notify.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent: got %v, want %v (%v)", got, tc.permanent, err)
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.RetryAfter != tc.wait {
				t.Errorf("got %v, want a DeliveryError with retry after %s", err, tc.wait)
			}
			noSecrets(t, fake.URL, err)
		})
	}
}

func TestWrongCredentialsArePermanent(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, strings.Replace(fake.URL, "token=", "token=stale", 1), "")
	_, err := ch.Send(context.Background(), notify.Delivery{Message: notifytest.Cases()["critical_firing"]})
	if !notify.IsPermanent(err) {
		t.Errorf("got %v, want a permanent error", err)
	}
	noSecrets(t, fake.URL, err)
}

func TestUnreachableHidesURL(t *testing.T) {
	hook := "http://127.0.0.1:1/v1/spaces/AAA/messages?key=hunter2key&token=hunter2token" // nothing listens on port 1
	ch := newChannel(t, hook, "")
	_, err := ch.Send(context.Background(), notify.Delivery{Message: notifytest.Cases()["critical_firing"]})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	noSecrets(t, hook, err)
}

// noSecrets fails if err repeats the webhook's key or token.
func noSecrets(t *testing.T, hook string, err error) {
	t.Helper()
	_, query, _ := strings.Cut(hook, "?")
	for _, kv := range strings.Split(query, "&") {
		_, v, _ := strings.Cut(kv, "=")
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("error %q leaks a webhook secret", err)
		}
	}
}
