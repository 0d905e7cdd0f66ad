package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

const (
	incident7 = `{"id":7,"title":"INCIDENT: api - 50% of requests failing","service":"api","summary":"50% of requests failing","level":0,"severity":"SEV1",` +
		`"status":"identified","commander":"alice","comms_lead":"bob","responders":["carol"],` +
		`"checklist":[{"text":"Incident declared with a severity","done_by":"ops-cli","done_at":"2026-03-10T12:00:00Z"},{"text":"Diagnosis: cause identified"},{"text":"Fix applied"}],` +
		`"next_update_at":"2026-03-10T12:07:00Z","alerts":[12]}`
	resolved7 = `{"id":7,"title":"INCIDENT: api - 50% of requests failing","level":1,"severity":"SEV2","status":"resolved","postmortem_due":"2026-03-12T12:00:00Z"}`
	action4   = `{"id":4,"incident_id":7,"text":"Canary deploys","owner":"bob","created_by":"ops-cli","created_at":"2026-03-10T12:00:00Z"}`
)

func TestIncidentCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		status   int
		answer   string
		wantPath string
		wantBody string // the request's JSON body, if any
		wantCode int
		wantOut  string // in stdout (exit 0) or stderr
	}{
		{
			"declare with a severity other than the suggestion",
			[]string{"incident", "declare", "--sev", "1", "--service", "api", "--failing", "35%", "50% of requests failing"},
			201, `{"incident":` + incident7 + `,"suggested":{"severity":"SEV2","level":1,"why":"35% of requests failing is 10–50%"}}`,
			"POST /api/v1/incidents", `{"service":"api","summary":"50% of requests failing","severity":"1","failing":"35%"}`,
			0, "Note: suggested SEV2 (35% of requests failing is 10–50%); declared SEV1 as you said.\nDeclared incident 7 (SEV1): INCIDENT: api - 50% of requests failing\nCommander: alice\n",
		},
		{
			"declare from the suggestion",
			[]string{"incident", "declare", "--service", "api", "--failing", "35%", "--down", "--commander", "alice", "--alert", "12", "lots", "of", "errors"},
			201, `{"incident":{"id":8,"title":"INCIDENT: api - lots of errors","level":1,"severity":"SEV2"},"suggested":{"severity":"SEV2","level":1,"why":"35% of requests failing is 10–50%"}}`,
			"POST /api/v1/incidents", `{"service":"api","summary":"lots of errors","failing":"35%","down":true,"commander":"alice","alert_id":12}`,
			0, "Suggested SEV2: 35% of requests failing is 10–50%\nDeclared incident 8 (SEV2)",
		},
		{
			"declare without room, privately",
			[]string{"incident", "declare", "--service", "api", "--sev", "sev2", "--no-room", "--private", "slow"},
			201, `{"incident":{"id":9,"level":1,"severity":"SEV2"}}`,
			"POST /api/v1/incidents", `{"service":"api","summary":"slow","severity":"sev2","room":false,"public":false}`,
			0, "Declared incident 9 (SEV2)",
		},
		{
			"declare json", []string{"incident", "declare", "--service", "api", "--room", "--public", "--json", "slow"},
			201, `{"incident":{"id":9,"level":1,"severity":"SEV2"}}`,
			"POST /api/v1/incidents", `{"service":"api","summary":"slow","room":true,"public":true}`,
			0, `"severity": "SEV2"`,
		},
		{
			"declare with room and no room", []string{"incident", "declare", "--service", "api", "--room", "--no-room", "x"},
			201, `{}`, "", "", 1, "--room and --no-room",
		},
		{
			"declare with a bad failure rate", []string{"incident", "declare", "--service", "api", "--failing", "lots", "x"},
			201, `{}`, "", "", 1, "--failing:",
		},
		{
			"declare without service", []string{"incident", "declare", "x"},
			201, `{}`, "", "", 1, "service",
		},
		{
			"declare refused", []string{"incident", "declare", "--service", "api", "--sev", "9", "x"},
			400, `{"error":"severity: \"9\" is not a severity (SEV1, SEV2, SEV3, SEV4, or 1–4)","code":"invalid"}`,
			"POST /api/v1/incidents", `{"service":"api","summary":"x","severity":"9"}`, 1, `"9" is not a severity (SEV1, SEV2, SEV3, SEV4, or 1–4)`,
		},
		{
			"severity offline", []string{"incident", "severity", "--failing", "35%"},
			500, `{}`, "", "", 0, "Suggested SEV2: 35% of requests failing is 10–50%\n",
		},
		{
			"severity offline, down", []string{"incident", "severity", "--down", "--failing", "1", "--json"},
			500, `{}`, "", "", 0, `"severity": "SEV1",`,
		},
		{
			"severity offline, bad rate", []string{"incident", "severity", "--failing", "120%"},
			500, `{}`, "", "", 1, "--failing:",
		},
		{
			"severity change", []string{"incident", "severity", "7", "P1"},
			200, resolved7, "POST /api/v1/incidents/7/severity", `{"severity":"P1"}`, 0, "Incident 7 is now SEV2.",
		},
		{
			"list", []string{"incident", "list"}, 200, `{"incidents":[` + incident7 + `]}`,
			"GET /api/v1/incidents?limit=100&open=true", "", 0, "7   SEV1  identified  api      50% of requests failing  alice      0001-01-01 00:00:00 UTC",
		},
		{
			"list all", []string{"incident", "list", "--all", "--limit", "5"}, 200, `{"incidents":[]}`,
			"GET /api/v1/incidents?limit=5", "", 0, "No incidents.",
		},
		{
			"show unknown", []string{"incident", "show", "99"}, 404, `{"error":"no incident 99. No incident is open.","code":"not_found"}`,
			"GET /api/v1/incidents/99", "", 1, "no incident 99. No incident is open.",
		},
		{
			"show not an ID", []string{"incident", "show", "api"}, 200, `{}`, "", "", 1, `"api" is not an incident ID`,
		},
		{
			"update", []string{"incident", "update", "7", "--public", "--status", "identified", "Found", "the", "bad", "deploy"},
			200, incident7, "POST /api/v1/incidents/7/updates", `{"text":"Found the bad deploy","public":true,"status":"identified"}`,
			0, "Posted an update to incident 7 (identified). Next update due 2026-03-10 12:07:00 UTC.",
		},
		{
			"status", []string{"incident", "status", "#7", "identified"},
			200, incident7, "POST /api/v1/incidents/7/status", `{"status":"identified"}`, 0, "Incident 7 is now identified.",
		},
		{
			"role", []string{"incident", "role", "7", "comms", "bob"},
			200, incident7, "POST /api/v1/incidents/7/roles", `{"person":"bob","role":"comms_lead"}`, 0, "bob is comms lead of incident 7.",
		},
		{
			"bad role", []string{"incident", "role", "7", "chef", "bob"},
			200, incident7, "", "", 1, `"chef" is not a role`,
		},
		{
			"check", []string{"incident", "check", "7", "1"},
			200, incident7, "POST /api/v1/incidents/7/checklist/1", "", 0, "Ticked 1. Incident declared with a severity (incident 7)",
		},
		{
			"uncheck", []string{"incident", "check", "7", "2", "--undo"},
			200, incident7, "DELETE /api/v1/incidents/7/checklist/2", "", 0, "Unticked 2. Diagnosis: cause identified (incident 7)",
		},
		{
			"check refused", []string{"incident", "check", "7", "99"},
			400, `{"error":"incident 7's checklist has items 1–3, not 99","code":"invalid"}`,
			"POST /api/v1/incidents/7/checklist/99", "", 1, "items 1–3, not 99",
		},
		{
			"note", []string{"incident", "note", "7", "Rolled back to v1.4.2"},
			200, incident7, "POST /api/v1/incidents/7/notes", `{"text":"Rolled back to v1.4.2"}`, 0, "Noted on incident 7.",
		},
		{
			"link", []string{"incident", "link", "7", "12"},
			200, incident7, "POST /api/v1/incidents/7/alerts", `{"alert_id":12}`, 0, "Linked alert 12 to incident 7.",
		},
		{
			"resolve", []string{"incident", "resolve", "7", "--cause", "a bad deploy", "--fix", "rolled back", "--impact", "35% of requests failed"},
			200, resolved7, "POST /api/v1/incidents/7/resolve", `{"root_cause":"a bad deploy","fix":"rolled back","impact":"35% of requests failed"}`,
			0, "Resolved incident 7. Postmortem due 2026-03-12 12:00:00 UTC: klaxon postmortem 7 -o incident-7.md",
		},
		{
			"resolve refused", []string{"incident", "resolve", "7", "--cause", "a bad deploy"},
			400, `{"error":"to resolve, give the fix, impact","code":"invalid"}`,
			"POST /api/v1/incidents/7/resolve", `{"root_cause":"a bad deploy","fix":"","impact":""}`, 1, "to resolve, give the fix, impact",
		},
		{
			"actions", []string{"actions", "--open", "--incident", "7"}, 200, `{"actions":[` + action4 + `]}`,
			"GET /api/v1/actions?incident=7&open=true", "", 0, "4   7         open   bob    Canary deploys",
		},
		{
			"no actions", []string{"actions"}, 200, `{"actions":[]}`, "GET /api/v1/actions?", "", 0, "No action items.",
		},
		{
			"action add", []string{"action", "add", "7", "--owner", "bob", "Canary", "deploys"}, 201, action4,
			"POST /api/v1/incidents/7/actions", `{"owner":"bob","text":"Canary deploys"}`, 0, "Action item 4 on incident 7: Canary deploys (owner: bob)\n",
		},
		{
			"action done", []string{"action", "done", "4"}, 200, action4,
			"POST /api/v1/actions/4/done", "", 0, "Action item 4 done: Canary deploys",
		},
		{
			"status set", []string{"status", "set", "api", "major_outage"}, 200, `{"component":"api","status":"major_outage"}`,
			"PUT /api/v1/components/api", `{"status":"major_outage"}`, 0, "api is major_outage on the status page until `klaxon status clear api`.",
		},
		{
			"status clear", []string{"status", "clear", "api", "--json"}, 200, `{"component":"api","status":""}`,
			"PUT /api/v1/components/api", `{"status":""}`, 0, `"component": "api"`,
		},
		{
			"status refused", []string{"status", "set", "db", "down"}, 400, `{"error":"no component \"db\" (components: api)","code":"invalid"}`,
			"PUT /api/v1/components/db", `{"status":"down"}`, 1, `no component "db" (components: api)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{status: tt.status, answer: tt.answer}
			code, out, errOut := run(f.start(t), tt.args...)
			if code != tt.wantCode || f.path != tt.wantPath {
				t.Fatalf("exit %d after %q; want %d after %q\nstdout %s\nstderr %s", code, f.path, tt.wantCode, tt.wantPath, out, errOut)
			}
			if tt.wantBody != "" {
				if got := compactJSON(t, f.body); got != tt.wantBody {
					t.Errorf("request body: got %s, want %s", got, tt.wantBody)
				}
			}
			got := out
			if code != 0 {
				got = errOut
			}
			if !strings.Contains(trimLines(got), tt.wantOut) {
				t.Errorf("got\n%s\nwant it to hold %q", got, tt.wantOut)
			}
		})
	}
}

func TestPrintIncident(t *testing.T) {
	at := func(hm string) time.Time {
		t, _ := time.Parse("2006-01-02 15:04", "2026-03-10 "+hm)
		return t
	}
	d := &httpapi.IncidentDetail{
		Incident: httpapi.Incident{Severity: "SEV1", Incident: &klaxon.Incident{
			ID: 7, Title: "INCIDENT: api - 50% of requests failing", Service: "api", Summary: "50% of requests failing",
			Status: klaxon.IncidentResolved, Public: true, Reporter: "ops-cli",
			DetectedAt: at("11:55"), DeclaredAt: at("12:00"), ResolvedAt: at("12:40"),
			Commander: "alice", CommsLead: "bob", Responders: []string{"carol", "dave"},
			Room:      klaxon.IncidentRoom{Channel: "slack", Ref: "C0123", Name: "#inc-7-api"},
			Checklist: []klaxon.ChecklistItem{{Text: "Incident declared with a severity", DoneBy: "ops-cli", DoneAt: at("12:00")}, {Text: "Fix applied"}},
			Alerts:    []int64{12, 13},
			RootCause: "a bad deploy", Fix: "rolled back", Impact: "35% of requests failed",
			PostmortemDue: at("23:59"),
		}},
		Timeline: []klaxon.TimelineEntry{
			{At: at("11:55"), Actor: "alertmanager", Kind: klaxon.TimelineKind(klaxon.EventFired), Text: "APIErrors fired"},
			{At: at("12:00"), Actor: "ops-cli", Kind: klaxon.TimelineDeclared, Text: "Declared", Public: true},
			{At: at("12:40"), Actor: "alice", Kind: klaxon.TimelineResolved, Text: "Resolved after 45m"},
		},
		Actions: []klaxon.ActionItem{{ID: 4, IncidentID: 7, Text: "Canary deploys", Owner: "bob"}, {ID: 5, IncidentID: 7, Text: "Alert per deploy", DoneBy: "carol", DoneAt: at("13:00")}},
	}
	var out bytes.Buffer
	if err := printIncident(&out, d); err != nil {
		t.Fatal(err)
	}
	want := `Incident 7  SEV1  resolved
INCIDENT: api - 50% of requests failing

  Service:     api
  Summary:     50% of requests failing
  Public:      yes, on the status page
  Reporter:    ops-cli
  Detected:    2026-03-10 11:55:00 UTC
  Declared:    2026-03-10 12:00:00 UTC
  Resolved:    2026-03-10 12:40:00 UTC
  Commander:   alice
  Comms lead:  bob
  Responders:  carol, dave
  Room:        slack: #inc-7-api
  Alerts:      12, 13
  Root cause:  a bad deploy
  Fix:         rolled back
  Impact:      35% of requests failed
  Postmortem:  due 2026-03-10 23:59:00 UTC

Checklist:
  [x] 1. Incident declared with a severity  (ops-cli, 2026-03-10 12:00:00 UTC)
  [ ] 2. Fix applied

Timeline:
  2026-03-10 11:55:00 UTC  alertmanager  fired     APIErrors fired
  2026-03-10 12:00:00 UTC  ops-cli       declared  Declared (public)
  2026-03-10 12:40:00 UTC  alice         resolved  Resolved after 45m

Action items:
  ID  INCIDENT  STATE          OWNER  TEXT
  4   7         open           bob    Canary deploys
  5   7         done by carol  -      Alert per deploy
`
	if got := trimLines(out.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPostmortem(t *testing.T) {
	const draft = "# Postmortem: INCIDENT: api - 50% of requests failing\n"
	f := &fakeServer{status: http.StatusOK, answer: draft}
	url := f.start(t)

	code, out, errOut := run(url, "postmortem", "7")
	if code != 0 || f.path != "GET /api/v1/incidents/7/postmortem" || out != draft {
		t.Fatalf("print: exit %d after %q, stdout %q, stderr %q", code, f.path, out, errOut)
	}

	file := filepath.Join(t.TempDir(), "incident-7.md")
	code, out, errOut = run(url, "postmortem", "7", "-o", file)
	if b, _ := os.ReadFile(file); code != 0 || string(b) != draft || !strings.Contains(out, "Wrote the postmortem draft of incident 7 to "+file) {
		t.Fatalf("write: exit %d, file %q, stdout %q, stderr %q", code, b, out, errOut)
	}
	// A draft being edited is not overwritten by accident.
	os.WriteFile(file, []byte("my edits"), 0o644)
	code, _, errOut = run(url, "postmortem", "7", "-o", file)
	if b, _ := os.ReadFile(file); code == 0 || string(b) != "my edits" || !strings.Contains(errOut, "--force") {
		t.Errorf("overwrite: exit %d, file %q, stderr %q; want a refusal naming --force", code, b, errOut)
	}
	code, _, errOut = run(url, "postmortem", "7", "--output", file, "--force")
	if b, _ := os.ReadFile(file); code != 0 || string(b) != draft {
		t.Errorf("--force: exit %d, file %q, stderr %q", code, b, errOut)
	}

	code, out, _ = run(url, "postmortem", "7", "--json")
	if code != 0 || !strings.Contains(out, `"markdown": "# Postmortem`) || !strings.Contains(out, `"incident_id": 7`) {
		t.Errorf("--json: exit %d, stdout %s", code, out)
	}

	f.answer = resolved7
	code, out, errOut = run(url, "postmortem", "#7", "--done")
	if code != 0 || f.path != "POST /api/v1/incidents/7/postmortem/done" || f.requests != 6 || out != "Marked the postmortem of incident 7 done: its reminders stop.\n" {
		t.Errorf("--done: exit %d after %q (%d requests), stdout %q, stderr %q", code, f.path, f.requests, out, errOut)
	}

	f.status, f.answer = http.StatusBadRequest, `{"error":"incident 7 is still investigating: resolve it first","code":"invalid"}`
	code, _, errOut = run(url, "postmortem", "7", "--done")
	if code == 0 || !strings.Contains(errOut, "resolve it first") {
		t.Errorf("--done refused: exit %d, stderr %q", code, errOut)
	}
}
