package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

func decodeRef(t *testing.T, s string) ref {
	t.Helper()
	var r ref
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("ref %q: %v", s, err)
	}
	return r
}

func TestSendPostsThenUpdates(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	m := notifytest.Cases()["critical_firing"]

	refStr, err := ch.Send(ctx, notify.Delivery{ID: 3, Version: 1, Attempt: 1, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	r := decodeRef(t, refStr)
	msgs := s.Messages(testChannel)
	if len(msgs) != 1 || r.Channel != testChannel || r.TS != msgs[0].TS || r.State != klaxon.StateFiring {
		t.Fatalf("after the first send: ref %+v, messages %+v", r, msgs)
	}
	if !strings.HasPrefix(msgs[0].Text, "<@U0ALICE> <!subteam^S0ONCALL> [P0]") {
		t.Errorf("critical first post: got text %q, want the mentions first", msgs[0].Text)
	}
	if !strings.Contains(string(msgs[0].Metadata), `"notification_id":3`) {
		t.Errorf("metadata: got %s, want notification_id 3", msgs[0].Metadata)
	}

	// Same state, new content: updated in place, nothing in the thread.
	m.Alerts[0].Count = 2
	refStr2, err := ch.Send(ctx, notify.Delivery{ID: 3, Version: 2, Attempt: 1, Ref: refStr, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if s.Posts() != 1 || s.Updates() != 1 {
		t.Errorf("second send: got %d posts %d updates, want 1 and 1", s.Posts(), s.Updates())
	}
	if decodeRef(t, refStr2) != r {
		t.Errorf("ref: got %s, want unchanged %s", refStr2, refStr)
	}
	if got := s.Messages(testChannel)[0].Text; strings.Contains(got, "<@U0ALICE>") {
		t.Errorf("update re-mentions: %q", got)
	}
}

func TestSendWarningDoesNotMention(t *testing.T) {
	s := chattest.NewSlack(t)
	if _, err := newChannel(t, s).Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]}); err != nil {
		t.Fatal(err)
	}
	if got := s.Messages(testChannel)[0].Text; strings.Contains(got, "<@") || strings.Contains(got, "<!") {
		t.Errorf("warning mentions: %q", got)
	}
}

func TestSendStateChangeFollowsUpInThread(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	cases := notifytest.Cases()

	refStr, err := ch.Send(ctx, notify.Delivery{ID: 1, Version: 1, Attempt: 1, Message: cases["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	ts := decodeRef(t, refStr).TS

	acked := cases["critical_acked"]
	acked.Alerts[0].AckedBy = "slack:U0BOB"
	refStr, err = ch.Send(ctx, notify.Delivery{ID: 2, Version: 1, Attempt: 1, Ref: refStr, Message: acked})
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeRef(t, refStr).State; got != klaxon.StateAcknowledged {
		t.Errorf("ref state: got %s, want acknowledged", got)
	}
	refStr, err = ch.Send(ctx, notify.Delivery{ID: 3, Version: 1, Attempt: 1, Ref: refStr, Message: cases["critical_resolved"]})
	if err != nil {
		t.Fatal(err)
	}
	// Resolved again (e.g. a label change): no new follow-up.
	if _, err = ch.Send(ctx, notify.Delivery{ID: 4, Version: 1, Attempt: 1, Ref: refStr, Message: cases["critical_resolved"]}); err != nil {
		t.Fatal(err)
	}

	thread := s.Thread(testChannel, ts)
	var got []string
	for _, m := range thread {
		got = append(got, m.Text)
	}
	want := []string{"Acknowledged by <@U0BOB>", "Resolved by prod-alertmanager"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("thread: got %q, want %q", got, want)
	}
	if s.Updates() != 3 {
		t.Errorf("updates: got %d, want 3", s.Updates())
	}
	top := s.Messages(testChannel)[0]
	if !strings.Contains(string(top.Attachments), "RESOLVED by prod-alertmanager") || strings.Contains(string(top.Attachments), "klaxon_ack") {
		t.Errorf("message not updated to resolved without buttons: %s", top.Attachments)
	}
}

func TestSendRemind(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	m := notifytest.Cases()["critical_firing"]
	refStr, err := ch.Send(ctx, notify.Delivery{ID: 1, Attempt: 1, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(ctx, notify.Delivery{ID: 2, Attempt: 1, Remind: true, Ref: refStr, Message: m}); err != nil {
		t.Fatal(err)
	}
	thread := s.Thread(testChannel, decodeRef(t, refStr).TS)
	if len(thread) != 1 || thread[0].Text != "Still firing… Reply `ack 12`" {
		t.Errorf("reminder: got %+v", thread)
	}
}

func TestSendRetryAdoptsEarlierPost(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	cases := notifytest.Cases()

	// Another group's message, newer than ours, must not be adopted.
	first, err := ch.Send(ctx, notify.Delivery{ID: 7, Version: 1, Attempt: 1, Message: cases["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(ctx, notify.Delivery{ID: 8, Version: 1, Attempt: 1, Message: cases["warning_firing"]}); err != nil {
		t.Fatal(err)
	}
	// The process crashed after posting 7 and before saving its ref: the
	// outbox retries 7 with no ref.
	again, err := ch.Send(ctx, notify.Delivery{ID: 7, Version: 2, Attempt: 2, Message: cases["critical_acked"]})
	if err != nil {
		t.Fatal(err)
	}
	if s.Posts() != 2 || s.Updates() != 1 {
		t.Errorf("got %d posts %d updates, want 2 and 1 (no double post)", s.Posts(), s.Updates())
	}
	if got, want := decodeRef(t, again), decodeRef(t, first); got.TS != want.TS || got.State != klaxon.StateAcknowledged {
		t.Errorf("adopted ref: got %+v, want ts %s, state acknowledged", got, want.TS)
	}
	if s.Calls("conversations.history") != 1 {
		t.Errorf("history calls: got %d, want 1", s.Calls("conversations.history"))
	}

	// A retry whose first attempt never reached Slack posts.
	if _, err := ch.Send(ctx, notify.Delivery{ID: 9, Version: 1, Attempt: 3, Message: cases["critical_firing"]}); err != nil {
		t.Fatal(err)
	}
	if s.Posts() != 3 {
		t.Errorf("retry with nothing to adopt: got %d posts, want 3", s.Posts())
	}
}

func TestSendErrors(t *testing.T) {
	m := notifytest.Cases()["warning_firing"]
	for _, tc := range []struct {
		name       string
		fail       func(*chattest.Slack)
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", func(s *chattest.Slack) { s.Fail(1, http.StatusTooManyRequests, "7") }, false, 7 * time.Second},
		{"429 without Retry-After", func(s *chattest.Slack) { s.Fail(1, http.StatusTooManyRequests, "") }, false, 0},
		{"503", func(s *chattest.Slack) { s.Fail(1, http.StatusServiceUnavailable, "") }, false, 0},
		{"500", func(s *chattest.Slack) { s.Fail(1, http.StatusInternalServerError, "") }, false, 0},
		{"404", func(s *chattest.Slack) { s.Fail(1, http.StatusNotFound, "") }, true, 0},
		{"invalid_auth", func(s *chattest.Slack) { s.FailWith(1, "invalid_auth") }, true, 0},
		{"token_revoked", func(s *chattest.Slack) { s.FailWith(1, "token_revoked") }, true, 0},
		{"channel_not_found", func(s *chattest.Slack) { s.FailWith(1, "channel_not_found") }, true, 0},
		{"not_in_channel", func(s *chattest.Slack) { s.FailWith(1, "not_in_channel") }, true, 0},
		{"invalid_blocks", func(s *chattest.Slack) { s.FailWith(1, "invalid_blocks") }, true, 0},
		{"internal_error", func(s *chattest.Slack) { s.FailWith(1, "internal_error") }, false, 0},
		{"ratelimited", func(s *chattest.Slack) { s.FailWith(1, "ratelimited") }, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chattest.NewSlack(t)
			ch := newChannel(t, s)
			tc.fail(s)
			_, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Message: m})
			if err == nil {
				t.Fatal("got no error")
			}
			if got := notify.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent: got %v, want %v (%v)", got, tc.permanent, err)
			}
			var de *notify.DeliveryError
			wait := time.Duration(0)
			if errors.As(err, &de) {
				wait = de.RetryAfter
			}
			if wait != tc.retryAfter {
				t.Errorf("retry after: got %v, want %v", wait, tc.retryAfter)
			}
			if strings.Contains(err.Error(), chattest.SlackBotToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestSendWrongTokenIsPermanent(t *testing.T) {
	s := chattest.NewSlack(t)
	doc := fmt.Sprintf("name: s\ntype: slack\napi_url: %s\nbot_token: xoxb-revoked\nsigning_secret: shh\nchannel: C0ALERTS\n", s.URL)
	bad, err := New(channelConfig(t, doc), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]})
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("wrong token: got %v, want a permanent invalid_auth", err)
	}
}

func TestSendNetworkErrorIsRetryable(t *testing.T) {
	doc := "name: s\ntype: slack\napi_url: http://127.0.0.1:1/\nbot_token: xoxb-x\nsigning_secret: shh\nchannel: C0ALERTS\n"
	ch, err := New(channelConfig(t, doc), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]})
	if err == nil || notify.IsPermanent(err) {
		t.Errorf("connection refused: got %v, want a retryable error", err)
	}
}

func TestSendUpdateOfDeletedMessageIsPermanent(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	r := ref{Channel: testChannel, TS: "1.000001", State: klaxon.StateFiring}.encode()
	_, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Ref: r, Message: notifytest.Cases()["warning_firing"]})
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "message_not_found") {
		t.Errorf("got %v, want a permanent message_not_found", err)
	}
	if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Attempt: 1, Ref: "not json", Message: notifytest.Cases()["warning_firing"]}); !notify.IsPermanent(err) {
		t.Errorf("unreadable ref: got %v, want permanent", err)
	}
}
