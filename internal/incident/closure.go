package incident

import (
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// ClosureText is the message posted when an incident is resolved: duration,
// root cause, fix applied, impact, and the postmortem due date.
func ClosureText(inc *klaxon.Incident, levelName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "✅ RESOLVED #%d %s", inc.ID, oneLine(incidentTitle(inc)))
	if levelName != "" {
		fmt.Fprintf(&b, " (%s)", levelName)
	}
	b.WriteByte('\n')

	detected, resolved := inc.DetectedAt.UTC(), inc.ResolvedAt.UTC()
	if inc.ResolvedAt.IsZero() {
		fmt.Fprintf(&b, "Duration: ongoing (detected %s UTC)\n", detected.Format("15:04"))
	} else {
		// Times alone would be ambiguous once the incident crosses midnight.
		layout := "15:04"
		if !sameDay(detected, resolved) {
			layout = "Mon 2 Jan 15:04"
		}
		fmt.Fprintf(&b, "Duration: %s (detected %s UTC, resolved %s UTC)\n",
			FormatDuration(resolved.Sub(detected)), detected.Format(layout), resolved.Format(layout))
	}

	// One field a line: a multi-line root cause must not pass for another field.
	fmt.Fprintf(&b, "Root cause: %s\n", orNotGiven(inc.RootCause))
	fmt.Fprintf(&b, "Fix applied: %s\n", orNotGiven(inc.Fix))
	fmt.Fprintf(&b, "Impact: %s\n", orNotGiven(inc.Impact))
	if inc.MissedUpdates > 0 {
		fmt.Fprintf(&b, "Missed updates: %d\n", inc.MissedUpdates)
	}

	switch {
	case !inc.PostmortemDue.IsZero():
		due := inc.PostmortemDue.UTC()
		fmt.Fprintf(&b, "Postmortem due: %s UTC", due.Format("Mon 2 Jan 15:04"))
		if !inc.ResolvedAt.IsZero() {
			fmt.Fprintf(&b, " (%s)", dueWindow(due.Sub(resolved)))
		}
		fmt.Fprintf(&b, ", `klaxon postmortem %d` drafts it", inc.ID)
	case levelName != "":
		fmt.Fprintf(&b, "Postmortem: not required at %s", levelName)
	default:
		b.WriteString("Postmortem: not required")
	}
	return b.String()
}

// FormatDuration is a duration as people say it, in its two largest units:
// "45s" under a minute, "42m", "1h 12m", "2d 3h". It truncates, so an
// incident of 59m59s never reads as "60m".
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", max(0, int(d/time.Second)))
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", mins)
	case d < 24*time.Hour && mins == 0:
		return fmt.Sprintf("%dh", hours)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours == 0:
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, hours)
}

// dueWindow is the time given for the postmortem as incidents.postmortem_due
// writes it ("24h", "48h"), falling back to FormatDuration for an odd one.
func dueWindow(d time.Duration) string {
	if d > 0 && d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return FormatDuration(d)
}

// incidentTitle is the incident's title, made up from its service and summary for
// an incident stored without one.
func incidentTitle(inc *klaxon.Incident) string {
	if strings.TrimSpace(inc.Title) != "" {
		return inc.Title
	}
	return fmt.Sprintf("INCIDENT: %s - %s", inc.Service, inc.Summary)
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Format(time.DateOnly) == b.UTC().Format(time.DateOnly)
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orNotGiven(s string) string {
	if s = oneLine(s); s == "" {
		return "not given"
	}
	return s
}
