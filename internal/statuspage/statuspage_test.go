package statuspage

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// fakeStore holds just what the status page reads and writes.
type fakeStore struct {
	klaxon.Store
	incidents []*klaxon.Incident
	timelines map[int64][]klaxon.TimelineEntry
	manual    []klaxon.ComponentStatus
}

type fakeTx struct {
	klaxon.Tx
	s *fakeStore
}

func (s *fakeStore) Update(ctx context.Context, fn func(klaxon.Tx) error) error {
	return fn(fakeTx{s: s})
}

func (tx fakeTx) SetComponentStatus(ctx context.Context, c klaxon.ComponentStatus) error {
	s := tx.s
	s.manual = slices.DeleteFunc(s.manual, func(m klaxon.ComponentStatus) bool { return m.Component == c.Component })
	if c.Status != "" {
		s.manual = append(s.manual, c)
	}
	return nil
}

func (s *fakeStore) Incidents(ctx context.Context, f klaxon.IncidentFilter) ([]*klaxon.Incident, error) {
	var out []*klaxon.Incident
	for _, in := range slices.Backward(s.incidents) { // newest first
		if (f.Open && !in.Open()) || (!f.Since.IsZero() && in.DeclaredAt.Before(f.Since) && !in.Open()) {
			continue
		}
		c := *in
		out = append(out, &c)
	}
	return out, nil
}

func (s *fakeStore) Timeline(ctx context.Context, id int64) ([]klaxon.TimelineEntry, error) {
	return slices.Clone(s.timelines[id]), nil
}

func (s *fakeStore) ComponentStatuses(ctx context.Context) ([]klaxon.ComponentStatus, error) {
	return slices.Clone(s.manual), nil
}

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// add stores an incident (IDs from 1) with public entries of the given
// statuses and texts, a minute apart from its declaration.
func (s *fakeStore) add(in klaxon.Incident, updates ...string) *klaxon.Incident {
	in.ID = int64(len(s.incidents) + 1)
	if in.Status == "" {
		in.Status = klaxon.IncidentInvestigating
	}
	if in.DeclaredAt.IsZero() {
		in.DeclaredAt = now.Add(-time.Hour)
	}
	if in.Title == "" {
		in.Title = "INCIDENT: " + in.Service + " - " + in.Summary
	}
	if s.timelines == nil {
		s.timelines = map[int64][]klaxon.TimelineEntry{}
	}
	tl := []klaxon.TimelineEntry{{ID: in.ID * 100, IncidentID: in.ID, At: in.DeclaredAt, Kind: klaxon.TimelineDeclared,
		Text: "Declared", Public: in.Public, Status: klaxon.IncidentInvestigating}}
	// A private note never shows.
	tl = append(tl, klaxon.TimelineEntry{ID: in.ID*100 + 1, IncidentID: in.ID, At: in.DeclaredAt.Add(30 * time.Second),
		Kind: klaxon.TimelineNote, Text: "secret note", Status: klaxon.IncidentInvestigating})
	for i, u := range updates {
		st, text, _ := strings.Cut(u, ":")
		tl = append(tl, klaxon.TimelineEntry{ID: in.ID*100 + 2 + int64(i), IncidentID: in.ID,
			At: in.DeclaredAt.Add(time.Duration(i+1) * time.Minute), Kind: klaxon.TimelineUpdate,
			Text: strings.TrimSpace(text), Public: in.Public, Status: klaxon.IncidentStatus(st)})
	}
	s.timelines[in.ID] = tl
	s.incidents = append(s.incidents, &in)
	return &in
}

var testComponents = []config.Component{
	{Name: "API", Description: "The public API", Services: config.StringList{"api", "gateway"}},
	{Name: "Web", Services: config.StringList{"web"}},
	{Name: "db"}, // services default to the name
}

