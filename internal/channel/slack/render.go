package slack

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
const (
	maxHeader    = 150  // header text
	maxSection   = 3000 // section text
	maxField     = 2000 // one section field
	maxFields    = 10   // fields per section
	maxContext   = 3000 // one context element
	maxButtonVal = 2000
	maxReply     = 3900 // a thread reply: Slack truncates text past 4000

	// What one piece of alert text may take before it is cut, so one long
	// label cannot push the rest out of a field or section.
	maxLabel   = 300
	maxSummary = 500
)

// Action IDs of the buttons; the inbound side maps them back to commands.
const (
	actionAck     = "klaxon_ack"
	actionResolve = "klaxon_resolve"
	actionsBlock  = "klaxon_actions"
)

// rendered is a message's parts as chat.postMessage and chat.update take
// them: a mrkdwn text (the notification and fallback, not displayed when
// there are blocks), the headline (and mentions) as top-level blocks, and
// one attachment that carries the colour bar and the rest.
type rendered struct {
	text        string
	blocks      []slack.Block
	attachments []slack.Attachment
}

// render lays out m. mention is the mrkdwn mentions to put before the
// headline ("" for none), oncall the line that says who was called (""
// for none): both in the text, which notifies, and in blocks of their own
// under the header.
func render(m *notify.Message, mention, oncall string) rendered {
	text := escape(m.Headline())
	if mention != "" {
		text = mention + " " + text
	}
	if oncall != "" {
		text += "\n" + oncall
	}
	top := []slack.Block{slack.NewHeaderBlock(plain(truncate(m.Headline(), maxHeader)))}
	for _, s := range []string{mention, oncall} {
		if s != "" {
			top = append(top, slack.NewSectionBlock(mrkdwn(truncMrkdwn(s, maxSection)), nil, nil))
		}
	}
	blocks := []slack.Block{slack.NewSectionBlock(nil, fields(m), nil)}
	if body := bodyText(m); body != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncMrkdwn(body, maxSection)), nil, nil))
	}
	if rb := runbookText(m.Runbook); rb != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(rb), nil, nil))
		if l := runbookLink(m.Runbook); l != "" {
			text += "\nRunbook: " + l
		}
	}
	if ctx := contextText(m); ctx != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(truncMrkdwn(ctx, maxContext))))
	}
	if buttons := buttons(m); len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock(actionsBlock, buttons...))
	}
	return rendered{
		text:        truncMrkdwn(text, maxSection),
		blocks:      top,
		attachments: []slack.Attachment{{Color: m.Color(), Blocks: slack.Blocks{BlockSet: blocks}}},
	}
}

// fields are the status line: state, severity, then where and the other
// labels worth a glance, as many as a section holds.
func fields(m *notify.Message) []*slack.TextBlockObject {
	severity := escape(m.LevelName)
	if m.Severity != "" {
		severity += " · " + escape(truncate(m.Severity, maxLabel))
	}
	out := []*slack.TextBlockObject{
		field("State", stateText(m)),
		field("Severity", severity),
	}
	labels := m.Labels
	if a := m.Primary(); m.Single() && a != nil {
		labels = a.Labels
	}
	for _, f := range notify.Fields(&klaxon.Alert{Labels: labels}) {
		if len(out) == maxFields {
			break
		}
		out = append(out, field(truncate(f.Name, maxLabel), escape(truncate(f.Value, maxLabel))))
	}
	return out
}

// stateText is Message.StateText with the actor rendered as a mention when
// it is a Slack user.
func stateText(m *notify.Message) string {
	if a := m.Primary(); m.Single() && a != nil {
		switch {
		case m.State == klaxon.StateAcknowledged && a.AckedBy != "":
			return "ACKNOWLEDGED by " + actor(truncate(a.AckedBy, maxLabel))
		case m.State == klaxon.StateResolved && a.ResolvedBy != "":
			return "RESOLVED by " + actor(truncate(a.ResolvedBy, maxLabel))
		}
	}
	return escape(m.StateText())
}

func field(name, value string) *slack.TextBlockObject {
	return mrkdwn(truncMrkdwn("*"+escape(name)+"*\n"+value, maxField))
}

