package webui

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// onCallAt is who the test configuration's rotation puts on call at t:
// weekly shifts in UTC handed off from its start date, in participant
// order.
func onCallAt(t *testing.T, cfg *config.Config, at time.Time) string {
	t.Helper()
	sc := cfg.Schedules[0]
	rot := sc.Rotations[0]
	if len(sc.Rotations) != 1 || rot.Shift != "weekly" || rot.TimeZone != "" || sc.TimeZone != "" || len(rot.Hours) != 0 {
		t.Fatalf("the test configuration's schedule is not the one onCallAt reads: %+v", sc)
	}
	start, err := time.Parse(time.DateOnly+" 15:04", rot.Start+" "+rot.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	week := 7 * 24 * time.Hour
	shifts := int(at.Sub(start) / week)
	if at.Before(start) && at.Sub(start)%week != 0 {
		shifts-- // round toward the past
	}
	n := len(rot.Participants)
	return rot.Participants[(shifts%n+n)%n]
}

// dayCell is the content of a calendar's day (2026-03-10) on a page.
func dayCell(t *testing.T, page, date string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<li class="day[^"]*" data-date="` + date + `"[^>]*>(.*?)</li>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no calendar day %s on the page:\n%s", date, page)
	}
	return m[1]
}

var shiftClass = regexp.MustCompile(`class="shift( override)?"`)

func TestOnCallCalendar(t *testing.T) {
	tu := newTestUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	resp, page := viewer.get("/oncall")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /oncall: status %d:\n%s", resp.StatusCode, page)
	}
	if n := strings.Count(page, `<li class="day`); n != overviewDays {
		t.Errorf("calendar has %d days, want %d", n, overviewDays)
	}
	// The viewer is no configured person: times are in the server's zone.
	y, m, d := time.Now().Date()
	for i := range overviewDays {
		start := time.Date(y, m, d+i, 0, 0, 0, 0, time.Local)
		end := time.Date(y, m, d+i+1, 0, 0, 0, 0, time.Local)
		cell := dayCell(t, page, start.Format(time.DateOnly))
		first, last := onCallAt(t, tu.Config, start), onCallAt(t, tu.Config, end.Add(-time.Second))
		for _, who := range []string{first, last} {
			if !strings.Contains(cell, "<strong>"+who+"</strong>") {
				t.Errorf("%s: %s is on call but not shown:\n%s", start.Format(time.DateOnly), who, cell)
			}
		}
		if first == last {
			if n := len(shiftClass.FindAllString(cell, -1)); n != 1 {
				t.Errorf("%s: %d shifts shown, want only %s's:\n%s", start.Format(time.DateOnly), n, first, cell)
			}
		}
	}
	now := onCallAt(t, tu.Config, time.Now())
	if !strings.Contains(page, "On call now: <strong>"+now+"</strong>") {
		t.Errorf("page does not say %s is on call now:\n%s", now, page)
	}
	for _, want := range []string{`<h3>default</h3>`, `whoever is on call for <a href="/oncall/primary">primary</a>`, "at once"} {
		if !strings.Contains(page, want) {
			t.Errorf("escalation policies lack %q:\n%s", want, page)
		}
	}
}

func TestSchedulePage(t *testing.T) {
	tu := newTestUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	tests := []struct {
		path   string
		status int
		days   int
	}{
		{"/oncall/primary", http.StatusOK, scheduleDays},
		{"/oncall/primary?from=2026-01-05&days=7", http.StatusOK, 7},
		{"/oncall/primary?days=1000", http.StatusBadRequest, 0},
		{"/oncall/primary?from=yesterday", http.StatusBadRequest, 0},
		{"/oncall/nosuch", http.StatusNotFound, 0},
	}
	for _, tt := range tests {
		resp, page := viewer.get(tt.path)
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: status %d, want %d:\n%s", tt.path, resp.StatusCode, tt.status, page)
		}
		if n := strings.Count(page, `<li class="day`); n != tt.days {
			t.Errorf("GET %s: %d calendar days, want %d", tt.path, n, tt.days)
		}
	}
	// The rotation's first day: its first participant from 09:00 UTC.
	_, page := viewer.get("/oncall/primary?from=2026-01-05&days=7")
	first := tu.Config.Schedules[0].Rotations[0].Participants[0]
	if cell := dayCell(t, page, "2026-01-05"); !strings.Contains(cell, "<strong>"+first+"</strong>") {
		t.Errorf("2026-01-05 lacks %s:\n%s", first, cell)
	}
}

