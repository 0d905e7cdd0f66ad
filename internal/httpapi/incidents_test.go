package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
	"github.com/klaxon-oss/klaxon/internal/statuspage"
)

// incidentConfig leaves everything to the defaults (SEV1–SEV4, the default
// checklist) but a status page with an api component.
const incidentConfig = `
status_page:
  components:
    - name: api
`

type incidentServer struct {
	*testServer
	alerts *alerting.Service
}

// startIncidents serves the API over a real SQLite store with an incident
// service and status page when enabled, neither otherwise.
func startIncidents(t *testing.T, enabled bool) *incidentServer {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg, err := config.Parse("test.yaml", []byte(incidentConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return testNow }
	tokens := httpapi.NewTokens()
	tokens.Add(apiToken, httpapi.Credential{Name: "ops-cli"})
	srv := &httpapi.Server{
		Alerts: alerting.New(store, alerting.Options{Now: now}),
		Tokens: tokens,
		Auth:   testAuth(t, store),
		Now:    now,
	}
	ts := httptest.NewServer(nil)
	if enabled {
		srv.Incidents = incident.New(store, incident.Options{
			Config:   cfg,
			Severity: klaxon.DefaultSeverityPolicy(),
			OnCall:   oncall.NewService(store, testDirectory(), oncall.Options{Now: now}),
			BaseURL:  ts.URL,
			Now:      now,
		})
		srv.StatusPage = statuspage.New(statuspage.Options{
			Store:      store,
			Title:      cfg.StatusPage.Title,
			BaseURL:    ts.URL,
			Components: cfg.StatusPage.Components,
			LevelNames: cfg.Incidents.Names,
			Now:        now,
		})
	}
	srv.BaseURL = ts.URL
	ts.Config.Handler = srv.Handler()
	t.Cleanup(ts.Close)
	return &incidentServer{
		testServer: &testServer{URL: ts.URL, Client: &httpapi.Client{BaseURL: ts.URL, Token: apiToken}},
		alerts:     srv.Alerts,
	}
}

// fire ingests one alert and returns its ID.
func (s *incidentServer) fire(t *testing.T) int64 {
	t.Helper()
	res, err := s.alerts.Ingest(context.Background(), "test", []klaxon.Signal{{
		Key: "api-5xx", Action: klaxon.ActionTrigger, Severity: "critical", Summary: "API 5xx rate high",
		Labels: map[string]string{"alertname": "APIErrors", "service": "api"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].AlertID
}

func (s *incidentServer) declare(t *testing.T, req httpapi.DeclareRequest) *httpapi.Declared {
	t.Helper()
	d, err := s.Client.DeclareIncident(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func kinds(timeline []klaxon.TimelineEntry) []string {
	var out []string
	for _, e := range timeline {
		out = append(out, string(e.Kind))
	}
	return out
}

func TestIncidentRoundTrip(t *testing.T) {
	s := startIncidents(t, true)
	ctx := context.Background()
	c := s.Client
	yes := true
	d := s.declare(t, httpapi.DeclareRequest{
		Service: "api", Summary: "50% of requests failing", Severity: "sev1", Failing: "35%",
		Commander: "alice", Public: &yes,
	})
	inc := d.Incident
	if inc.ID == 0 || inc.Severity != "SEV1" || inc.Level != 0 || inc.Status != klaxon.IncidentInvestigating ||
		inc.Commander != "alice" || inc.Reporter != "ops-cli" || !inc.Public {
		t.Fatalf("declared %+v (%s), want SEV1 investigating, commander alice, reported by ops-cli, public", inc.Incident, inc.Severity)
	}
	// --sev wins, but the suggestion is still given.
	if sg := d.Suggested; sg == nil || sg.Severity != "SEV2" || sg.Level != 1 || !strings.Contains(sg.Why, "10–50%") {
		t.Errorf("suggested %+v, want SEV2 for 35%% failing", d.Suggested)
	}
	id := inc.ID

	open, err := c.Incidents(ctx, true, 0)
	if err != nil || len(open.Incidents) != 1 || open.Incidents[0].ID != id || open.Incidents[0].Severity != "SEV1" {
		t.Fatalf("open incidents: got %+v, %v; want incident %d", open, err, id)
	}

	steps := []struct {
		name  string
		do    func() (*httpapi.Incident, error)
		check func(*httpapi.Incident) bool
	}{
		{"update", func() (*httpapi.Incident, error) {
			return c.PostIncidentUpdate(ctx, id, httpapi.UpdateRequest{Text: "Bad deploy found, rolling back", Public: true, Status: "identified"})
		}, func(i *httpapi.Incident) bool {
			return i.Status == klaxon.IncidentIdentified && i.LastUpdateAt.Equal(testNow)
		}},
		{"comms lead", func() (*httpapi.Incident, error) { return c.SetIncidentRole(ctx, id, "comms", "bob") },
			func(i *httpapi.Incident) bool { return i.CommsLead == "bob" }},
		{"responder", func() (*httpapi.Incident, error) { return c.SetIncidentRole(ctx, id, "responder", "carol") },
			func(i *httpapi.Incident) bool { return len(i.Responders) == 1 && i.Responders[0] == "carol" }},
		{"tick", func() (*httpapi.Incident, error) { return c.CheckIncidentItem(ctx, id, 4, true) },
			func(i *httpapi.Incident) bool {
				return i.Checklist[3].DoneBy == "ops-cli" && i.Checklist[3].DoneAt.Equal(testNow)
			}},
		{"tick another", func() (*httpapi.Incident, error) { return c.CheckIncidentItem(ctx, id, 5, true) },
			func(i *httpapi.Incident) bool { return i.Checklist[4].Done() }},
		{"untick", func() (*httpapi.Incident, error) { return c.CheckIncidentItem(ctx, id, 5, false) },
			func(i *httpapi.Incident) bool { return !i.Checklist[4].Done() && i.Checklist[3].Done() }},
		{"note", func() (*httpapi.Incident, error) { return c.AddIncidentNote(ctx, id, "Rolled back to v1.4.2") },
			func(i *httpapi.Incident) bool { return true }},
		{"link", func() (*httpapi.Incident, error) { return c.LinkIncidentAlert(ctx, id, s.fire(t)) },
			func(i *httpapi.Incident) bool { return len(i.Alerts) == 1 }},
		{"severity", func() (*httpapi.Incident, error) { return c.SetIncidentSeverity(ctx, id, "P1") },
			func(i *httpapi.Incident) bool { return i.Level == 1 && i.Severity == "SEV2" }},
		{"status", func() (*httpapi.Incident, error) { return c.SetIncidentStatus(ctx, id, "monitoring") },
			func(i *httpapi.Incident) bool { return i.Status == klaxon.IncidentMonitoring }},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.ID != id || !st.check(got) {
			t.Errorf("%s: got %+v (%s)", st.name, got.Incident, got.Severity)
		}
	}

	detail, err := c.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := []string{"declared", "update", "status", "update", "role", "role", "checklist", "checklist", "checklist", "note", "alert_linked", "severity", "status"}
	var own []klaxon.TimelineEntry // without the linked alert's own history
	for _, e := range detail.Timeline {
		if e.Actor == "ops-cli" {
			own = append(own, e)
		}
	}
	if got := strings.Join(kinds(own), " "); got != strings.Join(wantKinds, " ") {
		t.Errorf("timeline by ops-cli: got %s\nwant %s", got, strings.Join(wantKinds, " "))
	}
	if detail.Incident.Severity != "SEV2" || len(detail.Actions) != 0 {
		t.Errorf("detail: %s with %d actions, want SEV2 with none", detail.Incident.Severity, len(detail.Actions))
	}

	resolved, err := c.ResolveIncident(ctx, id, httpapi.ResolveRequest{RootCause: "a bad deploy", Fix: "rolled back", Impact: "35% of API requests failed for 20 minutes"})
	if err != nil {
		t.Fatal(err)
	}
	if resolved.Status != klaxon.IncidentResolved || !resolved.PostmortemDue.Equal(testNow.Add(48*time.Hour)) {
		t.Errorf("resolved: got %s, postmortem due %s; want resolved, due in 48h (SEV2)", resolved.Status, resolved.PostmortemDue)
	}

	status, body, h := call(t, http.MethodGet, s.URL+"/api/v1/incidents/1/postmortem", "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") {
		t.Errorf("GET postmortem: got %d %s", status, h.Get("Content-Type"))
	}
	md, err := c.Postmortem(ctx, id)
	if err != nil || string(md) != body || !strings.Contains(body, "a bad deploy") || !strings.Contains(body, "Rolled back to v1.4.2") {
		t.Errorf("postmortem: got %v\n%s", err, md)
	}

	// An action item is 201 on the API.
	status, body, _ = call(t, http.MethodPost, s.URL+"/api/v1/incidents/1/actions", `{"text":"Canary deploys for the API","owner":"bob"}`)
	var first klaxon.ActionItem
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &first) != nil || first.Owner != "bob" || first.CreatedBy != "ops-cli" {
		t.Fatalf("POST actions: got %d %s", status, body)
	}
	second, err := c.AddAction(ctx, id, "Alert on error rate per deploy", "")
	if err != nil || second.ID == first.ID || second.IncidentID != id {
		t.Fatalf("add action: got %+v, %v", second, err)
	}
	done, err := c.CompleteAction(ctx, first.ID)
	if err != nil || done.DoneBy != "ops-cli" || done.DoneAt.IsZero() {
		t.Errorf("complete action: got %+v, %v", done, err)
	}
	openActions, err := c.Actions(ctx, klaxon.ActionFilter{Open: true})
	if err != nil || len(openActions.Actions) != 1 || openActions.Actions[0].ID != second.ID {
		t.Errorf("open actions: got %+v, %v; want only %d", openActions, err, second.ID)
	}
	all, err := c.Actions(ctx, klaxon.ActionFilter{IncidentID: id})
	if err != nil || len(all.Actions) != 2 {
		t.Errorf("incident %d's actions: got %+v, %v; want 2", id, all, err)
	}
	if _, err := c.CompleteAction(ctx, first.ID); klaxon.ErrorCode(err) != klaxon.EINVALID {
		t.Errorf("complete twice: got %v, want invalid", err)
	}

	pm, err := c.PostmortemDone(ctx, id)
	if err != nil || !pm.PostmortemDone.Equal(testNow) {
		t.Errorf("postmortem done: got %+v, %v", pm, err)
	}
	if open, err := c.Incidents(ctx, true, 0); err != nil || len(open.Incidents) != 0 {
		t.Errorf("open incidents after resolve: got %+v, %v; want none", open, err)
	}
	if every, err := c.Incidents(ctx, false, 10); err != nil || len(every.Incidents) != 1 {
		t.Errorf("all incidents: got %+v, %v; want 1", every, err)
	}
	detail, err = c.Incident(ctx, id)
	if err != nil || len(detail.Actions) != 2 || detail.Incident.PostmortemDone.IsZero() {
		t.Errorf("detail at the end: got %+v, %v", detail, err)
	}
}

func TestDeclareSuggests(t *testing.T) {
	s := startIncidents(t, true)
	tests := []struct {
		name     string
		req      httpapi.DeclareRequest
		wantSev  string
		wantWhy  string // "": no suggestion
		wantCode int
	}{
		{"from failing", httpapi.DeclareRequest{Service: "api", Summary: "errors", Failing: "35%"}, "SEV2", "10–50%", 0},
		{"down", httpapi.DeclareRequest{Service: "api", Summary: "down", Down: true}, "SEV1", "cannot reach", 0},
		{"a little failing", httpapi.DeclareRequest{Service: "api", Summary: "errors", Failing: "2.5"}, "SEV4", "under 5%", 0},
		{"nothing said", httpapi.DeclareRequest{Service: "api", Summary: "slow"}, "SEV2", "", 0},
		{"same as chosen", httpapi.DeclareRequest{Service: "api", Summary: "errors", Severity: "2", Failing: "20%"}, "SEV2", "10–50%", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := s.declare(t, tt.req)
			if d.Incident.Severity != tt.wantSev {
				t.Errorf("declared %s, want %s", d.Incident.Severity, tt.wantSev)
			}
			switch {
			case tt.wantWhy == "" && d.Suggested != nil:
				t.Errorf("suggested %+v, want no suggestion", d.Suggested)
			case tt.wantWhy != "" && (d.Suggested == nil || d.Suggested.Severity != tt.wantSev || !strings.Contains(d.Suggested.Why, tt.wantWhy)):
				t.Errorf("suggested %+v, want %s because %q", d.Suggested, tt.wantSev, tt.wantWhy)
			}
		})
	}
	// The API leaves the key out rather than answering null.
	status, body, _ := call(t, http.MethodPost, s.URL+"/api/v1/incidents", `{"service":"api","summary":"slow","severity":"sev3"}`)
	if status != http.StatusCreated || strings.Contains(body, "suggested") || !strings.Contains(body, `"severity":"SEV3"`) {
		t.Errorf("declare without impact: got %d %s", status, body)
	}
}

func TestSeverityHelper(t *testing.T) {
	s := startIncidents(t, true)
	sg, err := s.Client.SuggestSeverity(context.Background(), "35%", false)
	if err != nil || sg.Severity != "SEV2" || sg.Level != 1 || !strings.Contains(sg.Why, "35%") {
		t.Errorf("35%% failing: got %+v, %v; want SEV2", sg, err)
	}
	sg, err = s.Client.SuggestSeverity(context.Background(), "", true)
	if err != nil || sg.Severity != "SEV1" {
		t.Errorf("down: got %+v, %v; want SEV1", sg, err)
	}
	tests := []struct {
		query    string
		wantText string
	}{
		{"failing=lots", "failing:"},
		{"failing=120%25", "failing:"},
		{"down=maybe", "down:"},
	}
	for _, tt := range tests {
		status, body, _ := call(t, http.MethodGet, s.URL+"/api/v1/severity?"+tt.query, "")
		if status != http.StatusBadRequest || !strings.Contains(errorMessage(t, body), tt.wantText) {
			t.Errorf("?%s: got %d %s, want 400 naming %q", tt.query, status, body, tt.wantText)
		}
	}
}

func TestIncidentErrors(t *testing.T) {
	s := startIncidents(t, true)
	s.declare(t, httpapi.DeclareRequest{Service: "api", Summary: "errors", Severity: "sev2"})
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantText                 []string
	}{
		{"unknown incident", "GET", "/api/v1/incidents/99", "", 404, []string{"99"}},
		{"note on unknown incident", "POST", "/api/v1/incidents/99/notes", `{"text":"x"}`, 404, []string{"99"}},
		{"postmortem of unknown incident", "GET", "/api/v1/incidents/99/postmortem", "", 404, []string{"99"}},
		{"bad incident ID", "GET", "/api/v1/incidents/seven", "", 400, []string{"incident ID", "seven"}},
		{"bad incident ID on a change", "POST", "/api/v1/incidents/0/notes", `{"text":"x"}`, 400, []string{"incident ID"}},
		{"bad severity", "POST", "/api/v1/incidents", `{"service":"api","summary":"x","severity":"sev9"}`, 400, []string{"severity:", "sev9", "SEV1", "SEV4"}},
		{"bad severity change", "POST", "/api/v1/incidents/1/severity", `{"severity":"huge"}`, 400, []string{"severity:", "SEV1"}},
		{"bad failing", "POST", "/api/v1/incidents", `{"service":"api","summary":"x","failing":"lots"}`, 400, []string{"failing:"}},
		{"unknown field", "POST", "/api/v1/incidents", `{"service":"api","summary":"x","sev":"1"}`, 400, []string{"sev"}},
		{"not JSON", "POST", "/api/v1/incidents", `{service`, 400, []string{"body"}},
		{"empty body", "POST", "/api/v1/incidents/1/notes", ``, 400, []string{"body", "text"}},
		{"missing service", "POST", "/api/v1/incidents", `{"summary":"x"}`, 400, []string{"service"}},
		{"unknown commander", "POST", "/api/v1/incidents", `{"service":"api","summary":"x","commander":"dave"}`, 400, []string{"dave", "alice"}},
		{"bad role", "POST", "/api/v1/incidents/1/roles", `{"role":"chef","person":"bob"}`, 400, []string{"role:", "chef"}},
		{"unknown person", "POST", "/api/v1/incidents/1/roles", `{"role":"commander","person":"dave"}`, 400, []string{"dave", "alice"}},
		{"bad status", "POST", "/api/v1/incidents/1/status", `{"status":"fixed"}`, 400, []string{"fixed", "investigating"}},
		{"status resolved", "POST", "/api/v1/incidents/1/status", `{"status":"resolved"}`, 400, []string{"resolve"}},
		{"update without text", "POST", "/api/v1/incidents/1/updates", `{"text":" "}`, 400, []string{"text"}},
		{"checklist item 0", "POST", "/api/v1/incidents/1/checklist/0", "", 400, []string{"checklist item"}},
		{"checklist item 99", "DELETE", "/api/v1/incidents/1/checklist/99", "", 400, []string{"99"}},
		{"resolve without all", "POST", "/api/v1/incidents/1/resolve", `{"root_cause":"bad deploy"}`, 400, []string{"fix", "impact"}},
		{"link without alert", "POST", "/api/v1/incidents/1/alerts", `{}`, 400, []string{"alert_id"}},
		{"link unknown alert", "POST", "/api/v1/incidents/1/alerts", `{"alert_id":77}`, 404, []string{"77"}},
		{"bad open", "GET", "/api/v1/incidents?open=maybe", "", 400, []string{"open:"}},
		{"bad limit", "GET", "/api/v1/incidents?limit=0", "", 400, []string{"limit:"}},
		{"bad action filter", "GET", "/api/v1/actions?incident=x", "", 400, []string{"incident:"}},
		{"unknown action", "POST", "/api/v1/actions/99/done", "", 404, []string{"99"}},
		{"bad action ID", "POST", "/api/v1/actions/x/done", "", 400, []string{"action ID"}},
		{"postmortem done while open", "POST", "/api/v1/incidents/1/postmortem/done", "", 400, []string{"resolve it first"}},
		{"unknown component", "PUT", "/api/v1/components/db", `{"status":"major_outage"}`, 400, []string{"db", "api"}},
		{"bad component status", "PUT", "/api/v1/components/api", `{"status":"on fire"}`, 400, []string{"on fire", "major_outage"}},
		{"component unknown field", "PUT", "/api/v1/components/api", `{"state":"major_outage"}`, 400, []string{"state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, tt.method, s.URL+tt.path, tt.body)
			msg := errorMessage(t, body)
			if status != tt.wantStatus {
				t.Errorf("got %d %s, want %d", status, body, tt.wantStatus)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not name %q", msg, want)
				}
			}
		})
	}
	// Nothing refused was declared.
	if list, err := s.Client.Incidents(context.Background(), false, 0); err != nil || len(list.Incidents) != 1 {
		t.Errorf("after refusals: got %+v, %v; want the one incident", list, err)
	}
}

func TestIncidentsNeedToken(t *testing.T) {
	s := startIncidents(t, true)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/incidents", ""},
		{"POST", "/api/v1/incidents", `{"service":"api","summary":"x"}`},
		{"GET", "/api/v1/severity?failing=35", ""},
		{"GET", "/api/v1/actions", ""},
		{"PUT", "/api/v1/components/api", `{"status":"major_outage"}`},
	} {
		req, _ := http.NewRequest(r.method, s.URL+r.path, strings.NewReader(r.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: got %d, want 401", r.method, r.path, resp.StatusCode)
		}
	}
	if list, err := s.Client.Incidents(context.Background(), false, 0); err != nil || len(list.Incidents) != 0 {
		t.Errorf("got %+v, %v; want nothing declared", list, err)
	}
}

// get fetches a URL with no token, as a customer's browser does.
func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestStatusPageIsPublic(t *testing.T) {
	s := startIncidents(t, true)
	status, body, h := get(t, s.URL+"/status")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "api") {
		t.Errorf("GET /status: got %d %s %.80q", status, h.Get("Content-Type"), body)
	}
	componentStatus := func() string {
		t.Helper()
		status, body, _ := get(t, s.URL+"/status/api/v2/summary.json")
		var sum statuspage.Summary
		if status != http.StatusOK || json.Unmarshal([]byte(body), &sum) != nil || len(sum.Components) != 1 {
			t.Fatalf("GET summary.json: got %d %s", status, body)
		}
		return sum.Components[0].Status
	}
	if got := componentStatus(); got != "operational" {
		t.Errorf("api: got %s, want operational", got)
	}

	ctx := context.Background()
	cs, err := s.Client.SetComponentStatus(ctx, "api", "major_outage")
	if err != nil || cs.Component != "api" || cs.Status != "major_outage" {
		t.Fatalf("set: got %+v, %v", cs, err)
	}
	if got := componentStatus(); got != "major_outage" {
		t.Errorf("api after set: got %s, want major_outage", got)
	}
	if cs, err = s.Client.SetComponentStatus(ctx, "api", ""); err != nil || cs.Status != "" {
		t.Fatalf("clear: got %+v, %v", cs, err)
	}
	if got := componentStatus(); got != "operational" {
		t.Errorf("api after clear: got %s, want operational", got)
	}
}

func TestNoIncidents(t *testing.T) {
	s := startIncidents(t, false)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/incidents", ""},
		{"POST", "/api/v1/incidents", `{"service":"api","summary":"x"}`},
		{"GET", "/api/v1/incidents/1", ""},
		{"POST", "/api/v1/incidents/1/notes", `{"text":"x"}`},
		{"GET", "/api/v1/actions", ""},
		{"GET", "/api/v1/severity?failing=35", ""},
	} {
		status, body, _ := call(t, r.method, s.URL+r.path, r.body)
		if status != http.StatusNotFound || errorMessage(t, body) != "incidents are not set up on this server" {
			t.Errorf("%s %s: got %d %s, want 404 incidents are not set up", r.method, r.path, status, body)
		}
	}
	status, body, _ := call(t, http.MethodPut, s.URL+"/api/v1/components/api", `{"status":"major_outage"}`)
	if status != http.StatusNotFound || !strings.Contains(errorMessage(t, body), "status page") {
		t.Errorf("PUT component: got %d %s, want 404", status, body)
	}
	for _, path := range []string{"/status", "/status/api/v2/summary.json"} {
		if status, body, _ := get(t, s.URL+path); status != http.StatusNotFound || !strings.Contains(body, "status page") {
			t.Errorf("GET %s: got %d %s, want 404", path, status, body)
		}
	}
}
