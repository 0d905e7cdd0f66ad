package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

const apiToken = "test-token-0123456789abcdef"

// testNow is a Tuesday: alice's day on the daily rotation (she has even
// days from 2026-03-02), bob's from 09:00 tomorrow.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// testDirectory has users alice, bob and carol and one schedule, primary:
// a daily rotation of alice and bob handing off at 09:00 UTC.
func testDirectory() *oncall.Directory {
	users := map[string]klaxon.User{}
	for _, name := range []string{"alice", "bob", "carol"} {
		users[name] = klaxon.User{Name: name, TimeZone: time.UTC}
	}
	return &oncall.Directory{
		Users: users,
		Schedules: map[string]*oncall.Schedule{
			"primary": {
				Name:     "primary",
				Location: time.UTC,
				Rotations: []oncall.Rotation{{
					Name:         "daily",
					Participants: []string{"alice", "bob"},
					Length:       24 * time.Hour,
					Start:        time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
					Location:     time.UTC,
				}},
			},
		},
		Policies: map[string]*oncall.Policy{},
	}
}

type testServer struct {
	URL    string
	Client *httpapi.Client
}

// startServer serves the API over a real SQLite store, with the test
// directory when withOnCall, or no schedules at all.
func startServer(t *testing.T, withOnCall bool) *testServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := func() time.Time { return testNow }
	tokens := httpapi.NewTokens()
	tokens.Add(apiToken, httpapi.Credential{Name: "ops-cli"})
	srv := &httpapi.Server{
		Alerts: alerting.New(store, alerting.Options{Now: now}),
		Tokens: tokens,
		Auth:   testAuth(t, store),
		Now:    now,
	}
	if withOnCall {
		srv.OnCall = oncall.NewService(store, testDirectory(), oncall.Options{Now: now, Secret: []byte("calendar-secret-0123456789")})
	}
	ts := httptest.NewServer(nil)
	srv.BaseURL = ts.URL
	ts.Config.Handler = srv.Handler()
	t.Cleanup(ts.Close)
	return &testServer{URL: ts.URL, Client: &httpapi.Client{BaseURL: ts.URL, Token: apiToken}}
}

// call makes a request with the API token (unless path is a feed) and
// returns the status and body.
func call(t *testing.T, method, rawURL, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rawURL, "/calendar/") {
		req.Header.Set("Authorization", "Bearer "+apiToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func errorMessage(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error", body)
	}
	return e.Error
}

func TestOnCallNowAndNext(t *testing.T) {
	s := startServer(t, true)
	ctx := context.Background()
	list, err := s.Client.OnCall(ctx, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.OnCall) != 1 {
		t.Fatalf("got %d schedules, want 1: %+v", len(list.OnCall), list)
	}
	oc := list.OnCall[0]
	tomorrow9 := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	if oc.Schedule != "primary" || oc.Now == nil || oc.Now.User != "alice" || !oc.Now.End.Equal(tomorrow9) {
		t.Errorf("now: got %+v, want alice until %s", oc.Now, tomorrow9)
	}
	if oc.Next == nil || oc.Next.User != "bob" || !oc.Next.Start.Equal(tomorrow9) {
		t.Errorf("next: got %+v, want bob from %s", oc.Next, tomorrow9)
	}
	if want := s.URL + "/calendar/schedules/primary.ics?token="; !strings.HasPrefix(oc.CalendarURL, want) || len(oc.CalendarURL) == len(want) {
		t.Errorf("calendar_url: got %q, want %s<token>", oc.CalendarURL, want)
	}

	list, err = s.Client.OnCall(ctx, "primary", tomorrow9.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := list.OnCall[0].Now; got == nil || got.User != "bob" {
		t.Errorf("at tomorrow 10:00: got %+v, want bob", got)
	}

	// The API answers null, not a missing key, for nobody.
	status, body, _ := call(t, http.MethodGet, s.URL+"/api/v1/oncall?schedule=primary", "")
	if status != http.StatusOK || !strings.Contains(body, `"now":{`) || !strings.Contains(body, `"next":{`) {
		t.Errorf("GET /api/v1/oncall: got %d %s", status, body)
	}

	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantText   string
	}{
		{"bad at", "at=tomorrow", http.StatusBadRequest, "at:"},
		{"at without zone", "at=2026-03-10T12:00:00", http.StatusBadRequest, "at:"},
		{"unknown schedule", "schedule=nope", http.StatusNotFound, "primary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, http.MethodGet, s.URL+"/api/v1/oncall?"+tt.query, "")
			if status != tt.wantStatus || !strings.Contains(errorMessage(t, body), tt.wantText) {
				t.Errorf("got %d %s, want %d naming %q", status, body, tt.wantStatus, tt.wantText)
			}
		})
	}
}

func TestOnCallNeedsToken(t *testing.T) {
	s := startServer(t, true)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/oncall", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: got %d, want 401", resp.StatusCode)
	}
}

