package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/insights"
)

// factStore serves fixed alert facts and pages, in the span asked for.
type factStore struct {
	klaxon.Store
	facts []klaxon.AlertFact
	pages []klaxon.PageRecord
}

func (s *factStore) AlertFacts(_ context.Context, since, until time.Time, fn func(klaxon.AlertFact) error) error {
	for _, f := range s.facts {
		if !f.FirstSeen.Before(since) && f.FirstSeen.Before(until) {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *factStore) PageRecords(_ context.Context, since, until time.Time) ([]klaxon.PageRecord, error) {
	var out []klaxon.PageRecord
	for _, p := range s.pages {
		if !p.At.Before(since) && p.At.Before(until) {
			out = append(out, p)
		}
	}
	return out, nil
}

// insightsHistory is four alerts and three pages in the last week:
//
//	1 DiskFull  db  P0  acked after 4m, resolved by alice after 20m
//	2 DiskFull  db  P0  acked after 6m, open
//	3 <script>  api P1  resolved by its integration after 3m, unacked
//	4 <script>  api P1  10m after 3 resolved (a flap); resolved by its integration after 2m
//
// alice is paged at 23:00 and 12:00 UTC, bob at 03:00 UTC.
func insightsHistory(now time.Time) *factStore {
	day := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -5)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	db := map[string]string{"alertname": "DiskFull", "service": "db"}
	api := map[string]string{"alertname": xssScript, "job": "api"}
	return &factStore{
		facts: []klaxon.AlertFact{
			{ID: 1, Integration: "am", Labels: db, Level: 0, FirstSeen: at(1, 0), AckedAt: at(1, 4), AckedBy: "alice", ResolvedAt: at(1, 20), ResolvedBy: "alice"},
			{ID: 2, Integration: "am", Labels: db, Level: 0, FirstSeen: at(2, 0), AckedAt: at(2, 6), AckedBy: "alice"},
			{ID: 3, Integration: "am", Labels: api, Level: 1, FirstSeen: at(3, 0), ResolvedAt: at(3, 3), ResolvedBy: "am"},
			{ID: 4, Integration: "am", Labels: api, Level: 1, PreviousID: 3, FirstSeen: at(3, 13), ResolvedAt: at(3, 15), ResolvedBy: "am"},
		},
		pages: []klaxon.PageRecord{
			{ID: 1, At: at(23, 0), Person: "alice"},
			{ID: 2, At: at(27, 0), Person: "bob"},
			{ID: 3, At: at(36, 0), Person: "alice"},
		},
	}
}

func newInsightsUI(t *testing.T) *testUI {
	t.Helper()
	tu := newTestUI(t)
	tu.UI.Insights = insights.New(insights.Options{
		Store:    insightsHistory(time.Now()),
		Severity: klaxon.DefaultSeverityPolicy(),
		Zone:     func(string) *time.Location { return time.UTC },
	})
	return tu
}

// insightsCard is how a totals card shows its number.
func insightsCard(title, stat string) string {
	return "<h3>" + title + `</h3><p class="stat">` + stat + "</p>"
}

func TestInsightsPage(t *testing.T) {
	tu := newInsightsUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	resp, body := viewer.get("/insights")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	want := []string{
		insightsCard("Alerts", "4"),
		insightsCard("Ack rate", "50%"), // 1 and 2 of 4
		insightsCard("Mean time to ack", "5m"),
		insightsCard("Mean time to resolve", "8m"), // 20m, 3m, 2m: 8m20s
		insightsCard("Auto-resolved unacked", "2"),
		insightsCard("Flaps", "1"),
		// Five charts, each an image with a title.
		`aria-label="Mean time to acknowledge, per day"`,
		`aria-label="Mean time to resolve, per day"`,
		`aria-label="Alerts per day by severity"`,
		`aria-label="The noisiest rules: what fired, auto-resolved unacked, flapped"`,
		`aria-label="Pages per person"`,
		// The noisiest rule first (2 fires, 2 auto-resolved, 1 flap), escaped,
		// linking to its alerts.
		`<td><a href="/alerts?match=%7Balertname%3D%22%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%7D">` + xssScriptEscaped + `</a></td>`,
		`<span class="cell-label">Noise </span>5</td>`,
		`<a href="/alerts?match=%7Balertname%3D%22DiskFull%22%7D">DiskFull</a>`,
		// alice: two pages, one at night; bob: one, at night.
		`<tr><td>alice</td><td class="num">2</td><td class="num">1</td></tr>`,
		`<tr><td>bob</td><td class="num">1</td><td class="num">1</td></tr>`,
		`<option value="30d" selected>Last 30 days</option>`,
		`<option value="api">api</option><option value="db">db</option>`,
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %s", w)
		}
	}
	if n := strings.Count(body, "<svg "); n != 5 {
		t.Errorf("got %d charts, want 5", n)
	}
	if strings.Contains(body, xssScript) {
		t.Errorf("a rule name is not escaped:\n%s", body)
	}
	if strings.Contains(body, "No data") {
		t.Errorf("a chart has no data:\n%s", body)
	}
}

