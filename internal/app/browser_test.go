package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// People who sign in to the browser tests.
const (
	alicePassword  = "alice-correct-horse-1" // responder
	victorPassword = "victor-battery-staple" // viewer
	adaPassword    = "ada-admin-passphrase"  // admin
)

// Markup an attacker would put in alert labels and annotations.
const (
	xssScript    = `<script>window.__xss=1</script>`
	xssAttribute = `"><img src=x onerror="window.__xss=2">`
)

// TestBrowser drives the web UI in headless Chromium against a Klaxon fed
// by a real Alertmanager: alice signs in and sees an alert appear on the
// Now page without a reload, acks it with its button, and the Slack
// message is edited; victor, a viewer, has no button and is refused when
// he posts the form anyway; markup in an alert's labels is shown as text
// and runs nothing. Every page is saved as a screenshot at phone and
// desktop width for a reviewer.
func TestBrowser(t *testing.T) {
	chromium := requireChromium(t)
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")

	slack := chattest.NewSlack(t)
	k := startKlaxon(t, serverOptions{extraYAML: browserConfig(t, slack)})
	am := startAlertmanager(t, amBin, amtoolBin, k.URL, false)
	addAccount(t, k, "alice", "Alice Liddell", klaxon.RoleResponder, alicePassword)
	addAccount(t, k, "victor", "Victor Viewer", klaxon.RoleViewer, victorPassword)
	addAccount(t, k, "ada", "Ada Admin", klaxon.RoleAdmin, adaPassword)

	browser := startBrowser(t, chromium)
	alice := newTab(t, browser, k.URL, "alice")
	alice.signIn("alice", alicePassword)
	victor := newTab(t, browser, k.URL, "victor")
	victor.signIn("victor", victorPassword)

	// Both watch the Now page, marked so that a reload would show.
	for _, tb := range []*tab{alice, victor} {
		tb.openLive("/")
		eval[bool](tb, "mark the page", `window.__sameDocument = true`)
	}
	am.add(t, amAlert{labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod", "pod": "api-1", "severity": "critical"},
		summary: "Pod prod/api-1 is crash looping"}, time.Now().Add(-time.Minute), time.Time{})
	id := firedAlertID(t, k, "KubePodCrashLooping", "prod")
	row := fmt.Sprintf("tr#alert-%d", id)
	for _, tb := range []*tab{alice, victor} {
		tb.waitFor("the alert on the Now page without a reload", row+`[data-state="firing"]`)
		if !eval[bool](tb, "check the page was not reloaded", `window.__sameDocument === true`) {
			t.Fatalf("%s: the alert showed up in a reloaded page, not live", tb.who)
		}
	}

	testViewerCannotAck(t, k, victor, id)
	testAckEditsChat(t, k, slack, alice, id)
	// The ack reaches the viewer's page live too.
	victor.waitFor("the ack on the viewer's Now page", row+`[data-state="acknowledged"]`)
	if !eval[bool](victor, "check the page was not reloaded", `window.__sameDocument === true`) {
		t.Errorf("victor: the ack showed up in a reloaded page, not live")
	}

	xssID := testMarkupIsInert(t, k, am, alice)
	screenshotPages(t, k, browser, alice, id, xssID)

	for _, tb := range []*tab{alice, victor} {
		tb.checkConsole()
	}
}

