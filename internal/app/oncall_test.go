package app_test

import (
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

// TestEscalationEndToEnd: a P0 from a real Alertmanager that nobody acks
// mentions the primary on call in its first Slack message, then the
// secondary in the thread, then pages PagerDuty; bob's ack from Slack is
// recorded as bob's and acknowledges the PagerDuty incident.
func TestEscalationEndToEnd(t *testing.T) {
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")
	t.Run("sqlite", func(t *testing.T) { testEscalationEndToEnd(t, amBin, amtoolBin, "") })
	t.Run("postgres", func(t *testing.T) { testEscalationEndToEnd(t, amBin, amtoolBin, pgtest.URL(t)) })
}

func testEscalationEndToEnd(t *testing.T, amBin, amtoolBin, database string) {
	slack, pd := chattest.NewSlack(t), chattest.NewPagerDuty(t)
	// Steps wait 2s here, not the P0 deadline of 15m: the deadline rules
	// are tested in internal/notify on a simulated clock.
	cfg := fmt.Sprintf(`
url: https://klaxon.example.org
channels:
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
  - name: pager
    type: pagerduty
    url: %s
    routing_key: %s
users:
  - {name: alice, slack: U0ALICE}
  - {name: bob, slack: U0BOB}
schedules:
  - name: primary
    rotations: [{participants: [alice], shift: weekly, start: "2026-01-05"}]
  - name: secondary
    rotations: [{participants: [bob], shift: weekly, start: "2026-01-05"}]
escalation_policies:
  - name: default
    steps:
      - targets: [{schedule: primary}]
      - targets: [{schedule: secondary}]
        after: 2s
      - targets: [{channel: pager}]
        after: 2s
routes:
  receiver: ops-slack
  escalation: default
  group_interval: 200ms
`, slack.URL, chattest.SlackBotToken, slackSecret, slackChannel, pd.URL, chattest.PagerDutyRoutingKey)
	k := startKlaxon(t, serverOptions{database: database, extraYAML: cfg})
	am := startAlertmanager(t, amBin, amtoolBin, k.URL, false)

	am.add(t, amAlert{labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod", "pod": "api-1", "severity": "critical"},
		summary: "Pod prod/api-1 is crash looping"}, time.Now().Add(-time.Minute), time.Time{})

	var top chattest.SlackMessage
	eventually(t, "the first message mentioning the primary", func() error {
		msgs := slack.Messages(slackChannel)
		if len(msgs) == 0 {
			return fmt.Errorf("no message")
		}
		top = msgs[0]
		if !strings.Contains(top.Text+string(top.Blocks), "<@U0ALICE>") {
			return fmt.Errorf("first message does not mention alice: %s", top.Text)
		}
		return nil
	})
	eventually(t, "the secondary mentioned in the thread", func() error {
		for _, m := range slack.Messages(slackChannel) {
			if m.ThreadTS == top.TS && strings.Contains(m.Text+string(m.Blocks), "<@U0BOB>") {
				return nil
			}
		}
		return fmt.Errorf("no thread reply mentioning bob")
	})
	eventually(t, "PagerDuty paged", func() error {
		if st := pd.Incident(pagerduty.DedupKey(1)); st != chattest.PagerDutyTriggered {
			return fmt.Errorf("incident is %q", st)
		}
		return nil
	})

	list, err := k.Client.Alerts(t.Context(), "all", 10)
	if err != nil || len(list.Alerts) != 1 {
		t.Fatalf("alerts: %+v %v", list, err)
	}
	id := list.Alerts[0].ID
	form := chattest.SlackBlockActionsForm(chattest.SlackAction{UserID: "U0BOB", UserName: "bob", ActionID: "klaxon_ack",
		Value: fmt.Sprint(id), ChannelID: slackChannel, MessageTS: top.TS})
	resp, err := http.DefaultClient.Do(slackClick(k.URL, slackSecret, form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, "bob's ack, and PagerDuty acknowledged", func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil {
			return err
		}
		if d.Alert.State != klaxon.StateAcknowledged || d.Alert.AckedBy != "bob" {
			return fmt.Errorf("alert is %s by %q", d.Alert.State, d.Alert.AckedBy)
		}
		if st := pd.Incident(pagerduty.DedupKey(1)); st != chattest.PagerDutyAcknowledged {
			return fmt.Errorf("incident is %q", st)
		}
		return nil
	})

	// The history says who was called, where, when, and who acked.
	d, err := k.Client.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, e := range d.Events {
		history = append(history, string(e.Kind)+": "+e.Message)
	}
	all := strings.Join(history, "\n")
	for _, want := range []string{
		"escalated: Firing: escalation step 1 of 3 (policy default): calling alice (on call for primary) on ops-slack",
		"notified: Posted to ops-slack, mentioning alice (U0ALICE)",
		"escalation step 2 of 3 (policy default): calling bob (on call for secondary) on ops-slack",
		"notified: Mentioned bob (U0BOB) on ops-slack",
		"escalation step 3 of 3 (policy default): calling pager",
		"notified: Paged pager",
		"acknowledged",
		"escalation_stopped: Escalation stopped (policy default): acknowledged by bob",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("history lacks %q:\n%s", want, all)
		}
	}
}
