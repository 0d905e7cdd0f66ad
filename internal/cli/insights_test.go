package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/insights"
)

func TestPrintInsights(t *testing.T) {
	since := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	db := insights.Summary{Alerts: 2, Acked: 2, AckRate: 1, Resolved: 1, MTTA: 10 * time.Minute, MTTR: 90 * time.Minute}
	api := insights.Summary{Alerts: 4, Acked: 1, AckRate: 0.25, Resolved: 3, AutoResolved: 2, Flaps: 1, MTTA: 45 * time.Second, MTTR: 26 * time.Hour}
	r := &insights.Report{
		Since: since, Until: since.AddDate(0, 0, 7),
		Total:   insights.Summary{Alerts: 6, Acked: 3, AckRate: 0.5, Resolved: 4, AutoResolved: 2, Flaps: 1, MTTA: 3*time.Minute + 35*time.Second, MTTR: 20 * time.Hour},
		ByLevel: []insights.Slice{{Name: "P0", Summary: db}, {Name: "P1", Summary: api}, {Name: "P2"}},
		Noisiest: []insights.Rule{
			{Name: "HighLatency", Service: "api", Summary: api, Noise: 7},
			{Name: "", Service: "db", Summary: db, Noise: 2},
		},
		Load: []insights.Load{{Person: "alice", Pages: 4, NightPages: 1}, {Person: "bob", Pages: 1}},
	}
	var out bytes.Buffer
	if err := printInsights(&out, httpapi.InsightsQuery{Service: "api"}, r); err != nil {
		t.Fatal(err)
	}
	want := `From 2026-03-02 00:00 to 2026-03-09 00:00 UTC, service api

SEVERITY  ALERTS  ACK RATE  MTTA  MTTR    AUTO-RESOLVED UNACKED  FLAPS
P0        2       100%      10m   1h30m   0                      0
P1        4       25%       45s   1d2h    2                      1
P2        0       -         -     -       0                      0
all       6       50%       3m    20h00m  2                      1

Noisiest rules
RULE            SERVICE  NOISE  FIRED  AUTO-RESOLVED UNACKED  FLAPS  ACK RATE  MTTA
HighLatency     api      7      4      2                      1      25%       45s
(no alertname)  db       2      2      0                      0      100%      10m

On-call load (everyone's)
PERSON  PAGES  AT NIGHT
alice   4      1
bob     1      0
`
	if got := trimLines(out.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPrintInsightsEmpty(t *testing.T) {
	var out bytes.Buffer
	r := &insights.Report{ByLevel: []insights.Slice{{Name: "P0"}}}
	if err := printInsights(&out, httpapi.InsightsQuery{}, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"P0        0       -", "all       0       -", "Noisiest rules\nNo alerts.", "(everyone's)\nNobody was paged."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestInsightsCommand(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantQuery url.Values // since and until aside
		wantSpan  time.Duration
		wantErr   string // or the error, with no request made
	}{
		{"defaults", nil, url.Values{}, 30 * 24 * time.Hour, ""},
		{"filters", []string{"--since", "2w", "--service", "db", "--severity", "P0,P1"},
			url.Values{"service": {"db"}, "level": {"P0,P1"}}, 14 * 24 * time.Hour, ""},
		{"hours", []string{"--since", "12h"}, url.Values{}, 12 * time.Hour, ""},
		{"bad span", []string{"--since", "a while"}, nil, 0, `--since: got "a while", want a span such as 30d`},
		{"no span", []string{"--since", "0d"}, nil, 0, "--since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{status: http.StatusOK, answer: `{"total":{"alerts":0},"by_level":[],"noisiest":[],"load":[]}`}
			var out bytes.Buffer
			cmd := newInsights(&globals{server: f.start(t), token: "t", stdout: &out})
			cmd.SetArgs(tt.args)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.ExecuteContext(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || f.requests != 0 {
					t.Errorf("got %v after %d request(s), want an error naming %q and no request", err, f.requests, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			path, query, _ := strings.Cut(f.path, "?")
			if path != "GET /api/v1/insights" {
				t.Fatalf("request %s, want GET /api/v1/insights", f.path)
			}
			q, _ := url.ParseQuery(query)
			// Until is the server's now: an alert that arrived in this
			// second must count, whatever this machine's clock says.
			since, err := time.Parse(time.RFC3339, q.Get("since"))
			if ago := time.Since(since); err != nil || ago < tt.wantSpan || ago > tt.wantSpan+time.Minute {
				t.Errorf("since %q: want an RFC 3339 time %s ago", q.Get("since"), tt.wantSpan)
			}
			if q.Has("until") {
				t.Errorf("until %q sent; want the server's now", q.Get("until"))
			}
			q.Del("since")
			q.Del("until")
			if q.Encode() != tt.wantQuery.Encode() {
				t.Errorf("query: got %s, want %s", q.Encode(), tt.wantQuery.Encode())
			}
		})
	}
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"", 0, false},
		{"d", 0, false},
		{"-3d", 0, false},
		{"3 days", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSpan(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseSpan(%q): got %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