func newPage(s *fakeStore, maint ...config.Maintenance) *Page {
	return New(Options{
		Store:       s,
		Title:       "Acme Status",
		BaseURL:     "https://klaxon.example.com/",
		Components:  testComponents,
		Maintenance: maint,
		LevelNames:  []string{"SEV1", "SEV2", "SEV3", "SEV4"},
		Now:         func() time.Time { return now },
	})
}

func statuses(t *testing.T, p *Page) map[string]string {
	t.Helper()
	s, err := p.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range s.Components {
		out[c.Name] = c.Status
	}
	return out
}

func TestComponentStatus(t *testing.T) {
	maint := config.Maintenance{Title: "DB upgrade", Components: config.StringList{"db"},
		Start: now.Add(-time.Hour), End: now.Add(time.Hour)}
	tests := []struct {
		name      string
		incidents []klaxon.Incident
		manual    []klaxon.ComponentStatus
		maint     []config.Maintenance
		want      map[string]string
	}{
		{name: "nothing", want: map[string]string{"API": "operational", "Web": "operational", "db": "operational"}},
		{name: "worst incident wins", incidents: []klaxon.Incident{
			{Service: "api", Level: 2, Public: true},
			{Service: "gateway", Level: 1, Public: true},
			{Service: "WEB", Level: 3, Public: true},
			{Service: "db", Level: 0, Public: true},
		}, want: map[string]string{"API": "partial_outage", "Web": "degraded_performance", "db": "major_outage"}},
		{name: "private and resolved ignored", incidents: []klaxon.Incident{
			{Service: "api", Level: 0},
			{Service: "web", Level: 0, Public: true, Status: klaxon.IncidentResolved, ResolvedAt: now.Add(-time.Minute)},
		}, want: map[string]string{"API": "operational", "Web": "operational", "db": "operational"}},
		{name: "maintenance", maint: []config.Maintenance{maint,
			{Title: "later", Components: config.StringList{"Web"}, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
			{Title: "done", Components: config.StringList{"API"}, Start: now.Add(-2 * time.Hour), End: now},
		}, want: map[string]string{"API": "operational", "Web": "operational", "db": "under_maintenance"}},
		{name: "maintenance over incident", maint: []config.Maintenance{maint},
			incidents: []klaxon.Incident{{Service: "db", Level: 0, Public: true}},
			want:      map[string]string{"API": "operational", "Web": "operational", "db": "under_maintenance"}},
		{name: "hand-set wins", maint: []config.Maintenance{maint},
			incidents: []klaxon.Incident{{Service: "api", Level: 0, Public: true}},
			manual: []klaxon.ComponentStatus{
				{Component: "API", Status: "degraded_performance", SetAt: now},
				{Component: "db", Status: "operational", SetAt: now},
				{Component: "gone", Status: "major_outage", SetAt: now},
			},
			want: map[string]string{"API": "degraded_performance", "Web": "operational", "db": "operational"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeStore{manual: tt.manual}
			for _, in := range tt.incidents {
				s.add(in)
			}
			got := statuses(t, newPage(s, tt.maint...))
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: %s, want %s", name, got[name], want)
				}
			}
		})
	}
}

