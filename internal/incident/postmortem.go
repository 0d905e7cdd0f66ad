package incident

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// PostmortemInput is what a postmortem draft is made from.
type PostmortemInput struct {
	Incident  *klaxon.Incident
	LevelName string                 // "SEV1"
	Timeline  []klaxon.TimelineEntry // the merged timeline, oldest first
	Actions   []klaxon.ActionItem
	Author    string // who asked for the draft, or the commander
	BaseURL   string // link back to the incident: BaseURL + "/incidents/7"
}

// RenderPostmortem writes the incident's postmortem draft as Markdown in the
// COE (correction of error) shape. Every piece of user text is escaped: it
// cannot add headings, break the timeline table or inject HTML.
func RenderPostmortem(in PostmortemInput) []byte {
	inc := in.Incident
	var b bytes.Buffer
	// A trailing "#" would be read as the heading's closing sequence.
	heading := mdInline(oneLine(incidentTitle(inc)))
	if strings.HasSuffix(heading, "#") {
		heading = heading[:len(heading)-1] + `\#`
	}
	fmt.Fprintf(&b, "# Postmortem: %s\n\n", heading)
	renderMeta(&b, in)

	b.WriteString("\n## Summary\n\n")
	for _, s := range []string{inc.Summary, inc.Impact} {
		if strings.TrimSpace(s) != "" {
			b.WriteString(mdBlock(s) + "\n\n")
		}
	}
	b.WriteString("<!-- summary: finish this in a few sentences: what happened, who was affected, how it was found and fixed. -->\n")

	mdSection(&b, "Impact", inc.Impact, "impact: who was affected, how badly and for how long? Numbers help: requests failed, users, revenue.")
	b.WriteString("\n## Timeline (UTC)\n\n")
	renderTimeline(&b, inc, in.Timeline)
	mdSection(&b, "Root cause", inc.RootCause, "root cause: what made this happen? Keep asking why until you reach something you can fix.")
	mdSection(&b, "Resolution", inc.Fix, "resolution: what fixed it, and how was the fix confirmed?")

	b.WriteString("\n## Lessons learned\n")
	for _, p := range [][2]string{
		{"What went well", "what went well: what helped find or fix it quickly?"},
		{"What went wrong", "what went wrong: what slowed detection, diagnosis or the fix?"},
		{"Where we got lucky", "where we got lucky: what could have made this much worse?"},
	} {
		fmt.Fprintf(&b, "\n### %s\n\n- <!-- %s -->\n", p[0], p[1])
	}

	b.WriteString("\n## Action items\n\n")
	if len(in.Actions) == 0 {
		b.WriteString("<!-- action items: none yet. What will stop this happening again, or catch it sooner? -->\n")
	}
	for _, a := range in.Actions {
		box := " "
		if !a.DoneAt.IsZero() {
			box = "x"
		}
		owner := mdInline(oneLine(a.Owner))
		if owner == "" {
			owner = "<!-- owner: who will do it? -->"
		}
		fmt.Fprintf(&b, "- [%s] #%d %s — %s\n", box, a.ID, mdInline(oneLine(a.Text)), owner)
	}
	return b.Bytes()
}

// renderMeta writes the list of facts under the title.
func renderMeta(b *bytes.Buffer, in PostmortemInput) {
	inc := in.Incident
	item := func(name, value, placeholder string) {
		if value == "" {
			value = "<!-- " + placeholder + " -->"
		}
		fmt.Fprintf(b, "- **%s:** %s\n", name, value)
	}
	ref := fmt.Sprintf("#%d", inc.ID)
	if in.BaseURL != "" {
		ref = fmt.Sprintf("[#%d](%s/incidents/%d)", inc.ID, strings.TrimSuffix(in.BaseURL, "/"), inc.ID)
	}
	item("Incident", ref, "")

	date, duration := "", "ongoing"
	if !inc.DetectedAt.IsZero() {
		date = inc.DetectedAt.UTC().Format(time.DateOnly)
		if !inc.ResolvedAt.IsZero() {
			duration = FormatDuration(inc.ResolvedAt.Sub(inc.DetectedAt))
		}
	}
	item("Date", date, "date: when was it detected?")
	item("Duration", duration, "")
	item("Severity", mdInline(in.LevelName), "severity")
	item("Service", mdInline(oneLine(inc.Service)), "service: what was affected?")
	item("Status", mdInline(string(inc.Status)), "status")
	item("Commander", mdInline(oneLine(inc.Commander)), "commander: who ran the response?")
	item("Comms lead", mdInline(oneLine(inc.CommsLead)), "comms lead: who kept people informed?")
	var responders []string
	for _, r := range inc.Responders {
		if r = mdInline(oneLine(r)); r != "" {
			responders = append(responders, r)
		}
	}
	item("Responders", strings.Join(responders, ", "), "responders: who else worked on it?")
	item("Author", mdInline(oneLine(in.Author)), "author: who is writing this?")

	due := ""
	switch {
	case !inc.PostmortemDue.IsZero():
		due = inc.PostmortemDue.UTC().Format("2006-01-02 15:04") + " UTC"
		if !inc.PostmortemDone.IsZero() {
			due += " (marked written " + inc.PostmortemDone.UTC().Format("2006-01-02 15:04") + " UTC)"
		}
	case inc.Open():
		due = "<!-- postmortem due: set when the incident is resolved -->"
	default:
		due = "not required"
	}
	item("Postmortem due", due, "")
}

