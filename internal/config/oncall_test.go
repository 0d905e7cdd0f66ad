package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

const calendarSecret = "cal-5ecret-0123456789abcdef"

// oncallExample uses every on-call key.
const oncallExample = `users:
  - name: alice
    matrix: "@alice:example.org"
    slack: U0123ALICE
    email: alice@example.org
    time_zone: Europe/Berlin
  - name: bob
    slack: W0456BOB
    google_chat: users/123456789
    time_zone: America/New_York
  - name: carol
    email: Carol@Example.org
channels:
  - name: ops
    type: slack
  - name: pager
    type: pagerduty
routes:
  receiver: ops
  escalation: default
  routes:
    - matchers: ['team="db"']
      receiver: ops
      escalation: night
schedules:
  - name: primary
    time_zone: Europe/Berlin
    handoff_notice: ops
    rotations:
      - name: weekly
        participants: [alice, bob, carol]
        shift: weekly
        handoff: "09:00"
        start: 2026-01-05
      - name: office-hours
        participants: [carol]
        shift: 12h
        start: 2026-01-05
        time_zone: America/New_York
        hours:
          - days: mon-fri
            from: "09:00"
            to: "17:00"
          - days: [sat, sun]
            from: "22:00"
            to: "06:00"
    overrides:
      - user: carol
        replaces: alice
        start: 2026-12-24T09:00:00+01:00
        end: 2026-12-27T09:00:00+01:00
  - name: secondary
    rotations:
      - participants: [bob, alice]
        shift: daily
        start: 2026-01-05
escalation_policies:
  - name: default
    repeat: 2
    steps:
      - targets:
          - schedule: primary
      - targets:
          - schedule: secondary
            channel: ops
          - user: alice
      - after: 30m
        targets:
          - channel: pager
  - name: night
    steps:
      - targets:
          - channel: pager
severity:
  ack_deadlines:
    P0: 15m
    P1: 1h
    P2: next_business_day
    P3: none
business_hours:
  time_zone: Europe/Berlin
  days: mon-fri
  start: "08:30"
calendar:
  secret: ${KLAXON_CALENDAR_SECRET}
`

func TestParseOncall(t *testing.T) {
	cfg := mustParse(t, oncallExample, map[string]string{"KLAXON_CALENDAR_SECRET": calendarSecret})
	if got := len(cfg.Users); got != 3 {
		t.Errorf("Users: got %d, want 3", got)
	}
	primary := cfg.Schedules[0]
	if got := primary.Rotations[1].Handoff; got != config.DefaultHandoff {
		t.Errorf("Rotations[1].Handoff: got %q, want the default %q", got, config.DefaultHandoff)
	}
	if got, want := primary.Rotations[1].Hours[1].Days, (config.StringList{"sat", "sun"}); !slices.Equal(got, want) {
		t.Errorf("Hours[1].Days: got %q, want %q", got, want)
	}
	wantStart := time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC)
	if o := primary.Overrides[0]; !o.Start.Equal(wantStart) || o.End.Sub(o.Start) != 72*time.Hour {
		t.Errorf("Overrides[0]: got %v to %v, want %v for 72h", o.Start, o.End, wantStart)
	}
	steps := cfg.EscalationPolicies[0].Steps
	if steps[0].After != nil || steps[2].After == nil || *steps[2].After != 30*time.Minute {
		t.Errorf("Steps' After: got %v, %v, want nil then 30m on the third", steps[0].After, steps[2].After)
	}
	if cfg.Routes.Escalation != "default" || cfg.Routes.Routes[0].Escalation != "night" {
		t.Errorf("Routes' Escalation: got %q and %q, want default and night", cfg.Routes.Escalation, cfg.Routes.Routes[0].Escalation)
	}
	if cfg.Severity.AckDeadlines["P2"] != config.DeadlineNextBusinessDay {
		t.Errorf("AckDeadlines: got %v", cfg.Severity.AckDeadlines)
	}
	if !slices.Contains(cfg.Secrets(), calendarSecret) {
		t.Errorf("Secrets(): got %q, want the calendar secret among them", cfg.Secrets())
	}
	if s := cfg.String(); strings.Contains(s, calendarSecret) {
		t.Errorf("String: shows the calendar secret:\n%s", s)
	}
}