func TestOverallStatus(t *testing.T) {
	tests := []struct {
		incidents      []klaxon.Incident
		indicator, say string
	}{
		{nil, "none", "All Systems Operational"},
		{[]klaxon.Incident{{Service: "web", Level: 2, Public: true}}, "minor", "Minor Service Outage"},
		{[]klaxon.Incident{{Service: "web", Level: 2, Public: true}, {Service: "api", Level: 1, Public: true}}, "major", "Partial System Outage"},
		{[]klaxon.Incident{{Service: "api", Level: 0, Public: true}}, "critical", "Major Service Outage"},
		// A component-less incident still counts by its impact.
		{[]klaxon.Incident{{Service: "billing", Level: 0, Public: true}}, "critical", "Major Service Outage"},
		{[]klaxon.Incident{{Service: "billing", Level: 0}}, "none", "All Systems Operational"},
	}
	for _, tt := range tests {
		s := &fakeStore{}
		for _, in := range tt.incidents {
			s.add(in)
		}
		sum, err := newPage(s).Summary(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Status.Indicator != tt.indicator || sum.Status.Description != tt.say {
			t.Errorf("%v: %+v, want %s %q", tt.incidents, sum.Status, tt.indicator, tt.say)
		}
	}

	p := newPage(&fakeStore{}, config.Maintenance{Title: "m", Components: config.StringList{"Web"}, Start: now, End: now.Add(time.Hour)})
	sum, _ := p.Summary(context.Background())
	if sum.Status.Indicator != "maintenance" || sum.Status.Description != "Service Under Maintenance" {
		t.Errorf("under maintenance: %+v", sum.Status)
	}
}

// Mirrors of Statuspage's summary.json, to decode what we serve.
type spComponent struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	StartDate          *string `json:"start_date"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
}

type spIncident struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	MonitoringAt    *string `json:"monitoring_at"`
	ResolvedAt      *string `json:"resolved_at"`
	Impact          string  `json:"impact"`
	Shortlink       string  `json:"shortlink"`
	StartedAt       string  `json:"started_at"`
	PageID          string  `json:"page_id"`
	IncidentUpdates []struct {
		ID                   string  `json:"id"`
		Status               string  `json:"status"`
		Body                 string  `json:"body"`
		IncidentID           string  `json:"incident_id"`
		CreatedAt            string  `json:"created_at"`
		UpdatedAt            string  `json:"updated_at"`
		DisplayAt            string  `json:"display_at"`
		AffectedComponents   []any   `json:"affected_components"`
		DeliverNotifications bool    `json:"deliver_notifications"`
		CustomTweet          *string `json:"custom_tweet"`
		TweetID              *string `json:"tweet_id"`
	} `json:"incident_updates"`
	Components     []spComponent `json:"components"`
	ScheduledFor   string        `json:"scheduled_for"`
	ScheduledUntil string        `json:"scheduled_until"`
}

type spSummary struct {
	Page struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		URL       string `json:"url"`
		TimeZone  string `json:"time_zone"`
		UpdatedAt string `json:"updated_at"`
	} `json:"page"`
	Status struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	} `json:"status"`
	Components            []spComponent `json:"components"`
	Incidents             []spIncident  `json:"incidents"`
	ScheduledMaintenances []spIncident  `json:"scheduled_maintenances"`
}

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	res := w.Result()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	return res
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func requireKeys(t *testing.T, what string, obj any, keys ...string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object: %v", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no key %q", what, k)
		}
	}
}

var (
	componentKeys = []string{"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
		"start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
	incidentKeys = []string{"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
		"shortlink", "started_at", "page_id", "incident_updates", "components"}
	updateKeys = []string{"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
		"affected_components", "deliver_notifications", "custom_tweet", "tweet_id"}
)

func TestSummaryJSON(t *testing.T) {
	s := &fakeStore{}
	s.add(klaxon.Incident{Service: "api", Summary: "errors", Level: 1, Public: true, Status: klaxon.IncidentMonitoring,
		DetectedAt: now.Add(-2 * time.Hour)},
		"identified: Bad deploy found", "monitoring: Rolled back")
	s.add(klaxon.Incident{Service: "web", Summary: "private", Level: 0})
	s.add(klaxon.Incident{Service: "web", Summary: "old", Level: 2, Public: true, Status: klaxon.IncidentResolved,
		DeclaredAt: now.Add(-48 * time.Hour), ResolvedAt: now.Add(-47 * time.Hour)})
	p := newPage(s, config.Maintenance{Title: "DB upgrade", Text: "Brief read-only mode.", Components: config.StringList{"db"},
		Start: now.Add(24 * time.Hour), End: now.Add(25 * time.Hour)})
	h := p.Handler()

	res := get(t, h, "/status/api/v2/summary.json")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS for widgets")
	}
	b := body(t, res)
	var sum spSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}

	if sum.Page.ID != "klaxon" || sum.Page.Name != "Acme Status" || sum.Page.URL != "https://klaxon.example.com/status" ||
		sum.Page.TimeZone == "" || sum.Page.UpdatedAt != now.Add(-time.Hour+2*time.Minute).Format(time.RFC3339) {
		t.Errorf("page %+v", sum.Page)
	}
	if sum.Status.Indicator != "major" || sum.Status.Description != "Partial System Outage" {
		t.Errorf("status %+v", sum.Status)
	}
	if len(sum.Components) != 3 {
		t.Fatalf("components %+v", sum.Components)
	}
	api := sum.Components[0]
	if api.Name != "API" || api.Status != "partial_outage" || api.Position != 1 || api.PageID != "klaxon" ||
		api.Description == nil || *api.Description != "The public API" || api.ID == "" {
		t.Errorf("API component %+v", api)
	}
	if sum.Components[1].Description != nil {
		t.Errorf("empty description should be null: %q", *sum.Components[1].Description)
	}
	if again, _ := newPage(s).Summary(context.Background()); again.Components[0].ID != api.ID {
		t.Error("component ID not stable")
	}

	if len(sum.Incidents) != 1 {
		t.Fatalf("incidents (only open public ones) %+v", sum.Incidents)
	}
	in := sum.Incidents[0]
	if in.ID != "klaxon-1" || in.Name != "INCIDENT: api - errors" || in.Status != "monitoring" || in.Impact != "major" ||
		in.Shortlink != "https://klaxon.example.com/status#klaxon-1" || in.PageID != "klaxon" || in.ResolvedAt != nil ||
		in.MonitoringAt == nil || *in.MonitoringAt != now.Add(-time.Hour+2*time.Minute).Format(time.RFC3339) ||
		in.StartedAt != now.Add(-2*time.Hour).Format(time.RFC3339) || in.CreatedAt != now.Add(-time.Hour).Format(time.RFC3339) {
		t.Errorf("incident %+v", in)
	}
	var bodies []string
	for _, u := range in.IncidentUpdates {
		bodies = append(bodies, u.Status+": "+u.Body)
		if u.IncidentID != "klaxon-1" || u.ID == "" || u.DisplayAt == "" {
			t.Errorf("update %+v", u)
		}
	}
	if want := []string{"monitoring: Rolled back", "identified: Bad deploy found", "investigating: Declared"}; !slices.Equal(bodies, want) {
		t.Errorf("updates %q, want %q (public, newest first)", bodies, want)
	}
	if len(in.Components) != 1 || in.Components[0].Name != "API" {
		t.Errorf("incident components %+v", in.Components)
	}

	if len(sum.ScheduledMaintenances) != 1 {
		t.Fatalf("maintenances %+v", sum.ScheduledMaintenances)
	}
	m := sum.ScheduledMaintenances[0]
	if m.Name != "DB upgrade" || m.Status != "scheduled" || m.Impact != "maintenance" ||
		m.ScheduledFor != now.Add(24*time.Hour).Format(time.RFC3339) || m.ScheduledUntil != now.Add(25*time.Hour).Format(time.RFC3339) ||
		len(m.IncidentUpdates) != 1 || m.IncidentUpdates[0].Body != "Brief read-only mode." ||
		len(m.Components) != 1 || m.Components[0].Name != "db" {
		t.Errorf("maintenance %+v", m)
	}

	if m.Components[0].CreatedAt != sum.Page.UpdatedAt || api.UpdatedAt != in.CreatedAt {
		t.Errorf("component times: %+v, %+v", m.Components[0], api)
	}

	// Every key Statuspage has is there, even when null.
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	requireKeys(t, "summary", raw, "page", "status", "components", "incidents", "scheduled_maintenances")
	requireKeys(t, "page", raw["page"], "id", "name", "url", "time_zone", "updated_at")
	requireKeys(t, "status", raw["status"], "indicator", "description")
	requireKeys(t, "component", raw["components"].([]any)[1], componentKeys...)
	for _, list := range []string{"incidents", "scheduled_maintenances"} {
		inc := raw[list].([]any)[0]
		requireKeys(t, list, inc, incidentKeys...)
		requireKeys(t, list+" update", inc.(map[string]any)["incident_updates"].([]any)[0], updateKeys...)
		requireKeys(t, list+" component", inc.(map[string]any)["components"].([]any)[0], componentKeys...)
	}
	requireKeys(t, "maintenance", raw["scheduled_maintenances"].([]any)[0], "scheduled_for", "scheduled_until")

	// An empty page has empty lists, not nulls.
	b = body(t, get(t, newPage(&fakeStore{}).Handler(), "/status/api/v2/summary.json"))
	for _, k := range []string{`"components":[`, `"incidents":[]`, `"scheduled_maintenances":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("empty summary lacks %s: %s", k, b)
		}
	}
}