func TestShifts(t *testing.T) {
	s := startServer(t, true)
	ctx := context.Background()
	list, err := s.Client.Shifts(ctx, "primary", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Now to 14 days on: today's partial shift and 14 more handoffs.
	if !list.From.Equal(testNow) || !list.To.Equal(testNow.Add(14*24*time.Hour)) || len(list.Shifts) != 15 {
		t.Errorf("got %d shifts from %s to %s, want 15 from now to 14 days on", len(list.Shifts), list.From, list.To)
	}
	mine, err := s.Client.UserShifts(ctx, "bob", testNow, testNow.Add(4*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range mine.Shifts {
		if sh.User != "bob" || sh.Schedule != "primary" {
			t.Errorf("bob's shifts hold %+v", sh)
		}
	}
	if len(mine.Shifts) != 2 || !strings.Contains(mine.CalendarURL, "/calendar/users/bob.ics?token=") {
		t.Errorf("bob's next 4 days: got %d shifts, calendar %q; want 2 and his feed", len(mine.Shifts), mine.CalendarURL)
	}

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantText   string
	}{
		{"to before from", "/api/v1/schedules/primary/shifts?from=2026-03-10T00:00:00Z&to=2026-03-09T00:00:00Z", 400, "to:"},
		{"over a year", "/api/v1/schedules/primary/shifts?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z", 400, "366 days"},
		{"bad from", "/api/v1/users/bob/shifts?from=monday", 400, "from:"},
		{"unknown schedule", "/api/v1/schedules/nope/shifts", 404, "primary"},
		{"unknown user", "/api/v1/users/nobody/shifts", 404, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, http.MethodGet, s.URL+tt.path, "")
			if status != tt.wantStatus || !strings.Contains(errorMessage(t, body), tt.wantText) {
				t.Errorf("got %d %s, want %d naming %q", status, body, tt.wantStatus, tt.wantText)
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	s := startServer(t, true)
	ctx := context.Background()
	o, err := s.Client.AddOverride(ctx, httpapi.OverrideRequest{Schedule: "primary", User: "carol", Duration: "8h"})
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || o.CreatedBy != "ops-cli" || !o.Start.Equal(testNow) || !o.End.Equal(testNow.Add(8*time.Hour)) {
		t.Errorf("added %+v, want an ID, by ops-cli, from now for 8h", o)
	}
	list, err := s.Client.OnCall(ctx, "primary", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if now := list.OnCall[0].Now; now == nil || now.User != "carol" || now.Override == nil || now.Override.ID != o.ID {
		t.Errorf("on call after the override: got %+v, want carol by override %d", now, o.ID)
	}

	start := testNow.Add(48 * time.Hour)
	o2, err := s.Client.AddOverride(ctx, httpapi.OverrideRequest{Schedule: "primary", User: "bob", Replaces: "alice", Start: start, End: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if o2.Replaces != "alice" || !o2.Start.Equal(start) || !o2.End.Equal(start.Add(time.Hour)) {
		t.Errorf("added %+v, want bob for alice from %s for 1h", o2, start)
	}
	overrides, err := s.Client.Overrides(ctx, "primary")
	if err != nil {
		t.Fatal(err)
	}
	if len(overrides.Overrides) != 2 || overrides.Overrides[0].ID != o.ID || overrides.Overrides[1].ID != o2.ID {
		t.Errorf("list: got %+v, want overrides %d and %d", overrides.Overrides, o.ID, o2.ID)
	}

	removed, err := s.Client.RemoveOverride(ctx, o.ID)
	if err != nil || removed.ID != o.ID || removed.User != "carol" {
		t.Fatalf("remove %d: got %+v, %v", o.ID, removed, err)
	}
	if _, err := s.Client.RemoveOverride(ctx, o.ID); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("remove %d twice: got %v, want not found", o.ID, err)
	}
	list, err = s.Client.OnCall(ctx, "primary", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if now := list.OnCall[0].Now; now == nil || now.User != "alice" {
		t.Errorf("on call after removing the override: got %+v, want alice again", now)
	}
}

func TestOverrideRefused(t *testing.T) {
	s := startServer(t, true)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantText   []string
	}{
		{"unknown schedule", `{"schedule":"secondary","user":"bob","duration":"8h"}`, 400, []string{"secondary", "primary"}},
		{"unknown user", `{"schedule":"primary","user":"dave","duration":"8h"}`, 400, []string{"dave", "alice", "bob", "carol"}},
		{"unknown replaced", `{"schedule":"primary","user":"bob","replaces":"dave","duration":"8h"}`, 400, []string{"dave", "alice"}},
		{"no end or duration", `{"schedule":"primary","user":"bob"}`, 400, []string{"end or duration"}},
		{"end and duration", `{"schedule":"primary","user":"bob","end":"2026-03-10T20:00:00Z","duration":"8h"}`, 400, []string{"not both"}},
		{"bad duration", `{"schedule":"primary","user":"bob","duration":"a while"}`, 400, []string{"duration:"}},
		{"negative duration", `{"schedule":"primary","user":"bob","duration":"-8h"}`, 400, []string{"duration:"}},
		{"bad start", `{"schedule":"primary","user":"bob","start":"10 March","duration":"8h"}`, 400, []string{"start:"}},
		{"end before start", `{"schedule":"primary","user":"bob","start":"2026-03-10T20:00:00Z","end":"2026-03-10T19:00:00Z"}`, 400, []string{"end"}},
		{"missing schedule and user", `{"duration":"8h"}`, 400, []string{"schedule: missing", "user: missing"}},
		{"unknown field", `{"schedule":"primary","user":"bob","duration":"8h","until":"x"}`, 400, []string{"until"}},
		{"not JSON", `{schedule`, 400, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, http.MethodPost, s.URL+"/api/v1/overrides", tt.body)
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
	if list, err := s.Client.Overrides(context.Background(), ""); err != nil || len(list.Overrides) != 0 {
		t.Errorf("after refusals: got %+v, %v; want no overrides", list, err)
	}
	status, body, _ := call(t, http.MethodDelete, s.URL+"/api/v1/overrides/first", "")
	if status != http.StatusBadRequest || !strings.Contains(errorMessage(t, body), "override ID") {
		t.Errorf("DELETE /api/v1/overrides/first: got %d %s, want 400", status, body)
	}
}

func TestCalendarFeeds(t *testing.T) {
	s := startServer(t, true)
	ctx := context.Background()
	list, err := s.Client.OnCall(ctx, "primary", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	scheduleFeed := list.OnCall[0].CalendarURL
	bobs, err := s.Client.UserShifts(ctx, "bob", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	userFeed := bobs.CalendarURL
	if scheduleFeed == "" || userFeed == "" {
		t.Fatalf("feed URLs: schedule %q, user %q", scheduleFeed, userFeed)
	}

	for _, feed := range []string{scheduleFeed, userFeed} {
		status, body, h := call(t, http.MethodGet, feed, "")
		if status != http.StatusOK || h.Get("Content-Type") != "text/calendar; charset=utf-8" || !strings.HasPrefix(body, "BEGIN:VCALENDAR") {
			t.Errorf("GET %s: got %d %s %.60q, want 200 text/calendar BEGIN:VCALENDAR…", feed, status, h.Get("Content-Type"), body)
		}
	}

	u, _ := url.Parse(scheduleFeed)
	token := u.Query().Get("token")
	bobToken := must(url.Parse(userFeed)).Query().Get("token")
	tests := []struct {
		name string
		path string
	}{
		{"no token", "/calendar/schedules/primary.ics"},
		{"empty token", "/calendar/schedules/primary.ics?token="},
		{"wrong token", "/calendar/schedules/primary.ics?token=" + strings.Repeat("x", len(token))},
		{"another feed's token", "/calendar/schedules/primary.ics?token=" + bobToken},
		{"schedule token on a user feed", "/calendar/users/primary.ics?token=" + token},
		{"unknown schedule", "/calendar/schedules/nope.ics?token=" + token},
		{"without .ics", "/calendar/schedules/primary?token=" + token},
		{"user feed with no token", "/calendar/users/bob.ics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, http.MethodGet, s.URL+tt.path, "")
			if status != http.StatusNotFound || strings.Contains(body, "BEGIN:VCALENDAR") {
				t.Errorf("got %d %s, want 404", status, body)
			}
		})
	}
	// A wrong token and an unknown name answer alike: the feeds reveal no names.
	_, unknown, _ := call(t, http.MethodGet, s.URL+"/calendar/schedules/nope.ics?token=abc", "")
	_, wrong, _ := call(t, http.MethodGet, s.URL+"/calendar/schedules/primary.ics?token=abc", "")
	if unknown != wrong {
		t.Errorf("unknown schedule answered %q, wrong token %q; want the same", unknown, wrong)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNoSchedules(t *testing.T) {
	s := startServer(t, false)
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/oncall", ""},
		{http.MethodGet, "/api/v1/schedules/primary/shifts", ""},
		{http.MethodGet, "/api/v1/users/alice/shifts", ""},
		{http.MethodGet, "/api/v1/overrides", ""},
		{http.MethodPost, "/api/v1/overrides", `{"schedule":"primary","user":"bob","duration":"8h"}`},
		{http.MethodDelete, "/api/v1/overrides/1", ""},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			status, body, _ := call(t, r.method, s.URL+r.path, r.body)
			if status != http.StatusNotFound || errorMessage(t, body) != "no schedules are configured" {
				t.Errorf("got %d %s, want 404 no schedules are configured", status, body)
			}
		})
	}
	if status, _, _ := call(t, http.MethodGet, s.URL+"/calendar/schedules/primary.ics?token=abc", ""); status != http.StatusNotFound {
		t.Errorf("feed: got %d, want 404", status)
	}
}
