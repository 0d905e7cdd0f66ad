package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagerduty"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

const (
	matrixBot      = "@klaxon:" + chattest.MatrixServerName
	matrixBotToken = "mx-bot-token-0123456789"
	matrixAlice    = "@alice:" + chattest.MatrixServerName
	slackSecret    = "slack-signing-secret-0123456789"
	slackChannel   = "C0ALERTS"
)

// chatFakes are the four platforms and a webhook receiver, faked.
type chatFakes struct {
	matrix     *chattest.Matrix
	matrixRoom string
	slack      *chattest.Slack
	gchat      *chattest.GoogleChat
	pd         *chattest.PagerDuty
	webhook    *chattest.Webhook
}

func newChatFakes(t *testing.T) *chatFakes {
	f := &chatFakes{
		matrix: chattest.NewMatrix(t), slack: chattest.NewSlack(t), gchat: chattest.NewGoogleChat(t),
		pd: chattest.NewPagerDuty(t), webhook: chattest.NewWebhook(t),
	}
	f.matrix.AddUser(matrixBot, matrixBotToken)
	f.matrixRoom = f.matrix.CreateRoom("#alerts:"+chattest.MatrixServerName, matrixBot, matrixAlice)
	return f
}

// config routes everything to Matrix, Google Chat and the webhook, and
// critical alerts to Slack and PagerDuty as well.
func (f *chatFakes) config(routesExtra string) string {
	return fmt.Sprintf(`
url: https://klaxon.example.org
channels:
  - name: ops-matrix
    type: matrix
    homeserver: %s
    access_token: %s
    room: "#alerts:%s"
    mention: ["%s"]
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
  - name: wecare-chat
    type: googlechat
    webhook_url: %s
  - name: pager
    type: pagerduty
    url: %s
    routing_key: %s
  - name: audit
    type: webhook
    url: %s
    secret: %s
routes:
  receiver: [ops-matrix, wecare-chat, audit]
  group_by: [alertname, namespace]
  group_interval: 200ms
  routes:
    - matchers: ['severity="critical"']
      receiver: [ops-matrix, wecare-chat, audit, ops-slack, pager]
%s`, f.matrix.URL, matrixBotToken, chattest.MatrixServerName, matrixAlice,
		f.slack.URL, chattest.SlackBotToken, slackSecret, slackChannel,
		f.gchat.URL, f.pd.URL, chattest.PagerDutyRoutingKey, f.webhook.URL, chattest.WebhookSecret, routesExtra)
}

// botMessages are the Matrix room's messages from Klaxon, thread replies
// excluded.
func (f *chatFakes) botMessages() []chattest.MatrixMessage {
	var out []chattest.MatrixMessage
	for _, m := range f.matrix.Messages(f.matrixRoom) {
		if m.Sender == matrixBot && m.RelType != "m.thread" {
			out = append(out, m)
		}
	}
	return out
}

