package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

// amPayload is an Alertmanager webhook notification of alerts firing.
func amPayload(t *testing.T, alerts []map[string]string, startsAt time.Time) []byte {
	t.Helper()
	type amAlertJSON struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	var list []amAlertJSON
	for _, l := range alerts {
		list = append(list, amAlertJSON{Status: "firing", Labels: l, StartsAt: startsAt,
			Annotations: map[string]string{"summary": l["alertname"] + " on " + l["pod"]},
			Fingerprint: fmt.Sprintf("%x", sha256.Sum256([]byte(l["alertname"]+"/"+l["pod"])))[:16]})
	}
	b, err := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "klaxon", "groupKey": "{}:{}", "alerts": list})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *chatFakes) stormConfig() string {
	return fmt.Sprintf(`
channels:
  - name: ops-matrix
    type: matrix
    homeserver: %s
    access_token: %s
    room: "#alerts:%s"
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
routes:
  receiver: [ops-matrix, ops-slack]
  group_by: [alertname]
  group_interval: 1s
`, f.matrix.URL, matrixBotToken, chattest.MatrixServerName, f.slack.URL, chattest.SlackBotToken, slackSecret, slackChannel)
}

// TestStorm: 10,000 distinct alerts over 50 alert names in 10 seconds give
// one message per name per room, edited until it counts all its alerts;
// every alert is stored.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10-second storm")
	}
	const names, perName, requests = 50, 200, 100 // 10,000 alerts, 100 per request
	f := newChatFakes(t)
	k := startKlaxon(t, serverOptions{extraYAML: f.stormConfig()})
	startsAt := time.Now().UTC().Add(-time.Minute)
	tick := time.NewTicker(10 * time.Second / requests)
	defer tick.Stop()
	for r := range requests {
		<-tick.C
		var alerts []map[string]string
		for i := range names * perName / requests {
			n := r*(names*perName/requests) + i
			alerts = append(alerts, map[string]string{"alertname": fmt.Sprintf("Storm%02d", n%names), "pod": fmt.Sprintf("pod-%05d", n), "severity": "warning"})
		}
		if resp := post(t, k.URL+"/api/v1/ingest/alertmanager", amPayload(t, alerts, startsAt), bearer(amToken)...); resp.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", r, resp.status, resp.body)
		}
	}
	list, err := k.Client.Alerts(t.Context(), "all", 1)
	if err != nil || len(list.Alerts) != 1 || list.Alerts[0].ID != names*perName {
		t.Fatalf("newest alert %+v, %v; want ID %d", list, err, names*perName)
	}
	full := fmt.Sprintf("%d alerts", perName)
	eventually(t, "every group's message to count all its alerts", func() error {
		done := 0
		for _, m := range f.botMessages() {
			if strings.Contains(m.Body, full) {
				done++
			}
		}
		slackDone := 0
		for _, m := range f.slackTop() {
			if strings.Contains(m.Text+string(m.Attachments), full) {
				slackDone++
			}
		}
		if done != names || slackDone != names {
			return fmt.Errorf("matrix %d, slack %d of %d groups complete", done, slackDone, names)
		}
		return nil
	})
	mx, sl := len(f.botMessages()), len(f.slackTop())
	if mx != names || sl != names {
		t.Fatalf("posts: matrix %d, slack %d; want one per alert name (%d)", mx, sl, names)
	}
	// Edits are bounded by group_interval (1s) over the storm's ~10s.
	if sends, updates := f.matrix.Calls("send"), f.slack.Updates(); sends > names*15 || updates > names*15 {
		t.Fatalf("matrix sends %d, slack updates %d: more than ~one edit per group per group_interval", sends, updates)
	}
	t.Logf("10,000 alerts → matrix: %d messages, %d sends; slack: %d messages, %d updates",
		mx, f.matrix.Calls("send"), sl, f.slack.Updates())
}

// TestPlatformOutage: Slack answers 503 and then 429 for a while; once it
// is back every message is delivered, in the order the alerts came, once.
func TestPlatformOutage(t *testing.T) {
	f := newChatFakes(t)
	k := startKlaxon(t, serverOptions{extraYAML: f.stormConfig()})
	f.slack.Fail(3, http.StatusServiceUnavailable, "")
	f.slack.Fail(1, http.StatusTooManyRequests, "1")
	for i := range 5 {
		body := amPayload(t, []map[string]string{{"alertname": fmt.Sprintf("Outage%d", i), "pod": "p", "severity": "critical"}}, time.Now().UTC())
		if resp := post(t, k.URL+"/api/v1/ingest/alertmanager", body, bearer(amToken)...); resp.status != http.StatusOK {
			t.Fatalf("ingest: %d %s", resp.status, resp.body)
		}
	}
	eventually(t, "all five messages on Slack", func() error {
		if n := len(f.slackTop()); n != 5 {
			return fmt.Errorf("%d messages (%d posts, %d history calls, %d in matrix)", n, f.slack.Calls("chat.postMessage"), f.slack.Calls("conversations.history"), len(f.botMessages()))
		}
		return nil
	})
	for i, m := range f.slackTop() {
		if want := fmt.Sprintf("Outage%d", i); !strings.Contains(m.Text, want) {
			t.Errorf("message %d is %q, want %s: out of order", i, m.Text, want)
		}
	}
	if f.slack.Posts() != 5 {
		t.Errorf("%d posts accepted for 5 messages", f.slack.Posts())
	}
	if n := len(f.botMessages()); n != 5 {
		t.Errorf("matrix, which never failed, has %d messages", n)
	}
}

// TestEditsAfterRestart: the platform's message IDs are stored, so an ack
// after a restart edits the message posted before it.
func TestEditsAfterRestart(t *testing.T) {
	f := newChatFakes(t)
	db := "sqlite://" + t.TempDir() + "/klaxon.db"
	k := startKlaxon(t, serverOptions{database: db, extraYAML: f.stormConfig()})
	body := amPayload(t, []map[string]string{{"alertname": "Restart", "pod": "p", "severity": "critical"}}, time.Now().UTC())
	if resp := post(t, k.URL+"/api/v1/ingest/alertmanager", body, bearer(amToken)...); resp.status != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.status, resp.body)
	}
	eventually(t, "the first post", func() error {
		if len(f.botMessages()) != 1 || len(f.slackTop()) != 1 {
			return fmt.Errorf("matrix %d, slack %d", len(f.botMessages()), len(f.slackTop()))
		}
		return nil
	})
	k.stop()
	k = startKlaxon(t, serverOptions{database: db, extraYAML: f.stormConfig()})
	if _, err := k.Client.Change(t.Context(), 1, "ack"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edits", func() error {
		mx, sl := f.botMessages(), f.slackTop()
		if len(mx) != 1 || len(sl) != 1 || mx[0].Edits == 0 || sl[0].Edits == 0 || !strings.Contains(mx[0].Body, "ACKNOWLEDGED by ops-cli") {
			return fmt.Errorf("matrix %+v; slack %+v", mx, sl)
		}
		return nil
	})
}