func TestOverrideForms(t *testing.T) {
	tu := newTestUI(t)
	ctx := context.Background()
	responder := tu.signIn(klaxon.RoleResponder)
	viewer := tu.signIn(klaxon.RoleViewer)

	y, m, d := time.Now().Date()
	start := time.Date(y, m, d+1, 10, 0, 0, 0, time.Local)
	end := time.Date(y, m, d+1, 14, 30, 0, 0, time.Local)
	form := url.Values{"schedule": {"primary"}, "user": {"bob"}, "start": {start.Format(localTimeLayout)}, "end": {end.Format(localTimeLayout)}}

	// post fills in the browser's CSRF token: each gets its own copy.
	resp, _ := viewer.post("/oncall/overrides", maps.Clone(form))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer adds an override: status %d, want 403", resp.StatusCode)
	}

	resp, page := responder.post("/oncall/overrides", maps.Clone(form))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/oncall/primary" {
		t.Fatalf("add override: status %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	if !strings.Contains(page, "bob is on call for primary from") {
		t.Errorf("no flash after adding the override:\n%s", page)
	}
	overrides, err := tu.UI.OnCall.Overrides(ctx, "primary", time.Now(), time.Now().Add(72*time.Hour))
	if err != nil || len(overrides) != 1 {
		t.Fatalf("overrides = %v, %v; want the one added", overrides, err)
	}
	o := overrides[0]
	if o.User != "bob" || !o.Start.Equal(start) || !o.End.Equal(end) || o.CreatedBy != responder.Name {
		t.Errorf("stored override %+v; want bob from %s to %s by %s", o, start, end, responder.Name)
	}
	if cell := dayCell(t, page, start.Format(time.DateOnly)); !strings.Contains(cell, `class="shift override"`) || !strings.Contains(cell, "10:00–14:30") {
		t.Errorf("tomorrow's calendar day does not show the override:\n%s", cell)
	}

	remove := fmt.Sprintf("/oncall/overrides/%d/remove", o.ID)
	if !strings.Contains(page, `action="`+remove+`"`) {
		t.Errorf("no remove form for override %d:\n%s", o.ID, page)
	}
	if resp, _ := viewer.post(remove, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer removes an override: status %d, want 403", resp.StatusCode)
	}
	resp, page = responder.post(remove, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Removed the override putting bob on call for primary.") {
		t.Errorf("remove override: status %d:\n%s", resp.StatusCode, page)
	}
	if overrides, err := tu.UI.OnCall.Overrides(ctx, "primary", time.Now(), time.Now().Add(72*time.Hour)); err != nil || len(overrides) != 0 {
		t.Errorf("overrides after removal = %v, %v; want none", overrides, err)
	}
}

func TestOverrideFormProblems(t *testing.T) {
	tu := newTestUI(t)
	responder := tu.signIn(klaxon.RoleResponder)
	tomorrow := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{"ends before it starts",
			url.Values{"schedule": {"primary"}, "user": {"bob"}, "start": {tomorrow.Format(localTimeLayout)}, "end": {tomorrow.Add(-time.Hour).Format(localTimeLayout)}},
			[]string{"before it starts", `<option value="bob" selected>`}},
		{"no time",
			url.Values{"schedule": {"primary"}, "user": {"alice"}, "start": {"tomorrow"}, "end": {""}},
			[]string{"start: got &#34;tomorrow&#34;", "end: got &#34;&#34;", `value="tomorrow"`}},
		{"unknown person",
			url.Values{"schedule": {"primary"}, "user": {"mallory"}, "start": {tomorrow.Format(localTimeLayout)}, "end": {tomorrow.Add(time.Hour).Format(localTimeLayout)}},
			[]string{"no user &#34;mallory&#34;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := responder.post("/oncall/overrides", tt.form)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q:\n%s", w, page)
				}
			}
		})
	}
	overrides, err := tu.UI.OnCall.Overrides(context.Background(), "primary", time.Now(), time.Now().Add(72*time.Hour))
	if err != nil || len(overrides) != 0 {
		t.Errorf("overrides = %v, %v; want none stored", overrides, err)
	}
}

func TestOnCallFeeds(t *testing.T) {
	tu := newTestUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	if _, page := viewer.get("/oncall"); strings.Contains(page, ".ics?token=") || !strings.Contains(page, "Calendar feeds are off") {
		t.Errorf("feeds linked without a calendar secret:\n%s", page)
	}

	tu.UI.OnCall = oncall.NewService(tu.Store, tu.UI.OnCall.Directory(), oncall.Options{Secret: []byte("calendar secret")})
	_, page := viewer.get("/oncall")
	for _, feed := range []struct{ kind, name string }{{"schedule", "primary"}, {"user", "alice"}, {"user", "bob"}} {
		m := regexp.MustCompile(`href="/calendar/` + feed.kind + `s/` + feed.name + `\.ics\?token=([0-9a-f]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no feed of %s %s:\n%s", feed.kind, feed.name, page)
			continue
		}
		if !tu.UI.OnCall.CheckFeedToken(feed.kind, feed.name, m[1]) {
			t.Errorf("the feed of %s %s has a token that does not open it", feed.kind, feed.name)
		}
	}
}
