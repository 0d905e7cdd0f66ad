package chattest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

func slackClient(s *chattest.Slack, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(s.URL), slack.OptionHTTPClient(http.DefaultClient))
}

func TestSlackPostUpdateHistory(t *testing.T) {
	s := chattest.NewSlack(t)
	api := slackClient(s, chattest.SlackBotToken)
	ctx := context.Background()

	if !strings.HasSuffix(s.URL, "/") || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL: got %q, want http://127.0.0.1:port/", s.URL)
	}
	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.UserID != chattest.SlackBotUserID {
		t.Fatalf("auth.test: got %+v, %v; want user %s", auth, err, chattest.SlackBotUserID)
	}

	_, ts, err := api.PostMessageContext(ctx, "C1",
		slack.MsgOptionText("first", false),
		slack.MsgOptionAttachments(slack.Attachment{Color: "#E01E5A"}),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "klaxon_notification", EventPayload: map[string]any{"notification_id": 7}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("in thread", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C2", slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}

	msgs := s.Messages("C1")
	if len(msgs) != 2 {
		t.Fatalf("Messages(C1): got %d, want 2", len(msgs))
	}
	if msgs[0].Text != "edited" || msgs[0].Edits != 1 || msgs[0].TS != ts {
		t.Errorf("first message: got %+v, want edited once, ts %s", msgs[0], ts)
	}
	if !strings.Contains(string(msgs[0].Attachments), "#E01E5A") {
		t.Errorf("update dropped attachments it did not send: %s", msgs[0].Attachments)
	}
	if msgs[1].ThreadTS != ts || msgs[1].Text != "in thread" {
		t.Errorf("reply: got %+v, want thread_ts %s", msgs[1], ts)
	}
	if got := s.Thread("C1", ts); len(got) != 1 {
		t.Errorf("Thread: got %d replies, want 1", len(got))
	}
	if s.Posts() != 3 || s.Updates() != 1 {
		t.Errorf("counts: got %d posts %d updates, want 3 and 1", s.Posts(), s.Updates())
	}

	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 10, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 {
		t.Fatalf("history: got %d messages, want 1 (replies are not top-level)", len(h.Messages))
	}
	got := h.Messages[0]
	if got.Timestamp != ts || got.Metadata.EventType != "klaxon_notification" || got.Metadata.EventPayload["notification_id"] != float64(7) {
		t.Errorf("history message: got ts %s metadata %+v", got.Timestamp, got.Metadata)
	}
	if got.ReplyCount != 1 {
		t.Errorf("reply_count: got %d, want 1", got.ReplyCount)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Messages[0].Metadata.EventType != "" {
		t.Errorf("metadata without include_all_metadata: got %+v, want none", h.Messages[0].Metadata)
	}
}

func TestSlackErrors(t *testing.T) {
	s := chattest.NewSlack(t)
	ctx := context.Background()
	post := func(api *slack.Client) error {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		return err
	}
	good := slackClient(s, chattest.SlackBotToken)

	var slackErr slack.SlackErrorResponse
	if err := post(slackClient(s, "xoxb-wrong")); !errors.As(err, &slackErr) || slackErr.Err != "invalid_auth" {
		t.Errorf("wrong token: got %v, want invalid_auth", err)
	}

	s.Fail(1, http.StatusTooManyRequests, "7")
	var limited *slack.RateLimitedError
	if err := post(good); !errors.As(err, &limited) || limited.RetryAfter != 7*time.Second {
		t.Errorf("429: got %v, want RateLimitedError after 7s", err)
	}

	s.Fail(1, http.StatusServiceUnavailable, "")
	var status slack.StatusCodeError
	if err := post(good); !errors.As(err, &status) || status.Code != 503 {
		t.Errorf("503: got %v, want StatusCodeError 503", err)
	}

	s.FailWith(2, "channel_not_found")
	for range 2 {
		if err := post(good); !errors.As(err, &slackErr) || slackErr.Err != "channel_not_found" {
			t.Errorf("FailWith: got %v, want channel_not_found", err)
		}
	}
	if err := post(good); err != nil {
		t.Errorf("after the failures: %v", err)
	}
	if _, _, _, err := good.UpdateMessageContext(ctx, "C1", "1.2", slack.MsgOptionText("x", false)); !errors.As(err, &slackErr) || slackErr.Err != "message_not_found" {
		t.Errorf("update of an unknown ts: got %v, want message_not_found", err)
	}
	if got := s.Calls("chat.postMessage"); got != 6 {
		t.Errorf("Calls: got %d, want 6", got)
	}
	if s.Posts() != 1 {
		t.Errorf("Posts: got %d, want 1", s.Posts())
	}
}

func TestSlackJSONBody(t *testing.T) {
	s := chattest.NewSlack(t)
	body := `{"channel":"C1","text":"hi","blocks":[{"type":"divider"}]}`
	req, _ := http.NewRequest(http.MethodPost, s.URL+"chat.postMessage", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+chattest.SlackBotToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK bool   `json:"ok"`
		TS string `json:"ts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK || out.TS == "" {
		t.Fatalf("JSON post: got %+v, %v", out, err)
	}
	if m := s.Messages("C1"); len(m) != 1 || string(m[0].Blocks) != `[{"type":"divider"}]` {
		t.Errorf("JSON post stored %+v", m)
	}
}

func TestSlackConcurrent(t *testing.T) {
	s := chattest.NewSlack(t)
	api := slackClient(s, chattest.SlackBotToken)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, _, err := api.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("x", false)); err != nil {
				t.Error(err)
			}
			_ = s.Messages("C1")
		})
	}
	wg.Wait()
	if s.Posts() != 20 {
		t.Errorf("Posts: got %d, want 20", s.Posts())
	}
	seen := map[string]bool{}
	for _, m := range s.Messages("C1") {
		if seen[m.TS] {
			t.Errorf("ts %s handed out twice", m.TS)
		}
		seen[m.TS] = true
	}
}

func TestSlackSignAndPayloads(t *testing.T) {
	now := time.Now()
	body := chattest.SlackEventJSON(chattest.SlackEvent{EventID: "Ev1", User: "U1", Text: "ack 12", Channel: "C1", TS: "1.000001"})
	sv, err := slack.NewSecretsVerifier(chattest.SlackSign("sekrit", body, now), "sekrit")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Errorf("SlackSign: slack-go rejects it: %v", err)
	}

	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatal(err)
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || msg.User != "U1" || msg.Text != "ack 12" || ev.Data.(*slackevents.EventsAPICallbackEvent).EventID != "Ev1" {
		t.Errorf("SlackEventJSON parses as %+v", ev)
	}

	form, err := url.ParseQuery(string(chattest.SlackBlockActionsForm(chattest.SlackAction{
		UserID: "U1", ActionID: "klaxon_ack", Value: "12", ChannelID: "C1", MessageTS: "1.000001",
	})))
	if err != nil {
		t.Fatal(err)
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Type != slack.InteractionTypeBlockActions || ic.User.ID != "U1" || ic.Container.MessageTs != "1.000001" ||
		len(ic.ActionCallback.BlockActions) != 1 || ic.ActionCallback.BlockActions[0].Value != "12" {
		t.Errorf("SlackBlockActionsForm parses as %+v", ic)
	}

	r := chattest.SlackRequest("/commands", "sekrit", chattest.SlackSlashCommandForm(chattest.SlackSlashCommand{
		Command: "/klaxon", Text: "ack 12", UserID: "U1", ChannelID: "C1",
	}), "application/x-www-form-urlencoded", now)
	cmd, err := slack.SlashCommandParse(r)
	if err != nil || cmd.Text != "ack 12" || cmd.UserID != "U1" || cmd.Command != "/klaxon" {
		t.Errorf("SlackSlashCommandForm parses as %+v, %v", cmd, err)
	}
}

func TestSlackConversations(t *testing.T) {
	s := chattest.NewSlack(t)
	api := slackClient(s, chattest.SlackBotToken)
	ctx := context.Background()
	slackErr := func(err error) string {
		var e slack.SlackErrorResponse
		errors.As(err, &e)
		return e.Err
	}

	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "incident-4"})
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID == "" || ch.Name != "incident-4" || ch.IsPrivate || !ch.IsChannel || !ch.IsMember || ch.Creator != chattest.SlackBotUserID {
		t.Errorf("created channel: got %+v", ch)
	}
	taken := s.CreateChannel("incident-5")
	for name, want := range map[string]string{
		"incident-4": "name_taken", "incident-5": "name_taken", "": "invalid_name_required",
		"Incident-6": "invalid_name_specials", "incident 6": "invalid_name_specials", strings.Repeat("x", 81): "invalid_name_maxlength",
	} {
		if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name}); slackErr(err) != want {
			t.Errorf("create %q: got %v, want %s", name, err, want)
		}
	}

	// Without force, one user Slack cannot invite fails the whole call.
	for users, want := range map[string]string{
		"U0ALICE," + chattest.SlackBotUserID: "cant_invite_self",
		"U0ALICE,nobody":                     "user_not_found",
	} {
		if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, strings.Split(users, ",")...); slackErr(err) != want {
			t.Errorf("invite %s: got %v, want %s", users, err, want)
		}
	}
	if got, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U0ALICE", "W0BOB"); err != nil || got.ID != ch.ID {
		t.Fatalf("invite: got %+v, %v", got, err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U0ALICE"); slackErr(err) != "already_in_channel" {
		t.Errorf("invite again: got %v, want already_in_channel", err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, taken, "U0ALICE"); slackErr(err) != "not_in_channel" {
		t.Errorf("invite to a channel the bot is not in: got %v, want not_in_channel", err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, "C0NOSUCH", "U0ALICE"); slackErr(err) != "channel_not_found" {
		t.Errorf("invite to an unknown channel: got %v, want channel_not_found", err)
	}

	if got, err := api.SetTopicOfConversationContext(ctx, ch.ID, "SEV1 investigating"); err != nil || got.Topic.Value != "SEV1 investigating" {
		t.Fatalf("setTopic: got %+v, %v", got, err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, strings.Repeat("é", 251)); slackErr(err) != "too_long" {
		t.Errorf("251-character topic: got %v, want too_long", err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("first", false)); err != nil {
		t.Fatal(err)
	}

	want := chattest.SlackChannel{
		ID: ch.ID, Name: "incident-4", Creator: chattest.SlackBotUserID, Topic: "SEV1 investigating",
		Members: []string{chattest.SlackBotUserID, "U0ALICE", "W0BOB"},
	}
	if got := s.Channels(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("Channels: got %+v, want [%+v] (not the one a person made)", got, want)
	}
	if got, ok := s.Channel(taken); !ok || got.Name != "incident-5" {
		t.Errorf("Channel(%s): got %+v, %v", taken, got, ok)
	}
	if msgs := s.Messages(ch.ID); len(msgs) != 1 || msgs[0].Text != "first" {
		t.Errorf("messages in the channel: got %+v", msgs)
	}
}
