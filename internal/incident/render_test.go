package incident_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// at is 21 November 2026 at hh:mm UTC; hours past 23 run into the next day.
func at(hh, mm int) time.Time { return time.Date(2026, 11, 21, hh, mm, 0, 0, time.UTC) }

// sev1 is a resolved SEV1 that ran from 23:41 to 00:53 the next day.
func sev1() *klaxon.Incident {
	return &klaxon.Incident{
		ID:            7,
		Title:         "INCIDENT: api - 50% of requests failing",
		Service:       "api",
		Summary:       "50% of requests failing",
		Level:         0,
		Status:        klaxon.IncidentResolved,
		Public:        true,
		Reporter:      "alice",
		DetectedAt:    at(23, 41),
		DeclaredAt:    at(23, 48),
		ResolvedAt:    at(24, 53),
		Commander:     "alice",
		CommsLead:     "carol",
		Responders:    []string{"bob", "dave"},
		MissedUpdates: 1,
		RootCause:     "Deploy 2026.11.21-3 halved the database connection pool; under evening load requests waited for a connection and timed out.",
		Fix:           "Rolled back to 2026.11.21-2 and raised the pool to 40.",
		Impact:        "About half of API requests failed with 503 for 1h 12m.",
		PostmortemDue: at(24, 53).Add(24 * time.Hour),
		Alerts:        []int64{12},
	}
}

func sev1Timeline() []klaxon.TimelineEntry {
	e := func(t time.Time, actor string, kind klaxon.TimelineKind, alert int64, text string) klaxon.TimelineEntry {
		return klaxon.TimelineEntry{IncidentID: 7, At: t, Actor: actor, Kind: kind, AlertID: alert, Text: text}
	}
	update := e(at(23, 55), "carol", klaxon.TimelineUpdate, 0, "We are investigating elevated error rates on the API.")
	update.Public = true
	return []klaxon.TimelineEntry{
		e(at(23, 41), "alertmanager", klaxon.TimelineKind(klaxon.EventFired), 12, "HighErrorRate: api 5xx ratio 52%"),
		e(at(23, 44), "bob", klaxon.TimelineKind(klaxon.EventAcknowledged), 12, ""),
		e(at(23, 48), "alice", klaxon.TimelineDeclared, 0, "INCIDENT: api - 50% of requests failing (SEV1)"),
		e(at(23, 48), "alice", klaxon.TimelineAlertLinked, 12, "HighErrorRate"),
		e(at(23, 50), "alice", klaxon.TimelineRole, 0, "carol is comms lead"),
		update,
		e(at(24, 10), "bob", klaxon.TimelineStatus, 0, "investigating → identified"),
		e(at(24, 12), "bob", klaxon.TimelineNote, 0, "Connection pool exhausted after deploy 2026.11.21-3.\nRolling back."),
		e(at(24, 21), "klaxon", klaxon.TimelineMissed, 0, "a status update was due at 00:20"),
		e(at(24, 35), "bob", klaxon.TimelineStatus, 0, "identified → monitoring"),
		e(at(24, 40), "alertmanager", klaxon.TimelineKind(klaxon.EventResolved), 12, ""),
		e(at(24, 53), "alice", klaxon.TimelineResolved, 0, ""),
	}
}

