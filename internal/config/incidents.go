package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Incidents configures how incidents are run.
type Incidents struct {
	// Names are the incident names of the severity levels, most severe
	// first: SEV1… by default. "sev1" and the alert names ("P0") both
	// work wherever a severity is typed.
	Names []string `yaml:"names"`
	// Announce names the channels (the main alerts rooms) that hear of
	// declarations, updates and closures.
	Announce []string `yaml:"announce"`
	// Rooms names a chat channel on which each incident gets a room of its
	// own (a Slack channel, a Matrix room, a Google Chat thread), unless
	// declared with --no-room. Empty: no rooms unless asked for.
	Rooms string `yaml:"rooms"`
	// UpdateEvery is the status-update cadence by level name (SEV1 2m,
	// SEV2 5m by default); a level without one has no cadence.
	UpdateEvery map[string]time.Duration `yaml:"update_every"`
	// DiagnosisTimeout is how long the most severe level may stay
	// investigating before Escalation runs (5m by default).
	DiagnosisTimeout time.Duration `yaml:"diagnosis_timeout"`
	// Escalation is the escalation policy a SEV1 still investigating
	// walks; empty: the only policy if there is exactly one, else none.
	Escalation string `yaml:"escalation"`
	// PostmortemDue is how long after resolution the postmortem is due,
	// by level name (SEV1 24h, SEV2 48h by default); a level without one
	// needs no postmortem.
	PostmortemDue map[string]time.Duration `yaml:"postmortem_due"`
	// PostmortemRemind is how often a due postmortem is asked for until it
	// is marked done (12h by default).
	PostmortemRemind time.Duration `yaml:"postmortem_remind"`
	// Checklists are the checklist items by level name; "default" is for
	// levels without their own. DefaultChecklist if none.
	Checklists map[string][]string `yaml:"checklists"`
}

// DefaultChecklist is what every incident is taken through unless the
// configuration says otherwise.
var DefaultChecklist = []string{
	"Incident declared with a severity",
	"Incident channel opened and people invited",
	"On-call engineer alerted",
	"Diagnosis: cause identified",
	"Fix applied",
	"Fix verified: metrics back to normal",
	"Closure communicated",
	"Postmortem scheduled",
	"Follow-up action items filed",
}

// StatusPage configures the public status page at /status.
type StatusPage struct {
	Title       string        `yaml:"title"` // "Status" by default
	Components  []Component   `yaml:"components"`
	Maintenance []Maintenance `yaml:"maintenance"`
}

// Component is a part of the system the status page shows, and the
// services (as incidents name them) that affect it.
type Component struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Services    StringList `yaml:"services"` // default: the component's name
}

// Maintenance is scheduled work shown on the status page; its components
// are under maintenance while it runs.
type Maintenance struct {
	Title      string     `yaml:"title"`
	Text       string     `yaml:"text"`
	Components StringList `yaml:"components"`
	Start      time.Time  `yaml:"start"` // RFC 3339
	End        time.Time  `yaml:"end"`
}

// DefaultIncidentNames names n incident levels SEV1…SEVn.
func DefaultIncidentNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SEV%d", i+1)
	}
	return out
}

func (c *Config) setIncidentDefaults() {
	in := &c.Incidents
	if len(in.Names) == 0 {
		in.Names = DefaultIncidentNames(len(c.Severity.levelNames()))
	}
	if in.UpdateEvery == nil && len(in.Names) >= 2 {
		in.UpdateEvery = map[string]time.Duration{in.Names[0]: 2 * time.Minute, in.Names[1]: 5 * time.Minute}
	}
	if in.DiagnosisTimeout == 0 {
		in.DiagnosisTimeout = 5 * time.Minute
	}
	if in.Escalation == "" && len(c.EscalationPolicies) == 1 {
		in.Escalation = c.EscalationPolicies[0].Name
	}
	if in.PostmortemDue == nil && len(in.Names) >= 2 {
		in.PostmortemDue = map[string]time.Duration{in.Names[0]: 24 * time.Hour, in.Names[1]: 48 * time.Hour}
	}
	if in.PostmortemRemind == 0 {
		in.PostmortemRemind = 12 * time.Hour
	}
	if len(in.Checklists) == 0 {
		in.Checklists = map[string][]string{"default": DefaultChecklist}
	}
	if c.StatusPage.Title == "" {
		c.StatusPage.Title = "Status"
	}
	for i := range c.StatusPage.Components {
		if co := &c.StatusPage.Components[i]; len(co.Services) == 0 {
			co.Services = StringList{co.Name}
		}
	}
}