// oncallPrefix is lines 1–10 of every TestValidateOncall case that needs
// users and channels; the case's own lines start at 11.
const oncallPrefix = `users:
  - name: alice
    slack: U0123ALICE
  - name: bob
    matrix: "@bob:example.org"
channels:
  - name: ops
    type: slack
  - name: pager
    type: pagerduty
`

// lines joins YAML lines, so a case's line numbers can be counted.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// schedule is a valid schedule at lines 11–16 with extra lines after.
func schedule(extra ...string) string {
	return oncallPrefix + lines(append([]string{
		"schedules:",                         // 11
		"  - name: primary",                  // 12
		"    rotations:",                     // 13
		"      - participants: [alice, bob]", // 14
		"        shift: weekly",              // 15
		"        start: 2026-01-05",          // 16
	}, extra...)...)
}

// policy is a schedule (lines 11–16) and a policy at lines 17–18 whose
// steps follow from line 19.
func policy(steps ...string) string {
	return schedule(append([]string{
		"escalation_policies:", // 17
		"  - name: default",    // 18
	}, steps...)...)
}

// TestValidateOncall covers each on-call rule: want is one whole line of
// the error, naming the key and the line.
func TestValidateOncall(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		// Users.
		{"user name missing", lines("users:", "  - slack: U0123ALICE"),
			`test.yaml:2: users[0].name: missing`},
		{"user name with a space", lines("users:", "  - name: alice smith"),
			`test.yaml:2: users[0].name: "alice smith": use letters, digits, '.', '_' and '-'`},
		{"user name twice", lines("users:", "  - name: alice", "  - name: alice"),
			`test.yaml:3: users[1].name: "alice" is used twice`},
		{"user time zone", lines("users:", "  - name: alice", "    time_zone: Europe/Berlim"),
			`test.yaml:3: users[0].time_zone: "Europe/Berlim" is not a time zone (want an IANA name such as Europe/Berlin)`},
		{"user time zone Local", lines("users:", "  - name: alice", "    time_zone: Local"),
			`test.yaml:3: users[0].time_zone: "Local" is not a time zone (want an IANA name such as Europe/Berlin)`},
		{"matrix ID without server", lines("users:", "  - name: alice", "    matrix: '@alice'"),
			`test.yaml:3: users[0].matrix: "@alice": want a Matrix user ID, @localpart:server (@alice:example.org)`},
		{"matrix ID without @", lines("users:", "  - name: alice", "    matrix: alice:example.org"),
			`test.yaml:3: users[0].matrix: "alice:example.org": want a Matrix user ID, @localpart:server (@alice:example.org)`},
		{"slack ID in lower case", lines("users:", "  - name: alice", "    slack: u0123alice"),
			`test.yaml:3: users[0].slack: "u0123alice": want a Slack member ID: U or W, then upper-case letters and digits (U0123ALICE)`},
		{"slack handle instead of ID", lines("users:", "  - name: alice", "    slack: '@alice'"),
			`test.yaml:3: users[0].slack: "@alice": want a Slack member ID: U or W, then upper-case letters and digits (U0123ALICE)`},
		{"slack channel ID", lines("users:", "  - name: alice", "    slack: C0123ALERTS"),
			`test.yaml:3: users[0].slack: "C0123ALERTS": want a Slack member ID: U or W, then upper-case letters and digits (U0123ALICE)`},
		{"google chat ID without users/", lines("users:", "  - name: alice", "    google_chat: 123456789"),
			`test.yaml:3: users[0].google_chat: "123456789": want a Google Chat user, users/ID (users/123456789)`},
		{"email with two @", lines("users:", "  - name: alice", "    email: alice@corp@example.org"),
			`test.yaml:3: users[0].email: "alice@corp@example.org": want an email address with one @ (alice@example.org)`},
		{"email without @", lines("users:", "  - name: alice", "    email: alice.example.org"),
			`test.yaml:3: users[0].email: "alice.example.org": want an email address with one @ (alice@example.org)`},
		{"slack ID of two users", lines("users:", "  - name: alice", "    slack: U0123ALICE", "  - name: bob", "    slack: U0123ALICE"),
			`test.yaml:5: users[1].slack: "U0123ALICE" is already alice's: an ack from chat must map to one person`},
		{"matrix ID of two users", lines("users:", "  - name: alice", "    matrix: '@ops:example.org'", "  - name: bob", "    slack: U0456BOB", "    matrix: '@ops:example.org'"),
			`test.yaml:6: users[1].matrix: "@ops:example.org" is already alice's: an ack from chat must map to one person`},
		{"email of two users, in another case", lines("users:", "  - name: alice", "    email: ops@example.org", "  - name: bob", "    email: OPS@example.org"),
			`test.yaml:5: users[1].email: "OPS@example.org" is already alice's: an ack from chat must map to one person`},

		// Schedules.
		{"schedule name twice", schedule("  - name: primary", "    rotations:", "      - participants: [bob]", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:17: schedules[1].name: "primary" is used twice`},
		{"schedule name missing", oncallPrefix + lines("schedules:", "  - rotations:", "      - participants: [bob]", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:12: schedules[0].name: missing`},
		{"schedule time zone", schedule("    time_zone: CEST"),
			`test.yaml:17: schedules[0].time_zone: "CEST" is not a time zone (want an IANA name such as Europe/Berlin)`},
		{"handoff notice to an unknown channel", schedule("    handoff_notice: opz"),
			`test.yaml:17: schedules[0].handoff_notice: no channel "opz" (channels: ops, pager)`},
		{"handoff notice to pagerduty", schedule("    handoff_notice: pager"),
			`test.yaml:17: schedules[0].handoff_notice: "pager" is a pagerduty channel; hand-off notices are chat posts: name a chat channel`},
		{"schedule without rotations", oncallPrefix + lines("schedules:", "  - name: primary", "    time_zone: UTC"),
			`test.yaml:12: schedules[0].rotations: a schedule needs at least one rotation`},
		{"schedule with an empty list of rotations", oncallPrefix + lines("schedules:", "  - name: primary", "    rotations: []"),
			`test.yaml:13: schedules[0].rotations: a schedule needs at least one rotation`},
		{"rotation with no participants", oncallPrefix + lines("schedules:", "  - name: primary", "    rotations:", "      - shift: weekly", "        start: 2026-01-05"),
			`test.yaml:14: schedules[0].rotations[0].participants: a rotation with no participants: list the users who take turns`},
		{"rotation with an empty list of participants", oncallPrefix + lines("schedules:", "  - name: primary", "    rotations:", "      - shift: weekly", "        start: 2026-01-05", "        participants: []"),
			`test.yaml:16: schedules[0].rotations[0].participants: a rotation with no participants: list the users who take turns`},
		{"unknown participant", schedule("      - participants:", "          - alice", "          - bob", "          - carol", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:20: schedules[0].rotations[1].participants[2]: no user "carol" (users: alice, bob)`},
		{"empty participant", schedule("      - participants: [alice, '']", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:17: schedules[0].rotations[1].participants[1]: missing: name one of the users (alice, bob)`},
		{"participant with no users at all", lines("schedules:", "  - name: primary", "    rotations:", "      - participants: [alice]", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:4: schedules[0].rotations[0].participants[0]: no user "alice" (users: none configured)`},
		{"shift missing", schedule("      - participants: [bob]", "        start: 2026-01-05"),
			`test.yaml:17: schedules[0].rotations[1].shift: missing: want daily, weekly or a duration (12h, 72h)`},
		{"zero shift", schedule("      - participants: [bob]", "        shift: 0s", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].shift: "0s": a shift must be longer than zero (daily, weekly, 12h…)`},
		{"zero shift as a number", schedule("      - participants: [bob]", "        shift: 0", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].shift: "0": a shift must be longer than zero (daily, weekly, 12h…)`},
		{"negative shift", schedule("      - participants: [bob]", "        shift: -24h", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].shift: "-24h": a shift must be longer than zero (daily, weekly, 12h…)`},
		{"shift in seconds", schedule("      - participants: [bob]", "        shift: 90s", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].shift: "90s": want a whole number of minutes, at least 1m (12h, 72h)`},
		{"shift as a word", schedule("      - participants: [bob]", "        shift: fortnightly", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].shift: "fortnightly": want daily, weekly or a duration (12h, 72h)`},
		{"handoff not a time", schedule("        handoff: 9am"),
			`test.yaml:17: schedules[0].rotations[0].handoff: "9am": want a time of day, HH:MM (09:00)`},
		{"handoff at 24:00", schedule("        handoff: '24:00'"),
			`test.yaml:17: schedules[0].rotations[0].handoff: "24:00": want a time of day, HH:MM (09:00)`},
		{"handoff with a sign", schedule("        handoff: '+9:00'"),
			`test.yaml:17: schedules[0].rotations[0].handoff: "+9:00": want a time of day, HH:MM (09:00)`},
		{"start missing", schedule("      - participants: [bob]", "        shift: daily"),
			`test.yaml:17: schedules[0].rotations[1].start: missing: want the date of the first hand-off, YYYY-MM-DD`},
		{"start not a date", schedule("      - participants: [bob]", "        shift: daily", "        start: 2026-13-01"),
			`test.yaml:19: schedules[0].rotations[1].start: "2026-13-01": want a date, YYYY-MM-DD`},
		{"rotation time zone", schedule("        time_zone: Berlin"),
			`test.yaml:17: schedules[0].rotations[0].time_zone: "Berlin" is not a time zone (want an IANA name such as Europe/Berlin)`},
		{"rotation name twice", schedule("        name: week", "      - name: week", "        participants: [bob]", "        shift: daily", "        start: 2026-01-05"),
			`test.yaml:18: schedules[0].rotations[1].name: "week" is used twice`},
		{"hours from equals to", schedule("        hours:", "          - from: '09:00'", "            to: '09:00'"),
			`test.yaml:19: schedules[0].rotations[0].hours[0].to: "09:00" is also from: the window would be empty (a to before from runs past midnight)`},
		{"hours from not a time", schedule("        hours:", "          - from: '25:00'", "            to: '17:00'"),
			`test.yaml:18: schedules[0].rotations[0].hours[0].from: "25:00": want a time of day, HH:MM (09:00)`},
		{"hours to missing", schedule("        hours:", "          - from: '09:00'"),
			`test.yaml:18: schedules[0].rotations[0].hours[0].to: missing: want a time of day, HH:MM (09:00)`},
		{"hours days misspelt", schedule("        hours:", "          - from: '09:00'", "            to: '17:00'", "            days: mon-fry"),
			`test.yaml:20: schedules[0].rotations[0].hours[0].days: "mon-fry": want days as mon, tue, wed, thu, fri, sat, sun or a range (mon-fri)`},
		{"hours days in a list", schedule("        hours:", "          - from: '09:00'", "            to: '17:00'", "            days:", "              - mon", "              - Tues"),
			`test.yaml:22: schedules[0].rotations[0].hours[0].days[1]: "tues": want days as mon, tue, wed, thu, fri, sat, sun or a range (mon-fri)`},

		// Overrides.
		{"override by an unknown user", schedule("    overrides:", "      - user: carol", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:18: schedules[0].overrides[0].user: no user "carol" (users: alice, bob)`},
		{"override user missing", schedule("    overrides:", "      - start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:18: schedules[0].overrides[0].user: missing: name one of the users (alice, bob)`},
		{"override replaces an unknown user", schedule("    overrides:", "      - user: bob", "        replaces: alicia", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:19: schedules[0].overrides[0].replaces: no user "alicia" (users: alice, bob)`},
		{"override replaces its own user", schedule("    overrides:", "      - user: bob", "        replaces: bob", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:19: schedules[0].overrides[0].replaces: "bob" would replace themselves`},
		{"override start missing", schedule("    overrides:", "      - user: bob", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:18: schedules[0].overrides[0].start: missing: want a time with its offset, 2026-12-24T09:00:00+01:00`},
		{"override end missing", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24T09:00:00+01:00"),
			`test.yaml:18: schedules[0].overrides[0].end: missing: want a time with its offset, 2026-12-24T09:00:00+01:00`},
		{"override ends before it starts", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-24T08:00:00+01:00"),
			`test.yaml:20: schedules[0].overrides[0].end: 2026-12-24T08:00:00+01:00: the override ends before it starts (2026-12-24T09:00:00+01:00)`},
		{"override ends as it starts", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-24T08:00:00Z"),
			`test.yaml:20: schedules[0].overrides[0].end: 2026-12-24T08:00:00Z: the override ends as it starts (2026-12-24T09:00:00+01:00): it would cover nothing`},
		{"override time without offset", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24 09:00:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:19: schedules[0].overrides[0].start: "2026-12-24 09:00:00": want a time with its offset, 2026-12-24T09:00:00+01:00`},
		{"override date only", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24T09:00:00+01:00", "        end: 2026-12-25"),
			`test.yaml:20: schedules[0].overrides[0].end: "2026-12-25": want a time with its offset, 2026-12-24T09:00:00+01:00`},
		{"override time without seconds", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24 09:00", "        end: 2026-12-25T09:00:00+01:00"),
			`test.yaml:19: schedules[0].overrides[0].start: "2026-12-24 09:00": want a time with its offset, 2026-12-24T09:00:00+01:00`},

		// Escalation policies.
		{"policy name twice", policy("    steps:", "      - targets: [{user: bob}]", "  - name: default", "    steps:", "      - targets: [{user: bob}]"),
			`test.yaml:21: escalation_policies[1].name: "default" is used twice`},
		{"policy without steps", policy("    repeat: 1"),
			`test.yaml:18: escalation_policies[0].steps: a policy needs at least one step`},
		{"repeat too many times", policy("    repeat: 11", "    steps:", "      - targets: [{user: bob}]"),
			`test.yaml:19: escalation_policies[0].repeat: must be between 0 and 10 (got 11)`},
		{"repeat negative", policy("    repeat: -1", "    steps:", "      - targets: [{user: bob}]"),
			`test.yaml:19: escalation_policies[0].repeat: must be between 0 and 10 (got -1)`},
		{"step without targets", policy("    steps:", "      - targets: [{user: bob}]", "      - after: 5m"),
			`test.yaml:21: escalation_policies[0].steps[1].targets: a step needs at least one target: a schedule, user or channel`},
		{"target pointing nowhere", policy("    steps:", "      - targets:", "          - user: bob", "          - {}"),
			`test.yaml:22: escalation_policies[0].steps[0].targets[1]: a target needs a schedule, a user or a channel`},
		{"target with schedule and user", policy("    steps:", "      - targets:", "          - schedule: primary", "            user: bob"),
			`test.yaml:22: escalation_policies[0].steps[0].targets[0].user: a target calls a schedule's on-call or a user, not both (schedule "primary"): make two targets`},
		{"unknown schedule", policy("    steps:", "      - targets: [{user: bob}]", "      - targets:", "          - schedule: primray"),
			`test.yaml:22: escalation_policies[0].steps[1].targets[0].schedule: no schedule "primray" (schedules: primary)`},
		{"unknown user", policy("    steps:", "      - targets:", "          - user: carol"),
			`test.yaml:21: escalation_policies[0].steps[0].targets[0].user: no user "carol" (users: alice, bob)`},
		{"unknown channel", policy("    steps:", "      - targets:", "          - channel: pagerduty"),
			`test.yaml:21: escalation_policies[0].steps[0].targets[0].channel: no channel "pagerduty" (channels: ops, pager)`},
		{"after negative", policy("    steps:", "      - targets: [{user: bob}]", "      - after: -5m", "        targets: [{user: alice}]"),
			`test.yaml:21: escalation_policies[0].steps[1].after: must not be negative (got -5m0s)`},
		{"pagerduty channel mentioning a schedule", policy("    steps:", "      - targets:", "          - schedule: primary", "            channel: pager"),
			`test.yaml:22: escalation_policies[0].steps[0].targets[0].channel: "pager" is a pagerduty channel, which pages a service and mentions no one: give it in a target of its own`},
		{"pagerduty channel mentioning a user", policy("    steps:", "      - targets:", "          - user: alice", "            channel: pager"),
			`test.yaml:22: escalation_policies[0].steps[0].targets[0].channel: "pager" is a pagerduty channel, which pages a service and mentions no one: give it in a target of its own`},
		{"route escalation unknown", policy("    steps:", "      - targets: [{user: bob}]", "routes:", "  receiver: ops", "  escalation: defualt"),
			`test.yaml:23: routes.escalation: no escalation policy "defualt" (policies: default)`},
		{"child route escalation unknown", policy("    steps:", "      - targets: [{user: bob}]", "routes:", "  receiver: ops", "  routes:", "    - receiver: pager", "      escalation: night"),
			`test.yaml:25: routes.routes[0].escalation: no escalation policy "night" (policies: default)`},
		{"route escalation with no policies", lines("channels:", "  - name: ops", "    type: slack", "routes:", "  receiver: ops", "  escalation: default"),
			`test.yaml:6: routes.escalation: no escalation policy "default" (policies: none configured)`},

		// Ack deadlines, business hours, calendar.
		{"ack deadline for an unknown level", lines("severity:", "  ack_deadlines:", "    P0: 15m", "    P4: 1h"),
			`test.yaml:4: severity.ack_deadlines.P4: "P4" is not a level (levels: P0, P1, P2, P3)`},
		{"ack deadline for a default level with levels of its own", lines("severity:", "  levels:", "    - name: SEV1", "      values: [critical]", "  ack_deadlines:", "    P0: 15m"),
			`test.yaml:6: severity.ack_deadlines.P0: "P0" is not a level (levels: SEV1)`},
		{"ack deadline not a duration", lines("severity:", "  ack_deadlines:", "    P1: soon"),
			`test.yaml:3: severity.ack_deadlines.P1: "soon": want a positive duration (15m), next_business_day or none`},
		{"ack deadline zero", lines("severity:", "  ack_deadlines:", "    P1: 0s"),
			`test.yaml:3: severity.ack_deadlines.P1: "0s": want a positive duration (15m), next_business_day or none`},
		{"ack deadline empty", lines("severity:", "  ack_deadlines:", "    P3:"),
			`test.yaml:3: severity.ack_deadlines.P3: "": want a positive duration (15m), next_business_day or none`},
		{"business hours time zone", lines("business_hours:", "  time_zone: Europe/Paris/Left"),
			`test.yaml:2: business_hours.time_zone: "Europe/Paris/Left" is not a time zone (want an IANA name such as Europe/Berlin)`},
		{"business hours days", lines("business_hours:", "  days: weekdays"),
			`test.yaml:2: business_hours.days: "weekdays": want days as mon, tue, wed, thu, fri, sat, sun or a range (mon-fri)`},
		{"business hours start", lines("business_hours:", "  start: '9'"),
			`test.yaml:2: business_hours.start: "9": want a time of day, HH:MM (09:00)`},
		{"calendar secret too short", lines("calendar:", "  secret: hunter2"),
			"test.yaml:2: calendar.secret: too short (7 characters; use at least 16, e.g. `openssl rand -hex 16`)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("test.yaml", []byte(tt.yaml), env(nil, nil))
			if err == nil {
				t.Fatalf("Parse: got nil error (config %v), want\n%s", cfg, tt.want)
			}
			if !slices.Contains(strings.Split(err.Error(), "\n"), tt.want) {
				t.Errorf("error:\ngot  %s\nwant a line %s", err, tt.want)
			}
		})
	}
}

func TestValidateOncallAccepts(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"the schedule the cases start from", schedule()},
		{"hours past midnight", schedule("        hours:", "          - from: '22:00'", "            to: '06:00'", "            days: fri-mon")},
		{"hours with days written as 'mon - fri'", schedule("        hours:", "          - from: '09:00'", "            to: '17:00'", "            days: mon - fri")},
		{"handoff with one digit of hour", schedule("        handoff: '9:30'")},
		{"participant twice in a rotation", schedule("      - participants: [alice, bob, alice]", "        shift: 12h", "        start: 2026-01-05")},
		{"override in UTC", schedule("    overrides:", "      - user: bob", "        start: 2026-12-24T08:00:00Z", "        end: 2026-12-24T20:00:00Z")},
		{"target with a channel alone", policy("    steps:", "      - targets: [{channel: ops}, {channel: pager}]")},
		{"target mentioning a user in a channel", policy("    steps:", "      - targets: [{user: alice, channel: ops}]")},
		{"step with after 0", policy("    repeat: 10", "    steps:", "      - after: 0s", "        targets: [{schedule: primary}]")},
		{"ack deadlines for levels of its own", lines("severity:", "  levels:", "    - name: SEV1", "      values: [critical]", "  ack_deadlines:", "    SEV1: 5m")},
		{"user without identities", lines("users:", "  - name: alice")},
		{"users with different identities", lines("users:", "  - name: alice", "    slack: U0123ALICE", "    matrix: '@alice:matrix.example.org:8448'", "  - name: bob", "    slack: W0456BOB", "    google_chat: users/bob@example.org")},
		{"calendar secret of 16 characters", lines("calendar:", "  secret: 0123456789abcdef")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustParse(t, tt.yaml, nil)
		})
	}
}

// TestParseSeveralOncallProblems: `klaxon config check` names every
// problem of a file at once, each with its key and line.
func TestParseSeveralOncallProblems(t *testing.T) {
	yaml := lines(
		"users:",                         // 1
		"  - name: alice",                // 2
		"    slack: alice",               // 3
		"  - name: bob",                  // 4
		"channels:",                      // 5
		"  - name: pager",                // 6
		"    type: pagerduty",            // 7
		"routes:",                        // 8
		"  receiver: pager",              // 9
		"  escalation: nightly",          // 10
		"schedules:",                     // 11
		"  - name: primary",              // 12
		"    handoff_notice: pager",      // 13
		"    rotations:",                 // 14
		"      - participants: [carol]",  // 15
		"        shift: 0s",              // 16
		"        start: 2026-01-05",      // 17
		"escalation_policies:",           // 18
		"  - name: default",              // 19
		"    steps:",                     // 20
		"      - targets:",               // 21
		"          - schedule: primary",  // 22
		"            channel: pager",     // 23
		"          - schedule: tertiary", // 24
		"severity:",                      // 25
		"  ack_deadlines:",               // 26
		"    P1: 1 hour",                 // 27
	)
	e := parseErr(t, yaml, nil)
	want := []config.Problem{
		{Key: "routes.escalation", Line: 10, Message: `no escalation policy "nightly" (policies: default)`},
		{Key: "users[0].slack", Line: 3, Message: `"alice": want a Slack member ID: U or W, then upper-case letters and digits (U0123ALICE)`},
		{Key: "schedules[0].handoff_notice", Line: 13, Message: `"pager" is a pagerduty channel; hand-off notices are chat posts: name a chat channel`},
		{Key: "schedules[0].rotations[0].participants[0]", Line: 15, Message: `no user "carol" (users: alice, bob)`},
		{Key: "schedules[0].rotations[0].shift", Line: 16, Message: `"0s": a shift must be longer than zero (daily, weekly, 12h…)`},
		{Key: "escalation_policies[0].steps[0].targets[0].channel", Line: 23, Message: `"pager" is a pagerduty channel, which pages a service and mentions no one: give it in a target of its own`},
		{Key: "escalation_policies[0].steps[0].targets[1].schedule", Line: 24, Message: `no schedule "tertiary" (schedules: primary)`},
		{Key: "severity.ack_deadlines.P1", Line: 27, Message: `"1 hour": want a positive duration (15m), next_business_day or none`},
	}
	if !slices.Equal(e.Problems, want) {
		t.Errorf("Problems:\ngot  %+v\nwant %+v", e.Problems, want)
	}
	if got := strings.Count(e.Error(), "\n") + 1; got != len(want) {
		t.Errorf("error: got %d lines, want %d:\n%s", got, len(want), e)
	}
}

// yamlLine is a commented-out line of YAML in klaxon.example.yaml (a key or
// an indented line), not prose.
var yamlLine = regexp.MustCompile(`^# ([a-z_]+:(\s|$)| )`)

// TestExampleFile: klaxon.example.yaml, with its commented-out sections
// uncommented, is a valid configuration.
func TestExampleFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "klaxon.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if yamlLine.MatchString(l) {
			l = strings.TrimPrefix(l, "# ")
		}
		out = append(out, l)
	}
	text := strings.Join(out, "\n")
	runbooks, err := filepath.Abs(filepath.Join("..", "..", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	text = strings.ReplaceAll(text, "dir: /srv/runbooks", "dir: "+runbooks)
	vars := map[string]string{}
	for i, m := range regexp.MustCompile(`\$\{([A-Z_0-9]+)\}`).FindAllStringSubmatch(text, -1) {
		vars[m[1]] = fmt.Sprintf("example-secret-%02d-0123456789", i)
	}
	cfg := mustParse(t, text, vars)
	for _, c := range []struct {
		what string
		got  int
	}{
		{"channels", len(cfg.Channels)},
		{"users", len(cfg.Users)},
		{"schedules", len(cfg.Schedules)},
		{"escalation_policies", len(cfg.EscalationPolicies)},
		{"severity.ack_deadlines", len(cfg.Severity.AckDeadlines)},
	} {
		if c.got == 0 {
			t.Errorf("%s: got none, want the example's (is the section commented out as the others are?)", c.what)
		}
	}
	if cfg.Routes == nil || cfg.Routes.Escalation == "" {
		t.Errorf("routes: got no escalation, want the example's")
	}
	for level, want := range config.DefaultAckDeadlines {
		if got := cfg.Severity.AckDeadlines[level]; got != want {
			t.Errorf("severity.ack_deadlines.%s: got %q, want the default %q", level, got, want)
		}
	}
	if cfg.Calendar.Secret == "" {
		t.Errorf("calendar.secret: got none, want the example's")
	}
	if cfg.Auth.OIDC == nil || len(cfg.APITokens) != 2 || cfg.APITokens[1].Role != klaxon.RoleViewer {
		t.Errorf("auth.oidc and the viewer API token: got %+v and %+v, want the example's", cfg.Auth.OIDC, cfg.APITokens)
	}
}

func TestParseShift(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"daily", 24 * time.Hour, false},
		{"weekly", 7 * 24 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0s", 0, true},
		{"0", 0, true},
		{"-1h", 0, true},
		{"30s", 0, true},
		{"1h30s", 0, true},
		{"", 0, true},
		{"Weekly", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseShift(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseShift(%q): got (%v, %v), want (%v, error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"09:00", 540, false},
		{"9:30", 570, false},
		{"00:00", 0, false},
		{"23:59", 1439, false},
		{"24:00", 0, true},
		{"12:60", 0, true},
		{"9", 0, true},
		{"09:0", 0, true},
		{"+9:00", 0, true},
		{"-0:00", 0, true},
		{"09:+5", 0, true},
		{"009:00", 0, true},
		{" 9:00", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseClock(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseClock(%q): got (%d, %v), want (%d, error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // by time.Weekday, Sunday first: x for a day in the set
		wantErr bool
	}{
		{nil, "xxxxxxx", false},
		{[]string{"mon-fri"}, ".xxxxx.", false},
		{[]string{"mon - fri"}, ".xxxxx.", false},
		{[]string{"fri-mon"}, "xx...xx", false},
		{[]string{"sat", "Sun"}, "x.....x", false},
		{[]string{"mon,wed"}, ".x.x...", false},
		{[]string{"monday"}, "", true},
		{[]string{"mon-"}, "", true},
		{[]string{""}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			set, err := config.ParseDays(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDays(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			got := ""
			for _, in := range set {
				got += map[bool]string{true: "x", false: "."}[in]
			}
			if got != tt.want {
				t.Errorf("ParseDays(%q): got %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
