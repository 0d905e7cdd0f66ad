package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

var cet = time.FixedZone("CET", 3600)

func TestPrintOnCall(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	handoff := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	list := []httpapi.OnCall{
		{
			Schedule:    "primary",
			Now:         &oncall.Shift{Schedule: "primary", User: "alice", Start: handoff.Add(-24 * time.Hour), End: handoff, Rotation: "daily"},
			Next:        &oncall.Shift{Schedule: "primary", User: "bob", Start: handoff, End: handoff.Add(8 * time.Hour), Override: &klaxon.Override{ID: 7, Replaces: "carol", CreatedBy: "ops-cli"}},
			CalendarURL: "https://klaxon.example.org/calendar/schedules/primary.ics?token=abc",
		},
		{Schedule: "quiet"},
	}
	var out bytes.Buffer
	if err := printOnCall(&out, list, now, cet); err != nil {
		t.Fatal(err)
	}
	want := `primary
  now   alice  until  Wed 2026-03-11 10:00 CET  (in 21h)  rotation daily
  next  bob    from   Wed 2026-03-11 10:00 CET  (in 21h)  override 7, in place of carol, by ops-cli
  calendar: https://klaxon.example.org/calendar/schedules/primary.ics?token=abc

quiet
  now   nobody
  next  nobody scheduled
`
	if got := trimLines(out.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// trimLines drops the padding tabwriter leaves after the last cell.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{20 * time.Second, "in <1m"},
		{45 * time.Minute, "in 45m"},
		{3 * time.Hour, "in 3h"},
		{3*time.Hour + 5*time.Minute, "in 3h05m"},
		{3*time.Hour + 4*time.Minute + 50*time.Second, "in 3h05m"},
		{48 * time.Hour, "in 2d"},
		{52*time.Hour + 30*time.Minute, "in 2d4h"},
		{-90 * time.Minute, "1h30m ago"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := relative(now.Add(tt.d), now); got != tt.want {
				t.Errorf("relative(%s): got %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-10T09:00:00Z", time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)},
		{"2026-03-10T09:00:00+02:00", time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC)},
		{"2026-03-10 09:00", time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}, // in CET
	}
	for _, tt := range tests {
		got, err := parseTime("--at", tt.in, cet)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q): got %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseTime("--at", "tomorrow", cet); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Errorf("parseTime(tomorrow): got %v, want an error naming --at", err)
	}
}

// fakeServer answers every request with status and body, and keeps the
// last request's path and body.
type fakeServer struct {
	status   int
	answer   string
	requests int
	path     string
	body     []byte
}

