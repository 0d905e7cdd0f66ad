package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/cli"
)

// onCallYAML has hand-off notices on, so adding an override also queues
// them (River's unique jobs, on SQLite here).
const onCallYAML = `
channels:
  - {name: audit, type: webhook, url: %s, secret: %s}
users:
  - {name: alice, slack: U0ALICE}
  - {name: bob, slack: U0BOB}
schedules:
  - name: primary
    time_zone: Europe/Berlin
    handoff_notice: audit
    rotations: [{participants: [alice, bob], shift: weekly, start: "2026-01-05"}]
calendar:
  secret: calendar-secret-0123456789
`

// TestOnCallCLI: who is on call, overrides from the CLI (an unknown person
// refused with the names that exist), and the calendar feed it points to.
func TestOnCallCLI(t *testing.T) {
	hook := chattest.NewWebhook(t)
	s := startKlaxon(t, serverOptions{extraYAML: fmt.Sprintf(onCallYAML, hook.URL, chattest.WebhookSecret)})

	code, out, errOut := klaxonCLI(t, s, "oncall", "primary")
	if code != 0 || !strings.Contains(out, "primary") || !(strings.Contains(out, "alice") && strings.Contains(out, "bob")) {
		t.Fatalf("oncall: exit %d\n%s%s", code, out, errOut)
	}
	url := ""
	for _, f := range strings.Fields(out) {
		if strings.Contains(f, "/calendar/schedules/primary.ics?token=") {
			url = f
		}
	}
	if url == "" {
		t.Fatalf("oncall prints no calendar URL:\n%s", out)
	}
	// The URL names the configured url (http://<listen> here); fetch it from the test server.
	feed := s.URL + url[strings.Index(url, "/calendar/"):]
	status, body := get(t, feed)
	if status != 200 || !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.Contains(body, "SUMMARY:On call: primary (") {
		t.Fatalf("calendar feed: %d\n%s", status, body)
	}
	if status, _ := get(t, s.URL+"/calendar/schedules/primary.ics?token=wrong"); status != 404 {
		t.Fatalf("feed with a wrong token: %d", status)
	}

	code, _, errOut = klaxonCLI(t, s, "override", "add", "primary", "dave", "--for", "2h")
	if code == 0 || !strings.Contains(errOut, `no user "dave"`) || !strings.Contains(errOut, "alice, bob") {
		t.Fatalf("override for an unknown person: exit %d, %q", code, errOut)
	}
	code, _, errOut = klaxonCLI(t, s, "override", "add", "secondary", "bob", "--for", "2h")
	if code == 0 || !strings.Contains(errOut, `no schedule "secondary"`) || !strings.Contains(errOut, "primary") {
		t.Fatalf("override on an unknown schedule: exit %d, %q", code, errOut)
	}
	for _, who := range []string{"alice", "bob"} {
		if code, out, errOut = klaxonCLI(t, s, "override", "add", "primary", who, "--for", "2h"); code != 0 {
			t.Fatalf("override add %s: exit %d %s%s", who, code, out, errOut)
		}
		code, out, _ = klaxonCLI(t, s, "--json", "oncall", "primary")
		if code != 0 || !strings.Contains(out, `"user": "`+who+`"`) {
			t.Fatalf("after overriding with %s, oncall says:\n%s", who, out)
		}
	}
	code, out, _ = klaxonCLI(t, s, "override", "list", "primary")
	if code != 0 || strings.Count(out, "primary") < 2 {
		t.Fatalf("override list: exit %d\n%s", code, out)
	}
}

// TestConfigCheckOnCall: every on-call problem named with its key and line.
func TestConfigCheckOnCall(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`users:
  - {name: alice, time_zone: Mars/Olympus}
schedules:
  - name: primary
    rotations:
      - {participants: [], shift: weekly, start: "2026-01-05"}
      - {participants: [carol], shift: 0s, start: "2026-01-05"}
    overrides:
      - {user: alice, start: "2026-12-24T09:00:00Z", end: "2026-12-23T09:00:00Z"}
escalation_policies:
  - name: default
    steps:
      - targets: [{}]
`), 0o600)
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), []string{"config", "check", bad}, &out, &errOut)
	for _, want := range []string{
		bad + ":2: users[0].time_zone",
		bad + ":6: schedules[0].rotations[0].participants",
		bad + ":7: schedules[0].rotations[1].participants[0]",
		bad + ":7: schedules[0].rotations[1].shift",
		bad + ":9: schedules[0].overrides[0]",
		bad + ":13: escalation_policies[0].steps[0].targets[0]",
	} {
		if code == 0 || !strings.Contains(errOut.String(), want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, errOut.String())
		}
	}
}