func TestInsightsFilters(t *testing.T) {
	tu := newInsightsUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	tests := []struct {
		name   string
		query  url.Values
		status int
		want   []string
	}{
		{
			name:  "service and severity",
			query: url.Values{"range": {"7d"}, "service": {"db"}, "severity": {"p0"}},
			// 1 and 2 only; the load stays everyone's.
			status: http.StatusOK,
			want: []string{insightsCard("Alerts", "2"), insightsCard("Ack rate", "100%"), insightsCard("Mean time to resolve", "20m"),
				`<option value="7d" selected>`, `<option value="db" selected>`, `<option value="P0" selected>`,
				`<tr><td>alice</td><td class="num">2</td><td class="num">1</td></tr>`},
		},
		{
			name:   "a service without alerts stays chosen",
			query:  url.Values{"service": {"nosuch"}},
			status: http.StatusOK,
			want:   []string{insightsCard("Alerts", "0"), insightsCard("Ack rate", "—"), `<option value="nosuch" selected>`, "No data", "No alerts fired."},
		},
		{
			name:   "unknown range",
			query:  url.Values{"range": {"1y"}},
			status: http.StatusBadRequest,
			want:   []string{`Range: &#34;1y&#34; is not one of 7d, 30d, 90d.`, `<form class="filters"`},
		},
		{
			name:   "unknown severity",
			query:  url.Values{"severity": {"P9"}},
			status: http.StatusBadRequest,
			want:   []string{`Severity: &#34;P9&#34; is not one of P0, P1, P2, P3.`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := viewer.get("/insights?" + tt.query.Encode())
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %s:\n%s", w, body)
				}
			}
		})
	}
}

func TestInsightsNeedsSignIn(t *testing.T) {
	tu := newInsightsUI(t)
	resp, _ := tu.browser().get("/insights?range=7d")
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("next") != "/insights?range=7d" {
		t.Errorf("got %s, want the sign-in page, back to /insights?range=7d after", resp.Request.URL)
	}
}

func TestInsightsOff(t *testing.T) {
	tu := newTestUI(t)
	resp, body := tu.signIn(klaxon.RoleViewer).get("/insights")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Insights are off") {
		t.Errorf("status %d, want 200 and a note:\n%s", resp.StatusCode, body)
	}
}

// TestInsightsFromStore reads what the real store recorded of an alert.
func TestInsightsFromStore(t *testing.T) {
	tu := newTestUI(t)
	tu.UI.Insights = insights.New(insights.Options{Store: tu.Store, Severity: klaxon.DefaultSeverityPolicy()})
	id := tu.ingest("disk", map[string]string{"alertname": "DiskFull", "service": "db", "severity": "critical"}, "Disk full")
	if _, err := tu.UI.Alerts.Ack(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	_, body := tu.signIn(klaxon.RoleViewer).get("/insights")
	for _, w := range []string{insightsCard("Alerts", "1"), insightsCard("Ack rate", "100%"), `<option value="db">db</option>`} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %s:\n%s", w, body)
		}
	}
}