func TestPostmortemGolden(t *testing.T) {
	hostile := &klaxon.Incident{
		ID:         9,
		Title:      "api | <script>alert(1)</script> #",
		Service:    "api|web",
		Summary:    "# Not a heading\n<img src=x onerror=alert(1)>\n```\n- [x] fake item",
		Level:      1,
		Status:     klaxon.IncidentResolved,
		DetectedAt: at(10, 0),
		ResolvedAt: at(10, 45),
		Commander:  "<b>mallory</b>",
		Responders: []string{"eve\n# h", ""},
		RootCause:  "line one\n    indented code\n1. a list\n---",
		Fix:        "[click](javascript:alert(1)) and a \\| pipe",
		Impact:     "| a | b |\n|---|---|\n> quoted -->",
	}
	tests := map[string]incident.PostmortemInput{
		"postmortem_sev1": {
			Incident:  sev1(),
			LevelName: "SEV1",
			Timeline:  sev1Timeline(),
			Actions: []klaxon.ActionItem{
				{ID: 4, IncidentID: 7, Text: "Alert on connection pool saturation", Owner: "bob", DoneBy: "bob", DoneAt: at(30, 0)},
				{ID: 5, IncidentID: 7, Text: "Load-test the pool size before deploys", Owner: "dave"},
				{ID: 6, IncidentID: 7, Text: "Document the rollback"},
			},
			Author:  "alice",
			BaseURL: "https://klaxon.example.com/",
		},
		"postmortem_minimal": {
			Incident: &klaxon.Incident{
				ID:         8,
				Title:      "INCIDENT: billing - invoices not sent",
				Service:    "billing",
				Level:      1,
				Status:     klaxon.IncidentInvestigating,
				DetectedAt: at(9, 5),
				DeclaredAt: at(9, 10),
			},
			LevelName: "SEV2",
		},
		"postmortem_hostile": {
			Incident:  hostile,
			LevelName: "SEV2",
			Timeline: []klaxon.TimelineEntry{
				{IncidentID: 9, At: at(10, 1), Actor: "mal|lory", Kind: klaxon.TimelineNote, Text: "a | b\n# heading\r\n<script>x</script>"},
				{IncidentID: 9, At: at(10, 2), Actor: "", Kind: "weird_<kind>", Text: "\\| escaped"},
			},
			Actions: []klaxon.ActionItem{
				{ID: 1, IncidentID: 9, Text: "x](javascript:alert(1)) | <i>\nsecond line", Owner: "\n"},
			},
			Author:  "<svg onload=alert(1)>",
			BaseURL: "https://klaxon.example.com",
		},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got := incident.RenderPostmortem(in)
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
			s := string(got)
			if !strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\n\n") {
				t.Error("does not end with exactly one newline")
			}
			for _, bad := range []string{"<nil>", "<script", "<img", "<b>", "<i>", "<svg", "\n# h", "\n- [x] fake"} {
				if strings.Contains(s, bad) {
					t.Errorf("contains %q", bad)
				}
			}
		})
	}
}

func TestClosureGolden(t *testing.T) {
	sev3 := &klaxon.Incident{
		ID:         10,
		Title:      "INCIDENT: search - slow suggestions",
		Service:    "search",
		Summary:    "slow suggestions",
		Level:      3,
		Status:     klaxon.IncidentResolved,
		DetectedAt: at(14, 32),
		DeclaredAt: at(14, 35),
		ResolvedAt: at(15, 14),
		RootCause:  "A cold cache after the nightly reindex.",
		Fix:        "Warmed the cache.",
		Impact:     "Suggestions took up to 3s\nfor some users.",
	}
	tests := map[string]struct {
		inc   *klaxon.Incident
		level string
	}{
		"closure_sev1": {sev1(), "SEV1"},
		"closure_sev3": {sev3, "SEV3"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := incident.ClosureText(tt.inc, tt.level)
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), []byte(got+"\n"), *update)
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-5 * time.Second, "0s"},
		{0, "0s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 900*time.Millisecond, "59s"},
		{time.Minute, "1m"},
		{42*time.Minute + 30*time.Second, "42m"},
		{59*time.Minute + 59*time.Second, "59m"},
		{time.Hour, "1h"},
		{72 * time.Minute, "1h 12m"},
		{23*time.Hour + 59*time.Minute, "23h 59m"},
		{24 * time.Hour, "1d"},
		{24*time.Hour + 30*time.Minute, "1d"},
		{51 * time.Hour, "2d 3h"},
		{50*time.Hour + 59*time.Minute, "2d 2h"},
	} {
		if got := incident.FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