// bodyText is what the alert says for a single alert (summary and
// description), or the counts and first members of a group.
func bodyText(m *notify.Message) string {
	a := m.Primary()
	if a == nil {
		return ""
	}
	if m.Single() {
		var parts []string
		if a.Summary != "" {
			parts = append(parts, "*"+escape(truncate(a.Summary, maxSummary))+"*")
		}
		if d := notify.Description(a); d != "" && d != a.Summary {
			parts = append(parts, escape(d))
		}
		return strings.Join(parts, "\n")
	}
	c := m.Counts
	lines := []string{fmt.Sprintf("*%d alerts*: %d firing, %d acknowledged, %d resolved", c.Total(), c.Firing, c.Acknowledged, c.Resolved)}
	for _, a := range m.Alerts {
		id := fmt.Sprintf("#%d", a.ID)
		if l := link(m.AlertURL(a.ID), id); l != "" {
			id = l
		}
		what := a.Summary
		if what == "" {
			what = a.Where()
		}
		lines = append(lines, fmt.Sprintf("• %s %s · %s", id, stateWord(a), escape(truncate(what, maxSummary))))
	}
	if more := c.Total() - len(m.Alerts); more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more", more))
	}
	return strings.Join(lines, "\n")
}

func stateWord(a *klaxon.Alert) string {
	switch a.State {
	case klaxon.StateAcknowledged:
		if a.AckedBy != "" {
			return "_acknowledged by " + actor(truncate(a.AckedBy, maxLabel)) + "_"
		}
		return "_acknowledged_"
	case klaxon.StateResolved:
		return "_resolved_"
	}
	return "*firing*"
}

// contextText is the links (runbook, source, Klaxon) and the words to type.
func contextText(m *notify.Message) string {
	var parts []string
	if a := m.Primary(); a != nil {
		// Klaxon's own runbook has its section; else the alert's link.
		if l := link(notify.RunbookURL(a), "Runbook"); l != "" && m.Runbook == nil {
			parts = append(parts, l)
		}
		if l := link(a.SourceURL, "Source"); l != "" {
			parts = append(parts, l)
		}
	}
	if l := link(m.URL, "Klaxon"); l != "" {
		parts = append(parts, l)
	}
	if hint := m.AckHint(); hint != "" {
		parts = append(parts, "Reply `"+escape(hint)+"`")
	}
	return strings.Join(parts, " · ")
}

// maxStep is what one runbook step may take in the runbook's section.
const maxStep = 800

// runbookText is the runbook's section: its title as a link, its first
// steps as code blocks, and how many more there are; "" without one. The
// steps share what the title leaves of maxSection, so no fence is cut.
func runbookText(rb *notify.RunbookLink) string {
	if rb == nil {
		return ""
	}
	head := "*Runbook:* " + runbookLink(rb)
	var more string
	switch {
	case rb.More == 1:
		more = "\n+1 more step in the runbook"
	case rb.More > 1:
		more = fmt.Sprintf("\n+%d more steps in the runbook", rb.More)
	}
	var steps []string
	for i, step := range rb.Steps {
		if i == notify.MaxSteps {
			break
		}
		if step = strings.Trim(step, "\r\n"); strings.TrimSpace(step) != "" {
			steps = append(steps, escape(step))
		}
	}
	text := head
	if len(steps) > 0 {
		// Each step also takes a newline, two fences and what codeBlock
		// may add; an ellipsis ends a cut one.
		room := maxSection - utf8.RuneCountInString(head+more) - len(steps)*12
		budget := min(maxStep, room/len(steps))
		for _, s := range steps {
			block, _ := codeBlock(s, max(budget, 1))
			text += "\n" + block
		}
	}
	return text + more
}

// runbookLink is the runbook's title linked to its page, or the escaped
// title alone when the URL is not http(s).
func runbookLink(rb *notify.RunbookLink) string {
	title := truncate(strings.Join(strings.Fields(rb.Title), " "), maxLabel)
	if title == "" {
		title = "Runbook"
	}
	if l := link(rb.URL, title); l != "" {
		return l
	}
	return escape(title)
}

// codeBlock fences escaped mrkdwn as a code block of at most n characters
// of it, and says whether it had to cut. A run of backticks in the text
// would end the block early (and let the rest be read as formatting), so
// a zero-width space breaks every run of three, and keeps a backtick at
// either end from joining the fence.
func codeBlock(escaped string, n int) (block string, cut bool) {
	for strings.Contains(escaped, "```") {
		escaped = strings.ReplaceAll(escaped, "```", "``\u200b`")
	}
	cutText := truncMrkdwn(escaped, n)
	if strings.HasPrefix(cutText, "`") {
		cutText = "\u200b" + cutText
	}
	if strings.HasSuffix(cutText, "`") {
		cutText += "\u200b"
	}
	return "```" + cutText + "```", utf8.RuneCountInString(escaped) > n
}