// browserConfig has what the pages show: a Slack channel every alert goes
// to, a schedule, runbooks and a status page.
func browserConfig(t *testing.T, slack *chattest.Slack) string {
	runbooks, err := filepath.Abs(filepath.Join("..", "..", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`
channels:
  - name: ops-slack
    type: slack
    api_url: %s
    bot_token: %s
    signing_secret: %s
    channel: %s
routes:
  receiver: ops-slack
  escalation: default
  group_by: [alertname, namespace]
  group_interval: 200ms
runbooks:
  dir: %s
users:
  - {name: alice, slack: U0ALICE}
  - {name: bob, slack: U0BOB}
schedules:
  - name: primary
    rotations: [{participants: [alice, bob], shift: weekly, start: "2026-01-05"}]
escalation_policies:
  - name: default
    steps: [{targets: [{schedule: primary}]}]
status_page:
  title: Example status
  components:
    - {name: API, services: [api]}
`, slack.URL, chattest.SlackBotToken, slackSecret, slackChannel, runbooks)
}

// addAccount creates an account through the API with the admin token.
func addAccount(t *testing.T, k *klaxonServer, username, name string, role klaxon.Role, password string) {
	t.Helper()
	req := httpapi.UserRequest{Username: username, Name: name, Role: role, Password: password}
	if _, err := k.Client.AddUser(t.Context(), req); err != nil {
		t.Fatalf("create account %s: %v", username, err)
	}
}

// firedAlertID waits for the alert Alertmanager sent and returns its ID.
func firedAlertID(t *testing.T, k *klaxonServer, alertname, namespace string) int64 {
	t.Helper()
	var id int64
	eventually(t, alertname+" in Klaxon", func() error {
		list, err := k.Client.Alerts(t.Context(), "all", 100)
		if err != nil {
			return err
		}
		for _, a := range list.Alerts {
			if a.Labels["alertname"] == alertname && a.Labels["namespace"] == namespace {
				id = a.ID
				return nil
			}
		}
		return fmt.Errorf("not among %d alerts", len(list.Alerts))
	})
	return id
}

// testViewerCannotAck: the viewer's page has no ack button, and posting
// the ack form anyway, with the session's CSRF token, is refused.
func testViewerCannotAck(t *testing.T, k *klaxonServer, victor *tab, id int64) {
	t.Helper()
	button := fmt.Sprintf("#alert-%d button.ack", id)
	if eval[bool](victor, "look for the ack button", fmt.Sprintf(`document.querySelector(%q) !== null`, button)) {
		t.Errorf("victor (viewer) sees an ack button (%s)", button)
	}
	if eval[string](victor, "read the CSRF token", `document.querySelector("input[name=csrf]")?.value ?? ""`) == "" {
		t.Fatal("victor: the Now page has no input[name=csrf] with the session's CSRF token")
	}
	status := eval[int](victor, "post the ack form", fmt.Sprintf(`(async () => {
		const body = new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value});
		const resp = await fetch("/alerts/%d/ack", {method: "POST", body, redirect: "manual"});
		return resp.status;
	})()`, id))
	if status != http.StatusForbidden {
		t.Errorf("victor (viewer) posting the ack form: got status %d, want 403", status)
	}
	d, err := k.Client.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Alert.State != klaxon.StateFiring {
		t.Errorf("after the viewer's ack: alert %d is %s by %q, want still firing", id, d.Alert.State, d.Alert.AckedBy)
	}
}

// testAckEditsChat: alice acks with the row's button; the row shows it
// after the form's redirect, and the alert's Slack message is edited to
// say so.
func testAckEditsChat(t *testing.T, k *klaxonServer, slack *chattest.Slack, alice *tab, id int64) {
	t.Helper()
	before := slackMessageOf(t, k, slack, id)
	alice.do("click the ack button", chromedp.Click(chromedp.CSS(fmt.Sprintf("#alert-%d button.ack", id))))
	alice.waitFor("the acknowledged alert after the ack", fmt.Sprintf(`tr#alert-%d[data-state="acknowledged"]`, id))

	d, err := k.Client.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Alert.State != klaxon.StateAcknowledged || d.Alert.AckedBy != "alice" {
		t.Errorf("after alice's ack: alert %d is %s by %q, want acknowledged by alice", id, d.Alert.State, d.Alert.AckedBy)
	}
	eventually(t, "the Slack message edited to show the ack", func() error {
		m := slackMessageOf(t, k, slack, id)
		if m.Edits == before.Edits || !strings.Contains(string(m.Attachments), "ACKNOWLEDGED") {
			return fmt.Errorf("message %s: %d edits (%d before the ack), attachments %s", m.TS, m.Edits, before.Edits, m.Attachments)
		}
		return nil
	})
}

// slackMessageOf waits for the Slack message of the alert's group and
// returns it as the fake holds it now.
func slackMessageOf(t *testing.T, k *klaxonServer, slack *chattest.Slack, id int64) chattest.SlackMessage {
	t.Helper()
	var msg chattest.SlackMessage
	eventually(t, fmt.Sprintf("the Slack message of alert %d", id), func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil {
			return err
		}
		for _, m := range d.Messages {
			if m.Channel != "ops-slack" || m.Ref == "" {
				continue
			}
			// The Slack channel's ref names the message; its shape is
			// the channel's own business, read here only to find it.
			var ref struct{ TS string }
			if err := json.Unmarshal([]byte(m.Ref), &ref); err != nil {
				return fmt.Errorf("ref %q: %v", m.Ref, err)
			}
			for _, sm := range slack.Messages(slackChannel) {
				if sm.TS == ref.TS {
					msg = sm
					return nil
				}
			}
			return fmt.Errorf("no message %s in the Slack fake", ref.TS)
		}
		return fmt.Errorf("no ops-slack message among %+v", d.Messages)
	})
	return msg
}