// IncidentLevel returns the level a level name means, in the incident
// names or the alert names, case-insensitively.
func (c *Config) IncidentLevel(name string) (int, bool) {
	for _, names := range [][]string{c.Incidents.Names, c.Severity.levelNames()} {
		for i, n := range names {
			if strings.EqualFold(n, name) {
				return i, true
			}
		}
	}
	return 0, false
}

// Checklist returns the checklist items for a level.
func (in Incidents) Checklist(level int) []string {
	if level >= 0 && level < len(in.Names) {
		if items, ok := in.Checklists[in.Names[level]]; ok {
			return items
		}
	}
	if items, ok := in.Checklists["default"]; ok {
		return items
	}
	return DefaultChecklist
}

func (c *Config) validateIncidents(d *doc) {
	in := &c.Incidents
	levels := len(c.Severity.levelNames())
	if len(in.Names) != levels {
		d.addf("incidents.names", "%d name(s) for %d severity level(s): name each level, most severe first", len(in.Names), levels)
	}
	channels := &known{what: "channel", plural: "channels", types: map[string]string{}}
	for _, ch := range c.Channels {
		channels.add(ch.Name)
		channels.types[ch.Name] = ch.Type
	}
	for i, name := range in.Announce {
		channels.refer(d, fmt.Sprintf("incidents.announce[%d]", i), name)
	}
	if in.Rooms != "" && channels.refer(d, "incidents.rooms", in.Rooms) {
		switch channels.types[in.Rooms] {
		case "slack", "matrix", "googlechat":
		default:
			d.addf("incidents.rooms", "channel %q is a %s channel, which cannot open rooms: use a slack, matrix or googlechat channel", in.Rooms, channels.types[in.Rooms])
		}
	}
	c.checkLevelKeys(d, "incidents.update_every", keysOf(in.UpdateEvery), false)
	c.checkLevelKeys(d, "incidents.postmortem_due", keysOf(in.PostmortemDue), false)
	c.checkLevelKeys(d, "incidents.checklists", keysOf(in.Checklists), true)
	for _, k := range keysOf((in.UpdateEvery)) {
		if in.UpdateEvery[k] < 0 {
			d.addf("incidents.update_every."+k, "negative")
		}
	}
	for _, k := range keysOf((in.PostmortemDue)) {
		if in.PostmortemDue[k] < 0 {
			d.addf("incidents.postmortem_due."+k, "negative")
		}
	}
	for _, k := range keysOf((in.Checklists)) {
		if len(in.Checklists[k]) == 0 {
			d.addf("incidents.checklists."+k, "empty: list the items, or leave the level out")
		}
	}
	if in.DiagnosisTimeout < 0 {
		d.addf("incidents.diagnosis_timeout", "negative")
	}
	if in.PostmortemRemind < time.Minute {
		d.addf("incidents.postmortem_remind", "%s is too often: at least 1m", in.PostmortemRemind)
	}
	if in.Escalation != "" {
		policies := &known{what: "escalation policy", plural: "escalation_policies"}
		for _, p := range c.EscalationPolicies {
			policies.add(p.Name)
		}
		policies.refer(d, "incidents.escalation", in.Escalation)
	}

	seen := map[string]bool{}
	components := &known{what: "component", plural: "components"}
	for i, co := range c.StatusPage.Components {
		key := fmt.Sprintf("status_page.components[%d]", i)
		switch {
		case strings.TrimSpace(co.Name) == "":
			d.addf(key+".name", "missing")
		case seen[co.Name]:
			d.addf(key+".name", "%q is already a component", co.Name)
		}
		seen[co.Name] = true
		components.add(co.Name)
	}
	for i, m := range c.StatusPage.Maintenance {
		key := fmt.Sprintf("status_page.maintenance[%d]", i)
		if strings.TrimSpace(m.Title) == "" {
			d.addf(key+".title", "missing")
		}
		if m.Start.IsZero() || m.End.IsZero() {
			d.addf(key, "start and end are required (RFC 3339, e.g. 2026-12-24T09:00:00Z)")
		} else if !m.End.After(m.Start) {
			d.addf(key+".end", "%s is not after start %s", m.End.Format(time.RFC3339), m.Start.Format(time.RFC3339))
		}
		for j, name := range m.Components {
			components.refer(d, fmt.Sprintf("%s.components[%d]", key, j), name)
		}
	}
}

// checkLevelKeys reports map keys that name no level (incident or alert
// name); "default" is allowed where withDefault.
func (c *Config) checkLevelKeys(d *doc, key string, keys []string, withDefault bool) {
	for _, k := range keys {
		if withDefault && k == "default" {
			continue
		}
		if _, ok := c.IncidentLevel(k); !ok {
			d.addf(key+"."+k, "no severity level %q (levels: %s)", k, strings.Join(c.Incidents.Names, ", "))
		}
	}
}

func keysOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