func TestStatusAndIncidentsJSON(t *testing.T) {
	s := &fakeStore{}
	s.add(klaxon.Incident{Service: "api", Summary: "down", Level: 0, Public: true})
	s.add(klaxon.Incident{Service: "web", Summary: "slow", Level: 2, Public: true, Status: klaxon.IncidentResolved,
		DeclaredAt: now.Add(-80 * 24 * time.Hour), ResolvedAt: now.Add(-80*24*time.Hour + time.Hour)})
	s.add(klaxon.Incident{Service: "web", Summary: "ancient", Level: 2, Public: true, Status: klaxon.IncidentResolved,
		DeclaredAt: now.Add(-100 * 24 * time.Hour), ResolvedAt: now.Add(-100*24*time.Hour + time.Hour)})
	h := newPage(s).Handler()

	var st struct {
		Page   map[string]any    `json:"page"`
		Status map[string]string `json:"status"`
	}
	if err := json.Unmarshal(body(t, get(t, h, "/status/api/v2/status.json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Page["id"] != "klaxon" || st.Status["indicator"] != "critical" {
		t.Errorf("status.json %+v", st)
	}

	var inc struct {
		Incidents []spIncident `json:"incidents"`
	}
	if err := json.Unmarshal(body(t, get(t, h, "/status/api/v2/incidents.json")), &inc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range inc.Incidents {
		names = append(names, in.Name)
	}
	if want := []string{"INCIDENT: api - down", "INCIDENT: web - slow"}; !slices.Equal(names, want) {
		t.Errorf("incidents.json %q, want %q", names, want)
	}
}

func TestHTML(t *testing.T) {
	s := &fakeStore{}
	s.add(klaxon.Incident{Service: "api", Summary: "<b>bold</b>", Level: 0, Public: true},
		`identified: Found it <script>alert("x")</script>`)
	s.add(klaxon.Incident{Service: "web", Summary: "hidden", Level: 0})
	s.add(klaxon.Incident{Service: "web", Summary: "yesterday's", Level: 1, Public: true, Status: klaxon.IncidentResolved,
		DeclaredAt: now.Add(-24 * time.Hour), ResolvedAt: now.Add(-23 * time.Hour)})
	p := newPage(s, config.Maintenance{Title: "DB upgrade", Components: config.StringList{"db"}, Start: now.Add(-time.Minute), End: now.Add(time.Hour)})
	res := get(t, p.Handler(), "/status")
	page := string(body(t, res))

	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") && !strings.Contains(cc, "no-cache") {
		t.Errorf("Cache-Control %q", cc)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
		t.Error("incident text not escaped")
	}
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, "&lt;b&gt;bold&lt;/b&gt;",
		`name="viewport"`, "prefers-color-scheme:dark", "Major Service Outage",
		"Major Outage", "Under Maintenance", "DB upgrade", "SEV1", "yesterday&#39;s", "Monday, March 9, 2026",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, not := range []string{"hidden", "secret note", "<link rel=\"stylesheet\"", "http://", "https://"} {
		if strings.Contains(page, not) {
			t.Errorf("page has %s", not)
		}
	}
	if res := get(t, p.Handler(), "/status/"); res.StatusCode != 200 {
		t.Error("/status/")
	}
}

func TestAtom(t *testing.T) {
	s := &fakeStore{}
	s.add(klaxon.Incident{Service: "api", Summary: "errors", Level: 1, Public: true},
		"identified: Bad deploy & <rollback>\x00")
	s.add(klaxon.Incident{Service: "web", Summary: "private", Level: 0}, "identified: nope")
	s.add(klaxon.Incident{Service: "web", Summary: "old", Level: 2, Public: true, Status: klaxon.IncidentResolved,
		DeclaredAt: now.Add(-48 * time.Hour), ResolvedAt: now.Add(-47 * time.Hour)}, "resolved: Fixed")
	res := get(t, newPage(s).Handler(), "/status/history.atom")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
		t.Errorf("Content-Type %q", ct)
	}
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	b := body(t, res)
	if err := xml.Unmarshal(b, &feed); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if feed.Title != "Acme Status" || !strings.HasPrefix(feed.ID, "https://klaxon.example.com/") ||
		feed.Updated != now.Add(-time.Hour+time.Minute).Format(time.RFC3339) || len(feed.Links) == 0 {
		t.Errorf("feed %+v", feed)
	}
	var titles []string
	ids := map[string]bool{}
	for _, e := range feed.Entries {
		titles = append(titles, e.Title+" | "+e.Content.Text)
		ids[e.ID] = true
		if e.Content.Type != "text" || e.Updated == "" {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{
		"INCIDENT: api - errors: Identified | Bad deploy & <rollback>\uFFFD",
		"INCIDENT: api - errors: Investigating | Declared",
		"INCIDENT: web - old: Resolved | Fixed",
		"INCIDENT: web - old: Investigating | Declared",
	}
	if !slices.Equal(titles, want) {
		t.Errorf("entries\n%q, want\n%q", titles, want)
	}
	if len(ids) != len(want) {
		t.Errorf("entry IDs not unique: %v", ids)
	}
}

func TestSetComponent(t *testing.T) {
	s := &fakeStore{}
	s.add(klaxon.Incident{Service: "api", Level: 0, Public: true})
	p := newPage(s)
	ctx := context.Background()

	err := p.SetComponent(ctx, "billing", "major_outage", "alice")
	if klaxon.ErrorCode(err) != klaxon.EINVALID || !strings.Contains(err.Error(), "API, Web, db") {
		t.Errorf("unknown component: %v", err)
	}
	err = p.SetComponent(ctx, "API", "down", "alice")
	if klaxon.ErrorCode(err) != klaxon.EINVALID || !strings.Contains(err.Error(), "operational, under_maintenance, degraded_performance, partial_outage, major_outage") {
		t.Errorf("unknown status: %v", err)
	}
	err = New(Options{Store: s}).SetComponent(ctx, "API", "operational", "alice")
	if klaxon.ErrorCode(err) != klaxon.EINVALID {
		t.Errorf("no components: %v", err)
	}

	// The handler's cache must not hide a change made by hand.
	get(t, p.Handler(), "/status")
	if err := p.SetComponent(ctx, "api", "operational", "alice"); err != nil {
		t.Fatal(err)
	}
	want := klaxon.ComponentStatus{Component: "API", Status: "operational", SetBy: "alice", SetAt: now}
	if len(s.manual) != 1 || s.manual[0] != want {
		t.Errorf("stored %+v, want %+v", s.manual, want)
	}
	if got := statuses(t, p)["API"]; got != "operational" {
		t.Errorf("hand-set: %s", got)
	}
	if page := string(body(t, get(t, p.Handler(), "/status"))); strings.Contains(page, "Major Outage") {
		t.Error("cached page ignores the hand-set status")
	}

	if err := p.SetComponent(ctx, "API", "", "alice"); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, p)["API"]; got != "major_outage" || len(s.manual) != 0 {
		t.Errorf("cleared: %s %+v", got, s.manual)
	}
}