// testMarkupIsInert sends, through Alertmanager's API, an alert whose
// labels and annotations carry markup, and checks the Now page and the
// alert's page show it as text: nothing runs, nothing is added to the
// document. It returns the alert's ID.
func testMarkupIsInert(t *testing.T, k *klaxonServer, am *alertmanager, alice *tab) int64 {
	t.Helper()
	alice.openLive("/")
	// Alerts a runbook covers: the runbook is filled in with its labels.
	am.post(t, map[string]string{"alertname": "KubePodCrashLooping", "namespace": xssScript, "pod": xssAttribute, "severity": "warning"},
		map[string]string{"summary": "Pod " + xssScript + " " + xssAttribute, "description": xssAttribute + " " + xssScript})
	id := firedAlertID(t, k, "KubePodCrashLooping", xssScript)
	row := fmt.Sprintf("#alert-%d", id)
	alice.waitFor("the alert with markup on the Now page", "tr"+row)
	checkInert(t, alice, "the Now page", row)
	alice.open(fmt.Sprintf("/alerts/%d", id))
	checkInert(t, alice, "the alert's page", "#main")
	return id
}

// checkInert checks that the payloads show as text inside scope and that
// none of them became markup.
func checkInert(t *testing.T, tb *tab, page, scope string) {
	t.Helper()
	type result struct {
		XSS      string   `json:"xss"`      // typeof window.__xss
		Text     string   `json:"text"`     // the scope's text
		Scripts  []string `json:"scripts"`  // every script's src, "inline" for none
		Injected int      `json:"injected"` // elements only the payloads would make
	}
	r := eval[result](tb, "inspect "+page, fmt.Sprintf(`({
		xss: typeof window.__xss,
		text: document.querySelector(%q)?.textContent ?? "",
		scripts: Array.from(document.scripts, s => s.getAttribute("src") ?? "inline"),
		injected: document.querySelectorAll('img[src="x"], [onerror]').length,
	})`, scope))
	if r.XSS != "undefined" {
		t.Errorf("%s: a payload ran: window.__xss is a %s", page, r.XSS)
	}
	for _, p := range []string{xssScript, xssAttribute} {
		if !strings.Contains(r.Text, p) {
			t.Errorf("%s: %s does not show %s as text; it shows %q", page, scope, p, r.Text)
		}
	}
	if len(r.Scripts) != 1 || r.Scripts[0] != "/static/app.js" {
		t.Errorf("%s: scripts %q, want only /static/app.js", page, r.Scripts)
	}
	if r.Injected != 0 {
		t.Errorf("%s: %d elements made of the payload's markup", page, r.Injected)
	}
}

// post sends an alert to Alertmanager's API directly: amtool parses
// labels as matchers, and refuses a value with an unescaped quote.
func (am *alertmanager) post(t *testing.T, labels, annotations map[string]string) {
	t.Helper()
	body, err := json.Marshal([]map[string]any{{
		"labels": labels, "annotations": annotations,
		"startsAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
	}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post to Alertmanager's /api/v2/alerts: %s", resp.Status)
	}
}

// screenshotPages saves every page, at both widths: alice's pages, the
// dark theme, the admin's user list, and the pages for the signed out.
func screenshotPages(t *testing.T, k *klaxonServer, browser context.Context, alice *tab, id, xssID int64) {
	t.Helper()
	ctx := t.Context()
	declared, err := k.Client.DeclareIncident(ctx, httpapi.DeclareRequest{
		Service: "api", Summary: "35% of requests failing", Severity: "SEV2", Commander: "alice", AlertID: id,
	})
	if err != nil {
		t.Fatalf("declare an incident: %v", err)
	}
	inc := declared.Incident.ID
	if _, err := k.Client.PostIncidentUpdate(ctx, inc, httpapi.UpdateRequest{
		Text: "Found the bad deploy, rolling back", Public: true, Status: "identified",
	}); err != nil {
		t.Fatalf("post an incident update: %v", err)
	}
	if _, err := k.Client.AddIncidentNote(ctx, inc, "Rollback of api v2.14.0 started"); err != nil {
		t.Fatalf("add an incident note: %v", err)
	}

	dir := screenshotDir(t)
	pages := []struct{ name, path string }{
		{"now", "/"},
		{"alerts", "/alerts"},
		{"alert", fmt.Sprintf("/alerts/%d", id)},
		{"alert-markup", fmt.Sprintf("/alerts/%d", xssID)},
		{"incidents", "/incidents"},
		{"incident", fmt.Sprintf("/incidents/%d", inc)},
		{"oncall", "/oncall"},
		{"runbooks", "/runbooks"},
		{"insights", "/insights"},
		{"account", "/account"},
	}
	for _, p := range pages {
		alice.screenshot(dir, p.name, p.path)
	}
	alice.open("/theme?set=dark")
	if theme := eval[string](alice, "read the theme", `document.documentElement.dataset.theme`); theme != "dark" {
		t.Errorf("after /theme?set=dark: data-theme is %q, want dark", theme)
	}
	alice.screenshot(dir, "now-dark", "/")

	visitor := newTab(t, browser, k.URL, "a visitor")
	visitor.screenshot(dir, "login", "/login")
	visitor.screenshot(dir, "status", "/status")
	visitor.signIn("ada", adaPassword)
	visitor.screenshot(dir, "admin-users", "/admin/users")
	visitor.checkConsole()
}