func (f *fakeServer) start(t *testing.T) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests++
		f.path = r.Method + " " + r.URL.RequestURI()
		f.body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		io.WriteString(w, f.answer)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func run(url string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Execute(context.Background(), append([]string{"--server", url, "--token", "t"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestOverrideAddFlags(t *testing.T) {
	const added = `{"id":3,"schedule":"primary","user":"bob","start":"2026-03-10T12:00:00Z","end":"2026-03-10T20:00:00Z"}`
	tests := []struct {
		name    string
		args    []string
		want    string // the request body, as JSON
		wantErr string // or the error, with no request made
	}{
		{"for", []string{"--for", "8h"}, `{"schedule":"primary","user":"bob","duration":"8h0m0s"}`, ""},
		{"for with replaces", []string{"--for", "90m", "--replaces", "alice"}, `{"schedule":"primary","user":"bob","replaces":"alice","duration":"1h30m0s"}`, ""},
		{"start and for", []string{"--start", "2026-03-12 09:00", "--for", "8h"}, `{"schedule":"primary","user":"bob","start":"2026-03-12T09:00:00+01:00","duration":"8h0m0s"}`, ""},
		{"start and end", []string{"--start", "2026-03-12 09:00", "--end", "2026-03-12T17:00:00Z"},
			`{"schedule":"primary","user":"bob","start":"2026-03-12T09:00:00+01:00","end":"2026-03-12T17:00:00Z"}`, ""},
		{"end only", []string{"--end", "2026-03-12 17:00"}, `{"schedule":"primary","user":"bob","end":"2026-03-12T17:00:00+01:00"}`, ""},
		{"neither", nil, "", "--for 8h, or --end"},
		{"both", []string{"--for", "8h", "--end", "2026-03-12 17:00"}, "", "not both"},
		{"negative", []string{"--for", "-1h"}, "", "--for"},
		{"bad duration", []string{"--for", "a while"}, "", "--for"},
		{"bad start", []string{"--start", "noon", "--for", "1h"}, "", "--start"},
		{"bad end", []string{"--end", "12/03/2026"}, "", "--end"},
		{"bad zone", []string{"--tz", "Mars/Olympus", "--for", "1h"}, "", "--tz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{status: http.StatusCreated, answer: added}
			url := f.start(t)
			args := append([]string{"override", "add", "primary", "bob", "--tz", "Etc/GMT-1"}, tt.args...)
			code, out, errOut := run(url, args...)
			if tt.wantErr != "" {
				if code == 0 || !strings.Contains(errOut, tt.wantErr) || f.requests != 0 {
					t.Errorf("exit %d, stderr %q, %d request(s); want failure naming %q and no request", code, errOut, f.requests, tt.wantErr)
				}
				return
			}
			if code != 0 || f.path != "POST /api/v1/overrides" || !strings.Contains(out, "Override 3: bob is on call for primary") {
				t.Fatalf("exit %d, %s, stdout %q, stderr %q", code, f.path, out, errOut)
			}
			if got := compactJSON(t, f.body); got != tt.want {
				t.Errorf("request body: got %s, want %s", got, tt.want)
			}
		})
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return buf.String()
}

func TestOnCallCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		status   int
		answer   string
		wantPath string
		wantCode int
		wantOut  string // in stdout (exit 0) or stderr
	}{
		{
			"oncall", []string{"oncall", "primary", "--at", "2026-03-10 09:00", "--tz", "UTC"}, 200,
			`{"oncall":[{"schedule":"primary","now":{"schedule":"primary","user":"alice","start":"2026-03-10T09:00:00Z","end":"2026-03-11T09:00:00Z","rotation":"daily"},"next":null}]}`,
			"GET /api/v1/oncall?at=2026-03-10T09%3A00%3A00Z&schedule=primary", 0, "until  Wed 2026-03-11 09:00 UTC",
		},
		{
			"oncall json", []string{"oncall", "--json"}, 200, `{"oncall":[]}`,
			"GET /api/v1/oncall?", 0, `"oncall": []`,
		},
		{
			"oncall bad at", []string{"oncall", "--at", "soon"}, 200, `{}`,
			"", 1, "--at",
		},
		{
			"unknown schedule", []string{"oncall", "nope"}, 404, `{"error":"no schedule \"nope\"; schedules: primary, secondary","code":"not_found"}`,
			"GET /api/v1/oncall?schedule=nope", 1, `no schedule "nope"; schedules: primary, secondary`,
		},
		{
			"unknown user", []string{"override", "add", "primary", "dave", "--for", "1h"}, 400, `{"error":"no user \"dave\"; users: alice, bob","code":"invalid"}`,
			"POST /api/v1/overrides", 1, `no user "dave"; users: alice, bob`,
		},
		{
			"list", []string{"override", "list", "primary", "--tz", "UTC"}, 200,
			`{"overrides":[{"id":4,"schedule":"primary","user":"bob","replaces":"alice","start":"2026-03-12T09:00:00Z","end":"2026-03-12T17:00:00Z","created_by":"ops-cli"}]}`,
			"GET /api/v1/overrides?schedule=primary", 0, "4   primary   bob   alice     Thu 2026-03-12 09:00 UTC  Thu 2026-03-12 17:00 UTC  ops-cli",
		},
		{
			"rm", []string{"override", "rm", "4", "--tz", "UTC"}, 200,
			`{"id":4,"schedule":"primary","user":"bob","start":"2026-03-12T09:00:00Z","end":"2026-03-12T17:00:00Z"}`,
			"DELETE /api/v1/overrides/4", 0, "Removed override 4: bob is on call for primary from Thu 2026-03-12 09:00 UTC until Thu 2026-03-12 17:00 UTC.",
		},
		{
			"rm not an ID", []string{"override", "rm", "bob"}, 200, `{}`,
			"", 1, `"bob" is not an override ID`,
		},
		{
			"shifts", []string{"shifts", "primary", "--from", "2026-03-10T00:00:00Z", "--to", "2026-03-12T00:00:00Z", "--tz", "UTC"}, 200,
			`{"from":"2026-03-10T00:00:00Z","to":"2026-03-12T00:00:00Z","shifts":[{"schedule":"primary","user":"alice","start":"2026-03-10T09:00:00Z","end":"2026-03-11T09:00:00Z","rotation":"daily"}]}`,
			"GET /api/v1/schedules/primary/shifts?from=2026-03-10T00%3A00%3A00Z&to=2026-03-12T00%3A00%3A00Z", 0,
			"primary   alice  Tue 2026-03-10 09:00 UTC  Wed 2026-03-11 09:00 UTC  1d      rotation daily",
		},
		{
			"user shifts", []string{"shifts", "--user", "alice"}, 200, `{"shifts":[]}`,
			"GET /api/v1/users/alice/shifts?", 0, "No shifts",
		},
		{
			"shifts of both", []string{"shifts", "primary", "--user", "alice"}, 200, `{}`,
			"", 1, "not both",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{status: tt.status, answer: tt.answer}
			code, out, errOut := run(f.start(t), tt.args...)
			if code != tt.wantCode || f.path != tt.wantPath {
				t.Fatalf("exit %d after %q; want %d after %q\nstdout %s\nstderr %s", code, f.path, tt.wantCode, tt.wantPath, out, errOut)
			}
			got := out
			if code != 0 {
				got = errOut
			}
			if !strings.Contains(got, tt.wantOut) {
				t.Errorf("got\n%s\nwant it to hold %q", got, tt.wantOut)
			}
		})
	}
}
