package notify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// MaxShown is how many members a group's message lists; the rest are counted.
const MaxShown = 5

// Message is a group's state as every platform renders it: the platform
// packages only format and escape what is here. Alert labels and annotations
// are attacker-influenced text and must be escaped for each format.
type Message struct {
	GroupID   int64
	Title     string       // the alertname the group shares, or its group labels
	Level     klaxon.Level // the most severe open member's level (of all members once resolved)
	LevelName string       // e.g. "P0"
	Severity  string       // that member's own severity word, e.g. "critical"
	State     klaxon.State // firing while any member fires; acknowledged when every open one is; resolved when none is open
	Labels    map[string]string
	Counts    klaxon.GroupCounts
	Alerts    []*klaxon.Alert // up to MaxShown members, open first, most severe first
	// URL links to the group's first alert in Klaxon; AlertURL to any.
	URL     string
	BaseURL string
	// LastFrom says who made the group's state what it is, e.g.
	// "acknowledged by alice"; empty while firing.
	LastFrom string
	// Runbook is the primary alert's runbook, or nil when none matches
	// (platforms then show the runbook_url annotation, if any).
	Runbook *RunbookLink
	// Mention are the people the group's first post mentions besides the
	// channel's configured ones: the first escalation step's (the
	// current on-call), while the group fires. Chat platforms mention
	// each by MentionOf, or name them.
	Mention []klaxon.User
	At      time.Time
}

// MaxSteps is how many diagnose steps a message shows; the rest are a
// click away.
const MaxSteps = 3

// RunbookLink is what a message shows of the runbook: its title, a link
// to the whole of it served by Klaxon, and its first diagnose steps with
// the alert's labels filled in, ready to copy.
type RunbookLink struct {
	Title string
	URL   string   // Klaxon's page of the runbook, filled for this alert
	Steps []string // up to MaxSteps, each a code block's text (maybe several lines)
	More  int      // diagnose steps not shown
}

// Critical reports whether the group is at the top level (P0): chat
// platforms mention their configured people on critical messages.
func (m *Message) Critical() bool { return m.Level == 0 && m.State != klaxon.StateResolved }

// Single reports whether the group has exactly one member, rendered as that
// alert rather than as a list.
func (m *Message) Single() bool { return m.Counts.Total() == 1 && len(m.Alerts) == 1 }

// Primary is the alert the message is headed by.
func (m *Message) Primary() *klaxon.Alert {
	if len(m.Alerts) == 0 {
		return nil
	}
	return m.Alerts[0]
}

// AlertURL links to an alert's page in Klaxon.
func (m *Message) AlertURL(id int64) string {
	return fmt.Sprintf("%s/alerts/%d", strings.TrimSuffix(m.BaseURL, "/"), id)
}

// Tag is the severity tag that starts the message, e.g. "[P0]".
func (m *Message) Tag() string { return "[" + m.LevelName + "]" }

// Headline is the one line that says what is wrong, e.g.
// "[P0] KubePodCrashLooping: prod/api-7d9" or "[P1] TargetDown: 12 alerts".
func (m *Message) Headline() string {
	h := m.Tag() + " " + m.Title
	if m.Single() {
		if where := m.Primary().Where(); where != "" {
			h += ": " + where
		}
		return h
	}
	return fmt.Sprintf("%s: %d alerts", h, m.Counts.Total())
}

// StateText says where the group is, for a status line: "FIRING",
// "ACKNOWLEDGED by alice", "RESOLVED".
func (m *Message) StateText() string {
	switch m.State {
	case klaxon.StateAcknowledged:
		if a := m.Primary(); m.Single() && a.AckedBy != "" {
			return "ACKNOWLEDGED by " + a.AckedBy
		}
		return "ACKNOWLEDGED"
	case klaxon.StateResolved:
		if a := m.Primary(); m.Single() && a.ResolvedBy != "" {
			return "RESOLVED by " + a.ResolvedBy
		}
		return "RESOLVED"
	}
	if !m.Single() {
		return fmt.Sprintf("FIRING: %d firing, %d acknowledged, %d resolved", m.Counts.Firing, m.Counts.Acknowledged, m.Counts.Resolved)
	}
	return "FIRING"
}

// AckHint gives the exact words to type, e.g. "ack 12", or "" when nothing
// is left to acknowledge.
func (m *Message) AckHint() string {
	var ids []string
	for _, a := range m.Alerts {
		if a.State == klaxon.StateFiring {
			ids = append(ids, fmt.Sprint(a.ID))
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return "ack " + strings.Join(ids, " ")
}

// Color is the hex colour of the message's sidebar or card: by level while
// firing, amber once acknowledged, green once resolved.
func (m *Message) Color() string {
	switch m.State {
	case klaxon.StateResolved:
		return "#2EB67D"
	case klaxon.StateAcknowledged:
		return "#ECB22E"
	}
	switch m.Level {
	case 0:
		return "#E01E5A"
	case 1:
		return "#F2711C"
	case 2:
		return "#FBBD08"
	}
	return "#1D9BD1"
}

// Field is a label worth showing, in display order.
type Field struct{ Name, Value string }

// Fields are the alert's labels worth a glance, most telling first: where,
// then the rest (minus alertname and severity, which the headline shows).
func Fields(a *klaxon.Alert) []Field {
	var out []Field
	seen := map[string]bool{"alertname": true, "severity": true}
	for _, k := range []string{"namespace", "pod", "deployment", "statefulset", "daemonset", "node", "instance", "service", "job", "cluster"} {
		if v, ok := a.Labels[k]; ok {
			out = append(out, Field{k, v})
			seen[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if !seen[k] {
			out = append(out, Field{k, a.Labels[k]})
		}
	}
	return out
}

// Description is the alert's longer text: the description annotation, else
// its message, else "".
func Description(a *klaxon.Alert) string {
	for _, k := range []string{"description", "message"} {
		if v := a.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

// RunbookURL is the alert's runbook link, or "".
func RunbookURL(a *klaxon.Alert) string {
	for _, k := range []string{"runbook_url", "runbook"} {
		if v := SafeURL(a.Annotations[k]); v != "" {
			return v
		}
	}
	return ""
}

// SafeURL returns u if it is an http(s) URL, else "": a link that came in an
// alert must not become a javascript: or data: link in a message.
func SafeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}
