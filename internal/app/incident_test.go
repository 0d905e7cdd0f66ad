package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// TestIncidentEndToEnd: an incident declared with Slack's slash command
// gets its own Slack channel with the commander and the on-call engineer
// invited; an update typed there goes to both channels and to the status
// page; a missed update reminds the leads; resolving posts the summary,
// and the status page and the postmortem draft tell the story.
func TestIncidentEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testIncidentEndToEnd(t, "") })
	t.Run("postgres", func(t *testing.T) { testIncidentEndToEnd(t, pgtest.URL(t)) })
}

func testIncidentEndToEnd(t *testing.T, database string) {
	slack := chattest.NewSlack(t)
	// Updates are due every 3s here, not every 5m: the cadence rules are
	// tested in internal/incident on a simulated clock.
	cfg := fmt.Sprintf(`
url: https://klaxon.example.org
channels:
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
users:
  - {name: alice, slack: U0ALICE}
  - {name: bob, slack: U0BOB}
schedules:
  - name: primary
    rotations: [{participants: [bob], shift: weekly, start: "2026-01-05"}]
escalation_policies:
  - name: default
    steps: [{targets: [{schedule: primary}]}]
incidents:
  announce: [ops-slack]
  rooms: ops-slack
  update_every: {SEV1: 2s, SEV2: 3s}
status_page:
  title: Example status
  components:
    - {name: API, services: [api]}
`, slack.URL, chattest.SlackBotToken, slackSecret, slackChannel)
	k := startKlaxon(t, serverOptions{database: database, extraYAML: cfg})

	// alice declares with the slash command in the alerts channel.
	reply := slackPost(t, k.URL, "commands", "application/x-www-form-urlencoded", chattest.SlackSlashCommandForm(chattest.SlackSlashCommand{
		Command: "/klaxon", Text: "incident declare sev2 api 35% of requests failing", UserID: "U0ALICE", UserName: "alice", ChannelID: slackChannel,
	}))
	if !strings.Contains(reply, "Declared #1 INCIDENT: api - 35% of requests failing at SEV2") {
		t.Fatalf("slash command reply: %s", reply)
	}

	var room chattest.SlackChannel
	eventually(t, "the incident's channel", func() error {
		for _, c := range slack.Channels() {
			if strings.HasPrefix(c.Name, "incident-") && strings.HasSuffix(c.Name, "-api-35-of-requests-failing") {
				room = c
			}
		}
		if room.ID == "" {
			return fmt.Errorf("no incident channel among %+v", slack.Channels())
		}
		if !strings.Contains(strings.Join(room.Members, ","), "U0ALICE") || !strings.Contains(strings.Join(room.Members, ","), "U0BOB") {
			return fmt.Errorf("members %v: want the commander and the on-call engineer", room.Members)
		}
		msgs := slack.Messages(room.ID)
		if len(msgs) == 0 || !strings.Contains(msgs[0].Text, "INCIDENT DECLARED #1") || !strings.Contains(msgs[0].Text, "Next update: ") {
			return fmt.Errorf("first message: %+v", msgs)
		}
		return nil
	})
	// The room is Klaxon's once it has recorded it: commands typed there
	// apply to the incident from then on.
	eventually(t, "the room recorded", func() error {
		d, err := k.Client.Incident(t.Context(), 1)
		if err != nil {
			return err
		}
		if d.Incident.Room.Ref != room.ID {
			return fmt.Errorf("room %+v", d.Incident.Room)
		}
		return nil
	})
	if !strings.Contains(room.Topic, "Commander: alice") {
		t.Errorf("topic %q", room.Topic)
	}

	// bob posts a public update in the incident channel, plain text.
	slackSay(t, k.URL, "U0BOB", room.ID, "1795748100.000100", "update --public --status identified Found the bad deploy, rolling back")
	eventually(t, "the update in both channels", func() error {
		for _, ch := range []string{room.ID, slackChannel} {
			if !slackHas(slack, ch, "Update from bob: Found the bad deploy, rolling back") {
				return fmt.Errorf("no update in %s", ch)
			}
		}
		return nil
	})

	// Nobody updates for 3s: the commander is reminded in the channel.
	eventually(t, "the update reminder", func() error {
		if !slackHas(slack, room.ID, "status update due") || !slackHas(slack, room.ID, "<@U0ALICE>") {
			return fmt.Errorf("no reminder mentioning alice in %s", room.ID)
		}
		return nil
	})

	var summary struct {
		Status     struct{ Indicator string }
		Components []struct{ Name, Status string }
		Incidents  []struct {
			Name, Status, Impact string
			IncidentUpdates      []struct{ Status, Body string } `json:"incident_updates"`
		}
	}
	eventually(t, "the incident on the status page", func() error {
		if err := getJSON(k.URL+"/status/api/v2/summary.json", &summary); err != nil {
			return err
		}
		if len(summary.Incidents) != 1 || len(summary.Components) != 1 || summary.Components[0].Status != "partial_outage" {
			return fmt.Errorf("summary %+v", summary)
		}
		for _, u := range summary.Incidents[0].IncidentUpdates {
			if u.Body == "Found the bad deploy, rolling back" && u.Status == "identified" {
				return nil
			}
		}
		return fmt.Errorf("no public update: %+v", summary.Incidents[0])
	})
	if inc := summary.Incidents[0]; inc.Name != "INCIDENT: api - 35% of requests failing" || inc.Impact != "major" || summary.Status.Indicator != "major" {
		t.Errorf("status page: %+v", summary)
	}

	// alice resolves from the incident channel.
	slackSay(t, k.URL, "U0ALICE", room.ID, "1795748200.000100", "resolve cause: v1.5 leaked connections; fix: rolled back to v1.4.2; impact: 35% of API requests failed for 4 minutes")
	eventually(t, "the closure in both channels", func() error {
		for _, ch := range []string{room.ID, slackChannel} {
			if !slackHas(slack, ch, "RESOLVED #1") || !slackHas(slack, ch, "Root cause: v1.5 leaked connections") {
				return fmt.Errorf("no closure in %s", ch)
			}
		}
		return nil
	})
	eventually(t, "the status page back to operational", func() error {
		var incidents struct {
			Incidents []struct{ Name, Status string }
		}
		if err := getJSON(k.URL+"/status/api/v2/incidents.json", &incidents); err != nil {
			return err
		}
		if err := getJSON(k.URL+"/status/api/v2/summary.json", &summary); err != nil {
			return err
		}
		if len(incidents.Incidents) != 1 || incidents.Incidents[0].Status != "resolved" || summary.Components[0].Status != "operational" {
			return fmt.Errorf("incidents %+v, components %+v", incidents, summary.Components)
		}
		return nil
	})

	// The postmortem draft has the story, in order.
	req, _ := http.NewRequest(http.MethodGet, k.URL+"/api/v1/incidents/1/postmortem", nil)
	req.Header.Set("Authorization", "Bearer "+k.Client.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("postmortem: %s %s", resp.Status, md)
	}
	last := -1
	for _, want := range []string{"# Postmortem: INCIDENT: api - 35% of requests failing", "## Timeline", "alice", "Found the bad deploy, rolling back", "Missed update", "v1.5 leaked connections", "rolled back to v1.4.2"} {
		i := strings.Index(string(md[max(last, 0):]), want)
		if i < 0 {
			t.Fatalf("postmortem lacks %q after byte %d:\n%s", want, last, md)
		}
		last += i + 1
	}
}

// slackPost posts a signed request to Klaxon's Slack endpoint kind and
// returns the answer's text ("" if none).
func slackPost(t *testing.T, klaxonURL, kind, contentType string, body []byte) string {
	t.Helper()
	req := chattest.SlackRequest(klaxonURL+"/api/v1/chat/ops-slack/"+kind, slackSecret, body, contentType, time.Now())
	req.RequestURI = ""
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slack %s: %s %s", kind, resp.Status, data)
	}
	var answer struct{ Text string }
	_ = json.Unmarshal(data, &answer)
	return answer.Text
}

// slackSay is a user's message in a channel, as the Events API delivers it.
func slackSay(t *testing.T, klaxonURL, user, channel, ts, text string) {
	t.Helper()
	slackPost(t, klaxonURL, "events", "application/json", chattest.SlackEventJSON(chattest.SlackEvent{
		EventID: "Ev" + strings.ReplaceAll(ts, ".", ""), User: user, Text: text, Channel: channel, TS: ts,
	}))
}

func slackHas(s *chattest.Slack, channel, text string) bool {
	for _, m := range s.Messages(channel) {
		if strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
