package config_test

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/config"
)

func TestIncidentDefaults(t *testing.T) {
	cfg := mustParse(t, "channels:\n  - {name: ops, type: slack}\nstatus_page:\n  components:\n    - name: api\n", nil)
	in := cfg.Incidents
	if !slices.Equal(in.Names, []string{"SEV1", "SEV2", "SEV3", "SEV4"}) {
		t.Errorf("names %v", in.Names)
	}
	if in.UpdateEvery["SEV1"] != 2*time.Minute || in.UpdateEvery["SEV2"] != 5*time.Minute || in.UpdateEvery["SEV3"] != 0 {
		t.Errorf("update_every %v", in.UpdateEvery)
	}
	if in.PostmortemDue["SEV1"] != 24*time.Hour || in.PostmortemDue["SEV2"] != 48*time.Hour || in.DiagnosisTimeout != 5*time.Minute {
		t.Errorf("postmortem_due %v, diagnosis_timeout %v", in.PostmortemDue, in.DiagnosisTimeout)
	}
	if !slices.Equal(in.Checklist(0), config.DefaultChecklist) {
		t.Errorf("checklist %v", in.Checklist(0))
	}
	if got := cfg.StatusPage.Components[0].Services; !slices.Equal(got, config.StringList{"api"}) {
		t.Errorf("a component's services default to its name: %v", got)
	}
	for _, name := range []string{"sev1", "P0", "SEV1"} {
		if l, ok := cfg.IncidentLevel(name); !ok || l != 0 {
			t.Errorf("IncidentLevel(%q) = %d, %v", name, l, ok)
		}
	}
}

func TestIncidentProblems(t *testing.T) {
	yaml := lines(
		"channels:",                         // 1
		"  - {name: ops, type: slack}",      // 2
		"  - {name: hook, type: webhook}",   // 3
		"incidents:",                        // 4
		"  names: [SEV1, SEV2]",             // 5
		"  announce: [ops, chat]",           // 6
		"  rooms: hook",                     // 7
		"  update_every: {SEV9: 1m}",        // 8
		"  escalation: seniors",             // 9
		"  checklists:",                     // 10
		"    SEV1: []",                      // 11
		"status_page:",                      // 12
		"  components:",                     // 13
		"    - name: api",                   // 14
		"    - name: api",                   // 15
		"  maintenance:",                    // 16
		"    - title: Database upgrade",     // 17
		"      components: [db]",            // 18
		"      start: 2026-12-01T10:00:00Z", // 19
		"      end: 2026-12-01T09:00:00Z",   // 20
	)
	e := parseErr(t, yaml, nil)
	want := []config.Problem{
		{Key: "incidents.names", Line: 5, Message: "2 name(s) for 4 severity level(s): name each level, most severe first"},
		{Key: "incidents.announce[1]", Line: 6, Message: `no channel "chat" (channels: ops, hook)`},
		{Key: "incidents.rooms", Line: 7, Message: `channel "hook" is a webhook channel, which cannot open rooms: use a slack, matrix or googlechat channel`},
		{Key: "incidents.update_every.SEV9", Line: 8, Message: `no severity level "SEV9" (levels: SEV1, SEV2)`},
		{Key: "incidents.checklists.SEV1", Line: 11, Message: "empty: list the items, or leave the level out"},
		{Key: "incidents.escalation", Line: 9, Message: `no escalation policy "seniors" (escalation_policies: none configured)`},
		{Key: "status_page.components[1].name", Line: 15, Message: `"api" is already a component`},
		{Key: "status_page.maintenance[0].end", Line: 20, Message: "2026-12-01T09:00:00Z is not after start 2026-12-01T10:00:00Z"},
		{Key: "status_page.maintenance[0].components[0]", Line: 18, Message: `no component "db" (components: api)`},
	}
	if !slices.Equal(e.Problems, want) {
		t.Errorf("Problems:\ngot  %+v\nwant %+v", e.Problems, want)
	}
}
