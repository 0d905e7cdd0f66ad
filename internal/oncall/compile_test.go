package oncall_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

const onCallYAML = `
channels:
  - name: ops-room
    type: webhook
  - name: pager
    type: pagerduty
users:
  - name: alice
    matrix: "@alice:example.org"
    email: Alice@Example.org
    time_zone: Europe/Berlin
  - name: bob
    slack: U0123BOB
schedules:
  - name: ops
    time_zone: Europe/Berlin
    handoff_notice: ops-room
    rotations:
      - name: primary
        participants: [alice, bob]
        shift: weekly
        start: 2026-01-05
      - participants: [bob]
        shift: 12h
        handoff: "08:30"
        start: 2026-01-05
        time_zone: America/New_York
        hours:
          - days: mon-fri
            from: "09:00"
            to: "17:00"
          - days: sat
            from: "08:00"
            to: "02:00"
    overrides:
      - user: bob
        replaces: alice
        start: 2026-12-24T09:00:00+01:00
        end: 2026-12-26T09:00:00+01:00
  - name: web
    rotations:
      - participants: [alice]
        shift: daily
        start: 2026-01-01
escalation_policies:
  - name: default
    repeat: 1
    steps:
      - targets: [{schedule: ops}]
      - after: 30m
        targets: [{user: bob}, {channel: pager}]
business_hours:
  time_zone: Europe/Berlin
  days: mon-thu
  start: "08:00"
severity:
  ack_deadlines:
    P1: 30m
`