// buttons are Ack (the firing members shown, exactly what AckHint says to
// type) and Resolve (the open members shown); none once resolved.
func buttons(m *notify.Message) []slack.BlockElement {
	if m.State == klaxon.StateResolved {
		return nil
	}
	var firing, open []string
	for _, a := range m.Alerts {
		if a.State == klaxon.StateFiring {
			firing = append(firing, fmt.Sprint(a.ID))
		}
		if a.State.Open() {
			open = append(open, fmt.Sprint(a.ID))
		}
	}
	var out []slack.BlockElement
	if len(firing) > 0 {
		b := slack.NewButtonBlockElement(actionAck, idList(firing), plain("Ack"))
		b.Style = slack.StylePrimary
		out = append(out, b)
	}
	if len(open) > 0 {
		out = append(out, slack.NewButtonBlockElement(actionResolve, idList(open), plain("Resolve")))
	}
	return out
}

// idList joins IDs for a button value, within its limit.
func idList(ids []string) string {
	s := strings.Join(ids, " ")
	for len(s) > maxButtonVal {
		ids = ids[:len(ids)-1]
		s = strings.Join(ids, " ")
	}
	return s
}

// changeText is the thread follow-up that says what changed since the
// message last showed state from.
func changeText(m *notify.Message, from klaxon.State) string {
	by := changedBy(m)
	if by != "" {
		by = " by " + actor(truncate(by, maxLabel))
	}
	switch m.State {
	case klaxon.StateAcknowledged:
		return "Acknowledged" + by
	case klaxon.StateResolved:
		return "Resolved" + by
	}
	s := "Firing again"
	if from == klaxon.StateAcknowledged {
		s = "Unacknowledged" + by + ": firing again"
	}
	if hint := m.AckHint(); hint != "" {
		s += ". Reply `" + escape(hint) + "`"
	}
	return s
}

// changedBy is who made the group's last state change: the alert's own
// record for a single alert, else what Message.LastFrom names.
func changedBy(m *notify.Message) string {
	if a := m.Primary(); m.Single() && a != nil {
		switch m.State {
		case klaxon.StateAcknowledged:
			if a.AckedBy != "" {
				return a.AckedBy
			}
		case klaxon.StateResolved:
			if a.ResolvedBy != "" {
				return a.ResolvedBy
			}
		}
	}
	if _, who, ok := strings.Cut(m.LastFrom, " by "); ok {
		return who
	}
	return ""
}

// remindText is the "still firing" thread follow-up.
func remindText(m *notify.Message) string {
	if m.State == klaxon.StateAcknowledged {
		return "Still open: " + escape(m.StateText())
	}
	s := "Still firing…"
	if hint := m.AckHint(); hint != "" {
		s += " Reply `" + escape(hint) + "`"
	}
	return s
}

// actor renders who did something: a Slack user recorded as "slack:U123"
// becomes a mention, anything else escaped text.
func actor(who string) string {
	if id, ok := strings.CutPrefix(who, "slack:"); ok && userID.MatchString(id) {
		return "<@" + id + ">"
	}
	return escape(who)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes text safe in mrkdwn: with &, < and > escaped, Slack parses no
// <!channel>, <@U…> or <url|text> from it.
func escape(s string) string { return escaper.Replace(s) }

// link is a mrkdwn link to u, or "" unless u is an http(s) URL. A URL
// cannot end the link early: |, < and > are encoded, and one with spaces or
// control characters is refused. The label is escaped, and its pipes, which
// mrkdwn has no escape for, become a look-alike (∣), so the link holds
// exactly one |.
func link(u, label string) string {
	u = notify.SafeURL(u)
	if u == "" || strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	u = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(u)
	return "<" + escape(u) + "|" + strings.ReplaceAll(escape(label), "|", "∣") + ">"
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// truncate cuts plain text to at most n characters, ending in "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// truncMrkdwn cuts mrkdwn to at most n characters without leaving half an
// entity (&am) or half a link or mention (<https://…) at the end.
func truncMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := string([]rune(s)[:n-1])
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	if i := strings.LastIndexByte(cut, '<'); i >= 0 && !strings.Contains(cut[i:], ">") {
		cut = cut[:i]
	}
	return cut + "…"
}