func (f *chatFakes) slackTop() []chattest.SlackMessage {
	var out []chattest.SlackMessage
	for _, m := range f.slack.Messages(slackChannel) {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

// webhookStates are the group states the webhook receiver got, in order.
func (f *chatFakes) webhookStates() []string {
	var out []string
	for _, r := range f.webhook.Requests() {
		var p struct {
			Group struct {
				State string `json:"state"`
			} `json:"group"`
		}
		if json.Unmarshal(r.Body, &p) == nil && r.Valid {
			out = append(out, p.Group.State)
		}
	}
	return out
}

// TestChatEndToEnd: a real Alertmanager fires a critical alert into
// Klaxon; it lands on every platform; alice acks it by typing in Matrix,
// which edits every platform's message; then a signed Slack button click
// resolves it, and every platform shows that too.
func TestChatEndToEnd(t *testing.T) {
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")
	t.Run("sqlite", func(t *testing.T) { testChatEndToEnd(t, amBin, amtoolBin, "") })
	t.Run("postgres", func(t *testing.T) { testChatEndToEnd(t, amBin, amtoolBin, pgtest.URL(t)) })
}

func testChatEndToEnd(t *testing.T, amBin, amtoolBin, database string) {
	f := newChatFakes(t)
	k := startKlaxon(t, serverOptions{database: database, extraYAML: f.config("")})
	am := startAlertmanager(t, amBin, amtoolBin, k.URL, false)

	// The Matrix listener must have made its first sync, or alice's
	// command would be history it rightly skips.
	eventually(t, "the Matrix listener to be syncing", func() error {
		if n := f.matrix.Calls("sync"); n < 2 {
			return fmt.Errorf("%d sync calls", n)
		}
		return nil
	})

	start := time.Now().Add(-time.Minute)
	am.add(t, amAlert{labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod", "pod": "api-1", "severity": "critical"},
		summary: "Pod prod/api-1 is crash looping"}, start, time.Time{})

	var id int64
	eventually(t, "the alert in Klaxon", func() error {
		list, err := k.Client.Alerts(t.Context(), "all", 10)
		if err != nil || len(list.Alerts) != 1 {
			return fmt.Errorf("alerts: %+v, %v", list, err)
		}
		id = list.Alerts[0].ID
		return nil
	})
	ackWords := fmt.Sprintf("ack %d", id)
	eventually(t, "the first message on every platform", func() error {
		var missing []string
		if m := f.botMessages(); len(m) != 1 || !strings.Contains(m[0].Body, ackWords) || len(m[0].Mentions) != 1 {
			missing = append(missing, fmt.Sprintf("matrix %+v", m))
		}
		if m := f.slackTop(); len(m) != 1 {
			missing = append(missing, fmt.Sprintf("slack %d", len(m)))
		}
		if len(f.gchat.Messages()) != 1 {
			missing = append(missing, "google chat")
		}
		if st := f.pd.Incident(pagerduty.DedupKey(1)); st != chattest.PagerDutyTriggered {
			missing = append(missing, "pagerduty "+st)
		}
		if st := f.webhookStates(); len(st) != 1 || st[0] != "firing" {
			missing = append(missing, fmt.Sprint("webhook ", st))
		}
		if len(missing) > 0 {
			return fmt.Errorf("not yet: %s", strings.Join(missing, "; "))
		}
		return nil
	})

	// alice types "ack N" in the Matrix room.
	f.matrix.Say(matrixAlice, f.matrixRoom, ackWords)
	eventually(t, "the ack from Matrix everywhere", func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil {
			return err
		}
		if d.Alert.State != klaxon.StateAcknowledged || d.Alert.AckedBy != matrixAlice {
			return fmt.Errorf("alert is %s by %q", d.Alert.State, d.Alert.AckedBy)
		}
		return everyPlatformShows(f, "ACKNOWLEDGED", chattest.PagerDutyAcknowledged, "acknowledged")
	})
	// The answer is posted after the ack commits: wait for it too.
	eventually(t, "the answer in the thread naming alice", func() error {
		for _, m := range f.matrix.Messages(f.matrixRoom) {
			if m.Sender == matrixBot && m.RelType == "m.thread" && strings.Contains(m.Body, "acknowledged") && strings.Contains(m.Body, matrixAlice) {
				return nil
			}
		}
		return fmt.Errorf("none among %+v", f.matrix.Messages(f.matrixRoom))
	})

	// A signed Slack button click resolves it.
	top := f.slackTop()[0]
	form := chattest.SlackBlockActionsForm(chattest.SlackAction{UserID: "U0BOB", UserName: "bob", ActionID: "klaxon_resolve",
		Value: fmt.Sprint(id), ChannelID: slackChannel, MessageTS: top.TS})
	resp, err := http.DefaultClient.Do(slackClick(k.URL, slackSecret, form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("button click: %s", resp.Status)
	}
	eventually(t, "the resolve from Slack everywhere", func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil {
			return err
		}
		if d.Alert.State != klaxon.StateResolved || d.Alert.ResolvedBy != "slack:U0BOB" {
			return fmt.Errorf("alert is %s by %q", d.Alert.State, d.Alert.ResolvedBy)
		}
		return everyPlatformShows(f, "RESOLVED", chattest.PagerDutyResolved, "resolved")
	})

	// A forged click changes nothing.
	if resp, err := http.DefaultClient.Do(slackClick(k.URL, "wrong-secret-0123456789", form)); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged click: %v %v", resp, err)
	}

	// Each platform got one message, edited: no second post anywhere.
	if n := len(f.botMessages()); n != 1 {
		t.Errorf("matrix: %d top-level messages, want 1", n)
	}
	if n := len(f.slackTop()); n != 1 {
		t.Errorf("slack: %d top-level messages, want 1", n)
	}
	d, err := k.Client.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 5 {
		t.Errorf("alert %d lists %d messages, want one per channel: %+v", id, len(d.Messages), d.Messages)
	}
	for _, m := range d.Messages {
		if m.Sends == 0 || m.LastError != "" {
			t.Errorf("message on %s: %+v", m.Channel, m)
		}
	}
}

// slackClick is a button click as Slack posts it, signed with secret.
func slackClick(klaxonURL, secret string, form []byte) *http.Request {
	req := chattest.SlackRequest(klaxonURL+"/api/v1/chat/ops-slack/interactivity", secret, form, "application/x-www-form-urlencoded", time.Now())
	req.RequestURI = "" // built as a server sees it; we are the client
	return req
}

// everyPlatformShows checks each platform reflects the state: the Matrix
// and Slack messages are edited, Google Chat has a reply in the group's
// thread, PagerDuty's incident is in pdState, the webhook got the state.
func everyPlatformShows(f *chatFakes, text, pdState, state string) error {
	var missing []string
	if m := f.botMessages(); len(m) != 1 || m[0].Edits == 0 || !strings.Contains(m[0].Body, text) {
		missing = append(missing, "matrix edit")
	}
	if m := f.slackTop(); len(m) != 1 || m[0].Edits == 0 || !strings.Contains(string(m[0].Attachments), text) {
		missing = append(missing, "slack update")
	}
	found := false
	for _, m := range f.gchat.Messages() {
		if m.Reply && strings.Contains(strings.ToLower(m.Text), state) {
			found = true
		}
	}
	if !found {
		missing = append(missing, "google chat reply")
	}
	if st := f.pd.Incident(pagerduty.DedupKey(1)); st != pdState {
		missing = append(missing, "pagerduty "+st)
	}
	if st := f.webhookStates(); len(st) == 0 || st[len(st)-1] != state {
		missing = append(missing, fmt.Sprint("webhook ", st))
	}
	if len(missing) > 0 {
		return fmt.Errorf("not yet: %s", strings.Join(missing, "; "))
	}
	return nil
}