func TestCompile(t *testing.T) {
	cfg, err := config.Parse("test.yaml", []byte(onCallYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	dir, err := oncall.Compile(cfg, config.DefaultLevelNames)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	berlin, ny := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York")

	alice := dir.Users["alice"]
	if alice.Matrix != "@alice:example.org" || alice.TimeZone.String() != "Europe/Berlin" || dir.Users["bob"].TimeZone != time.UTC {
		t.Errorf("users: got %+v", dir.Users)
	}

	ops := dir.Schedules["ops"]
	if ops.Location.String() != "Europe/Berlin" || ops.Handoff != "ops-room" || len(ops.Rotations) != 2 {
		t.Fatalf("ops: got %+v", ops)
	}
	primary, second := ops.Rotations[0], ops.Rotations[1]
	if primary.Name != "primary" || primary.Length != 7*24*time.Hour || !primary.Start.Equal(tm(t, berlin, "2026-01-05 09:00")) ||
		primary.Location.String() != "Europe/Berlin" || len(primary.Hours) != 0 {
		t.Errorf("primary: got %+v", primary)
	}
	if second.Name != "rotation-2" || second.Length != 12*time.Hour || !second.Start.Equal(tm(t, ny, "2026-01-05 08:30")) ||
		second.Location.String() != "America/New_York" {
		t.Errorf("second rotation: got %+v", second)
	}
	var weekdays, saturday [7]bool
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays[d] = true
	}
	saturday[time.Saturday] = true
	wantHours := []oncall.Window{{Days: weekdays, Start: 9 * hour, End: 17 * hour}, {Days: saturday, Start: 8 * hour, End: 2 * hour}}
	if !reflect.DeepEqual(second.Hours, wantHours) {
		t.Errorf("hours: got %+v, want %+v", second.Hours, wantHours)
	}
	wantOverride := klaxon.Override{Schedule: "ops", User: "bob", Replaces: "alice",
		Start: tm(t, berlin, "2026-12-24 09:00"), End: tm(t, berlin, "2026-12-26 09:00")}
	if len(ops.Overrides) != 1 || !sameOverride(ops.Overrides[0], wantOverride) {
		t.Errorf("overrides: got %+v, want %+v", ops.Overrides, wantOverride)
	}
	if web := dir.Schedules["web"]; web.Location != time.UTC || web.Rotations[0].Location != time.UTC ||
		!web.Rotations[0].Start.Equal(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("web: got %+v", web)
	}

	// The compiled schedule computes: Saturday in New York is bob's.
	sh, ok := ops.At(tm(t, ny, "2026-11-21 12:00"), nil)
	if !ok || sh.User != "bob" || sh.Rotation != "rotation-2" {
		t.Errorf("At Saturday: got %+v, %v; want bob of rotation-2", sh, ok)
	}

	pol := dir.Policies["default"]
	if pol == nil || pol.Repeat != 1 || len(pol.Steps) != 2 || pol.Steps[0].After != nil || *pol.Steps[1].After != 30*time.Minute {
		t.Fatalf("policy: got %+v", pol)
	}
	wantTargets := []oncall.Target{{User: "bob"}, {Channel: "pager"}}
	if !reflect.DeepEqual(pol.Steps[1].Targets, wantTargets) || pol.Steps[0].Targets[0].Schedule != "ops" {
		t.Errorf("targets: got %+v, %+v", pol.Steps[0].Targets, pol.Steps[1].Targets)
	}

	wantDeadlines := []oncall.Deadline{{After: 15 * time.Minute}, {After: 30 * time.Minute}, {NextBusinessDay: true}, {None: true}}
	if !reflect.DeepEqual(dir.Deadlines, wantDeadlines) {
		t.Errorf("deadlines: got %+v, want %+v", dir.Deadlines, wantDeadlines)
	}
	b := dir.Business
	if b.Location.String() != "Europe/Berlin" || b.Start != 8*hour || b.Days[time.Friday] || !b.Days[time.Monday] || !b.Days[time.Thursday] {
		t.Errorf("business hours: got %+v", b)
	}
}

func sameOverride(a, b klaxon.Override) bool {
	return a.Schedule == b.Schedule && a.User == b.User && a.Replaces == b.Replaces && a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.ID == 0
}

func TestCompileDefaults(t *testing.T) {
	dir, err := oncall.Compile(&config.Config{}, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	want := oncall.BusinessHours{Location: time.UTC, Start: 9 * hour}
	for d := time.Monday; d <= time.Friday; d++ {
		want.Days[d] = true
	}
	if !reflect.DeepEqual(dir.Business, want) {
		t.Errorf("business hours: got %+v, want %+v", dir.Business, want)
	}
	if len(dir.Deadlines) != 4 || len(dir.Users) != 0 || dir.Schedules == nil || dir.Policies == nil {
		t.Errorf("directory: got %+v", dir)
	}
}

func TestCompileDeadlines(t *testing.T) {
	tests := []struct {
		name       string
		levels     []string
		configured map[string]string
		want       []oncall.Deadline
	}{{
		name:   "names unknown to the defaults: by position",
		levels: []string{"SEV1", "SEV2", "SEV3", "SEV4", "SEV5"},
		want: []oncall.Deadline{
			{After: 15 * time.Minute}, {After: time.Hour}, {NextBusinessDay: true}, {None: true}, {None: true},
		},
	}, {
		name:       "configured ones first",
		levels:     []string{"SEV1", "SEV2", "SEV3"},
		configured: map[string]string{"SEV1": "5m", "SEV3": "none"},
		want:       []oncall.Deadline{{After: 5 * time.Minute}, {After: time.Hour}, {None: true}},
	}, {
		name:       "default names keep their defaults wherever they are",
		levels:     []string{"P2", "P0"},
		configured: map[string]string{"P0": "next_business_day"},
		want:       []oncall.Deadline{{NextBusinessDay: true}, {NextBusinessDay: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := oncall.Compile(&config.Config{Severity: config.Severity{AckDeadlines: tt.configured}}, tt.levels)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if !reflect.DeepEqual(dir.Deadlines, tt.want) {
				t.Errorf("got %+v, want %+v", dir.Deadlines, tt.want)
			}
		})
	}
}

// Compile trusts no one: bad values are errors naming their key, never
// panics.
func TestCompileErrors(t *testing.T) {
	after := -time.Minute
	cfg := &config.Config{
		Users: []config.User{{Name: "alice", TimeZone: "Mars/Olympus"}, {Name: "alice"}},
		Schedules: []config.Schedule{{
			Name:     "ops",
			TimeZone: "Nowhere",
			Rotations: []config.Rotation{
				{Participants: []string{"alice", "zed"}, Shift: "fortnightly", Start: "2026-01-05"},
				{Participants: []string{"alice"}, Shift: "daily", Handoff: "9am", Start: "5 January"},
				{Shift: "daily", Start: "2026-01-05", Hours: []config.Hours{{Days: []string{"someday"}, From: "25:00"}}},
			},
			Overrides: []config.Override{{User: "yan", Replaces: "xi", Start: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		}},
		EscalationPolicies: []config.EscalationPolicy{{Name: "p", Repeat: -1, Steps: []config.EscalationStep{
			{After: &after, Targets: []config.Target{{Schedule: "nope"}, {}}},
			{},
		}}},
		BusinessHours: config.BusinessHours{TimeZone: "Atlantis", Days: []string{"moonday"}, Start: "noon"},
		Severity:      config.Severity{AckDeadlines: map[string]string{"P0": "soon", "P9": "1h"}},
	}
	_, err := oncall.Compile(cfg, nil)
	if err == nil {
		t.Fatal("Compile: got no error")
	}
	for _, want := range []string{
		`users[0].time_zone: "Mars/Olympus" is not a time zone`,
		`users[1].name: "alice" is used twice`,
		`schedules[0].time_zone: "Nowhere"`,
		`schedules[0].rotations[0].participants[1]: no user "zed"`,
		`schedules[0].rotations[0].shift: "fortnightly"`,
		`schedules[0].rotations[1].handoff: "9am"`,
		`schedules[0].rotations[1].start: "5 January"`,
		`schedules[0].rotations[2].participants: missing`,
		`schedules[0].rotations[2].hours[0].days: "someday"`,
		`schedules[0].rotations[2].hours[0].from: "25:00"`,
		`schedules[0].overrides[0].user: no user "yan"`,
		`schedules[0].overrides[0].replaces: no user "xi"`,
		`schedules[0].overrides[0].end: the override ends`,
		`escalation_policies[0].repeat: must not be negative`,
		`escalation_policies[0].steps[0].after: must not be negative`,
		`escalation_policies[0].steps[0].targets[0].schedule: no schedule "nope"`,
		`escalation_policies[0].steps[0].targets[1]: want a schedule, a user or a channel`,
		`escalation_policies[0].steps[1].targets: missing`,
		`business_hours.time_zone: "Atlantis"`,
		`business_hours.days: "moonday"`,
		`business_hours.start: "noon"`,
		`severity.ack_deadlines.P0: "soon"`,
		`severity.ack_deadlines.P9: "P9" is not a severity level (levels: P0, P1, P2, P3)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q; got\n%v", want, err)
		}
	}
}