// renderTimeline writes every entry as a table row, or a placeholder.
func renderTimeline(b *bytes.Buffer, inc *klaxon.Incident, entries []klaxon.TimelineEntry) {
	if len(entries) == 0 {
		b.WriteString("<!-- timeline: nothing was recorded. What happened, and when? -->\n")
		return
	}
	// Times alone are read against the Date above; once any entry falls on
	// another day, every row carries its date.
	day := inc.DetectedAt
	if day.IsZero() {
		day = entries[0].At
	}
	layout := "15:04"
	for _, e := range entries {
		if !sameDay(e.At, day) {
			layout = "2006-01-02 15:04"
			break
		}
	}
	b.WriteString("| Time | Who | What |\n| --- | --- | --- |\n")
	for _, e := range entries {
		what := kindLabel(e)
		if text := mdCell(e.Text); text != "" {
			what += ": " + text
		}
		who := mdCell(e.Actor)
		if who == "" {
			who = "—"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", e.At.UTC().Format(layout), who, what)
	}
}

// kindLabel names what an entry records: "Alert #12 fired" for a linked
// alert's history, "Status update (public)" for the incident's own.
func kindLabel(e klaxon.TimelineEntry) string {
	if e.AlertID != 0 && e.Kind != klaxon.TimelineAlertLinked {
		return fmt.Sprintf("Alert #%d %s", e.AlertID, mdInline(string(e.Kind)))
	}
	labels := map[klaxon.TimelineKind]string{
		klaxon.TimelineDeclared:    "Declared",
		klaxon.TimelineAlertLinked: "Alert linked",
		klaxon.TimelineUpdate:      "Status update",
		klaxon.TimelineStatus:      "Status",
		klaxon.TimelineSeverity:    "Severity",
		klaxon.TimelineRole:        "Role",
		klaxon.TimelineChecklist:   "Checklist",
		klaxon.TimelineNote:        "Note",
		klaxon.TimelineCommand:     "Command",
		klaxon.TimelineRoom:        "Room",
		klaxon.TimelineReminder:    "Reminder",
		klaxon.TimelineMissed:      "Missed update",
		klaxon.TimelineEscalated:   "Escalated",
		klaxon.TimelineResolved:    "Resolved",
		klaxon.TimelinePostmortem:  "Postmortem",
		klaxon.TimelineAction:      "Action item",
	}
	label, ok := labels[e.Kind]
	if !ok {
		label = mdInline(strings.ReplaceAll(string(e.Kind), "_", " "))
	}
	if e.Kind == klaxon.TimelineUpdate && e.Public {
		label += " (public)"
	}
	return label
}

// mdSection writes a level-2 heading with its text, or the placeholder
// comment when there is none, so no heading is left empty.
func mdSection(b *bytes.Buffer, heading, text, placeholder string) {
	fmt.Fprintf(b, "\n## %s\n\n", heading)
	if strings.TrimSpace(text) == "" {
		fmt.Fprintf(b, "<!-- %s -->\n", placeholder)
		return
	}
	b.WriteString(mdBlock(text) + "\n")
}

// mdEscaper escapes what would let user text make links, code spans or
// HTML, or end a table cell. The backslash comes first so that a user's own
// "\|" cannot unescape the pipe.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`,
	"`", "\\`",
	`[`, `\[`,
	`]`, `\]`,
	`|`, `\|`,
	`<`, "&lt;",
	`>`, "&gt;",
)

// mdInline escapes user text for use within a line.
func mdInline(s string) string { return mdEscaper.Replace(s) }

// mdCell is user text for a table cell: one row, its lines joined by <br>.
func mdCell(s string) string {
	var lines []string
	for _, l := range mdLines(s) {
		if l = oneLine(l); l != "" {
			lines = append(lines, mdInline(l))
		}
	}
	return strings.Join(lines, "<br>")
}

// mdBlock is user text as paragraphs: each line escaped, and a line that
// would start a heading, list, quote, code block, fence or rule made plain.
// Blank lines between paragraphs are kept, at most one in a row.
func mdBlock(s string) string {
	var out []string
	for _, l := range mdLines(strings.TrimSpace(s)) {
		// Leading spaces would make an indented code block.
		l = strings.TrimSpace(l)
		if l == "" {
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			continue
		}
		out = append(out, mdLineStart(mdInline(l)))
	}
	return strings.Join(out, "\n")
}

// mdLineStart backslash-escapes the first character of a line that
// Markdown would read as block structure: "# ", "- ", "> ", "```", "---",
// "1. " and the like. (">" and "`" are already escaped by mdInline.)
func mdLineStart(l string) string {
	if strings.ContainsRune("#-+*=_~", rune(l[0])) {
		return `\` + l
	}
	// An ordered list marker: digits then "." or ")".
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') {
		return l[:i] + `\` + l[i:]
	}
	return l
}

func mdLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
}
