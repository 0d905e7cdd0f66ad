package matrix

import (
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// content is an m.room.message event's content, as sent and as received.
type content struct {
	MsgType       string    `json:"msgtype"`
	Body          string    `json:"body"`
	Format        string    `json:"format,omitempty"`
	FormattedBody string    `json:"formatted_body,omitempty"`
	Mentions      *mentions `json:"m.mentions,omitempty"`
	NewContent    *content  `json:"m.new_content,omitempty"`
	RelatesTo     *relation `json:"m.relates_to,omitempty"`
}

// mentions is m.mentions. Sent on every message, even empty: a client or
// server that sees it ignores "@room" and names in the (attacker-written)
// body when deciding whom to notify.
type mentions struct {
	UserIDs []string `json:"user_ids,omitempty"`
}

// relation is m.relates_to: an edit (m.replace), a thread message
// (m.thread) or a plain reply (only m.in_reply_to).
type relation struct {
	RelType       string     `json:"rel_type,omitempty"`
	EventID       string     `json:"event_id,omitempty"`
	IsFallingBack bool       `json:"is_falling_back,omitempty"`
	InReplyTo     *inReplyTo `json:"m.in_reply_to,omitempty"`
}

type inReplyTo struct {
	EventID string `json:"event_id"`
}

const (
	msgText   = "m.text"
	msgNotice = "m.notice"
	htmlFmt   = "org.matrix.custom.html"
	relEdit   = "m.replace"
	relThread = "m.thread"
)

// Limits on attacker-sized text, so a message stays far below the 64 KiB
// event limit even as an edit, which carries it twice, and escaped.
const (
	maxLine        = 300
	maxValue       = 120
	maxDescription = 2000
	maxReplyCode   = 8000 // a command reply's code block (a runbook's steps)
	maxFields      = 15
	maxStep        = 500 // one runbook step
)

// doc builds a message's plain body and its HTML side by side. Every
// string that reaches html goes through esc or href.
type doc struct {
	text []string // lines
	html []string // blocks
}

func (d *doc) add(text, html string) {
	d.text = append(d.text, text)
	d.html = append(d.html, html)
}

func (d *doc) content(msgType string, mention []string) content {
	return content{
		MsgType:       msgType,
		Body:          strings.Join(d.text, "\n"),
		Format:        htmlFmt,
		FormattedBody: strings.Join(d.html, ""),
		Mentions:      &mentions{UserIDs: mention},
	}
}

// render is the message for a group: what the on-call engineer needs in the
// room itself, and the words to type to acknowledge. mention are the
// configured people (critical messages only), oncall the people the group
// calls (Message.Mention): m.mentions has them all, each once.
func render(m *notify.Message, mention []string, oncall []person) content {
	var d doc
	header(&d, m, mention, oncall)
	if m.Single() {
		alert(&d, m, m.Primary())
	} else {
		group(&d, m)
	}
	if hint := m.AckHint(); hint != "" {
		d.add(fmt.Sprintf("Type %q to acknowledge.", hint), "<p>Type <code>"+esc(hint)+"</code> to acknowledge.</p>")
	}
	return d.content(msgText, userIDs(mention, oncall))
}

// header is the coloured headline, the state line, the configured
// mentions and the on-call line. Someone both configured and on call is
// shown on the on-call line only.
func header(d *doc, m *notify.Message, mention []string, oncall []person) {
	headline := oneLine(strings.TrimPrefix(m.Headline(), m.Tag()+" "), maxLine)
	state := m.StateText()
	var details []string
	if m.Severity != "" {
		details = append(details, oneLine(m.Severity, maxValue))
	}
	if a := m.Primary(); m.Single() && !a.StartsAt.IsZero() {
		details = append(details, "started "+a.StartsAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if !m.Single() && m.LastFrom != "" {
		details = append(details, oneLine(m.LastFrom, maxValue))
	}
	stateText, stateHTML := state, "<b>"+esc(state)+"</b>"
	for _, s := range details {
		stateText += " · " + s
		stateHTML += " · " + esc(s)
	}
	color := esc(m.Color())
	h := fmt.Sprintf(`<p><font color="%s" data-mx-color="%s"><b>%s %s</b></font><br>%s`, color, color, esc(m.Tag()), esc(headline), stateHTML)
	d.text = append(d.text, m.Tag()+" "+headline, stateText)
	var configured, pills []string
	for _, id := range mention {
		if !slices.ContainsFunc(oncall, func(p person) bool { return p.id == id }) {
			configured = append(configured, id)
			pills = append(pills, pill(id, id))
		}
	}
	if len(configured) > 0 {
		h += "<br>" + strings.Join(pills, " ")
		d.text = append(d.text, strings.Join(configured, " "))
	}
	if len(oncall) > 0 {
		text, html := peopleLine(oncall)
		h += "<br>On call: " + html
		d.text = append(d.text, "On call: "+text)
	}
	d.html = append(d.html, h+"</p>")
}

// alert renders a single alert: summary, description, labels, links.
func alert(d *doc, m *notify.Message, a *klaxon.Alert) {
	if s := oneLine(a.Summary, maxLine); s != "" {
		d.add(s, "<p><b>"+esc(s)+"</b></p>")
	}
	if desc := truncate(strings.TrimSpace(notify.Description(a)), maxDescription); desc != "" && desc != a.Summary {
		d.add(desc, "<p>"+strings.ReplaceAll(esc(desc), "\n", "<br>")+"</p>")
	}
	fields := notify.Fields(a)
	if len(fields) > maxFields {
		fields = fields[:maxFields]
	}
	if len(fields) > 0 {
		var text, h []string
		for _, f := range fields {
			name, value := oneLine(f.Name, maxValue), oneLine(f.Value, maxValue)
			text = append(text, name+": "+value)
			h = append(h, "<b>"+esc(name)+":</b> "+esc(value))
		}
		d.add(strings.Join(text, " · "), "<p>"+strings.Join(h, " · ")+"</p>")
	}
	runbook(d, m.Runbook)
	links(d, []link{
		{"Runbook", annotationRunbook(m, a)},
		{"Source", notify.SafeURL(a.SourceURL)},
		{fmt.Sprintf("Alert #%d in Klaxon", a.ID), notify.SafeURL(m.URL)},
	})
}

// group renders a group: its labels, its first members and how many more.
func group(d *doc, m *notify.Message) {
	var text, h []string
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if k == "alertname" {
			continue // the headline's title
		}
		name, value := oneLine(k, maxValue), oneLine(m.Labels[k], maxValue)
		text = append(text, name+": "+value)
		h = append(h, "<b>"+esc(name)+":</b> "+esc(value))
	}
	if len(text) > 0 {
		d.add(strings.Join(text, " · "), "<p>"+strings.Join(h, " · ")+"</p>")
	}
	var items []string
	for _, a := range m.Alerts {
		state := string(a.State)
		switch {
		case a.State == klaxon.StateAcknowledged && a.AckedBy != "":
			state += " by " + oneLine(a.AckedBy, maxValue)
		case a.State == klaxon.StateResolved && a.ResolvedBy != "":
			state += " by " + oneLine(a.ResolvedBy, maxValue)
		}
		parts := []string{state}
		if where := oneLine(a.Where(), maxValue); where != "" {
			parts = append([]string{where}, parts...)
		}
		if s := oneLine(a.Summary, maxLine); s != "" {
			parts = append(parts, s)
		}
		line := strings.Join(parts, " · ")
		id := fmt.Sprintf("#%d", a.ID)
		d.text = append(d.text, "- "+id+" "+line)
		label := esc(id)
		if u := notify.SafeURL(m.AlertURL(a.ID)); u != "" {
			label = fmt.Sprintf(`<a href="%s">%s</a>`, esc(u), label)
		}
		items = append(items, "<li>"+label+" "+esc(line)+"</li>")
	}
	if len(items) > 0 {
		d.html = append(d.html, "<ul>"+strings.Join(items, "")+"</ul>")
	}
	if more := m.Counts.Total() - len(m.Alerts); more > 0 {
		d.add(fmt.Sprintf("… and %d more", more), fmt.Sprintf("<p>… and %d more</p>", more))
	}
	runbook(d, m.Runbook)
	links(d, []link{{"Open in Klaxon", notify.SafeURL(m.URL)}})
}

// runbook shows the runbook Klaxon matched: its title as a link, its first
// steps as code to copy, and how many more it has. The steps carry label
// values, so they are escaped like any alert text.
func runbook(d *doc, rb *notify.RunbookLink) {
	if rb == nil {
		return
	}
	title := oneLine(rb.Title, maxLine)
	if title == "" {
		title = "Runbook"
	}
	text, h := "📖 Runbook: "+title, "<p>📖 Runbook: "+esc(title)+"</p>"
	if u := notify.SafeURL(rb.URL); u != "" {
		text += " — " + u
		h = fmt.Sprintf(`<p>📖 Runbook: <a href="%s">%s</a></p>`, esc(u), esc(title))
	}
	d.add(text, h)
	for i, step := range rb.Steps {
		if i == notify.MaxSteps {
			break
		}
		step = truncate(strings.Trim(step, "\r\n"), maxStep)
		if strings.TrimSpace(step) == "" {
			continue
		}
		d.add(indent(step), "<pre><code>"+esc(step)+"</code></pre>")
	}
	if rb.More > 0 {
		more := moreSteps(rb.More)
		d.add(more, "<p>"+esc(more)+"</p>")
	}
}

// moreSteps says how many steps the message leaves to the runbook's page.
func moreSteps(n int) string {
	if n == 1 {
		return "+1 more step in the runbook"
	}
	return fmt.Sprintf("+%d more steps in the runbook", n)
}

// annotationRunbook is the alert's runbook_url annotation, shown only when
// Klaxon has no runbook of its own for the message.
func annotationRunbook(m *notify.Message, a *klaxon.Alert) string {
	if m.Runbook != nil {
		return ""
	}
	return notify.RunbookURL(a)
}

// indent is preformatted text for the plain body: every line indented
// four spaces, as Markdown reads a code block.
func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

type link struct{ text, url string }

// links renders the links that are set, as one line of HTML and one text
// line each. Only http(s) URLs reach here (notify.SafeURL).
func links(d *doc, ls []link) {
	var h []string
	for _, l := range ls {
		if l.url == "" {
			continue
		}
		d.text = append(d.text, l.text+": "+l.url)
		h = append(h, fmt.Sprintf(`<a href="%s">%s</a>`, esc(l.url), esc(l.text)))
	}
	if len(h) > 0 {
		d.html = append(d.html, "<p>"+strings.Join(h, " · ")+"</p>")
	}
}

// replacement is the edit that turns event into msg: the fallback for
// clients without edits, and the full new content. The outer m.mentions is
// empty: only newly mentioned users belong there, and an edit never adds
// any (the spec's push rules would not notify for an edit anyway).
func replacement(msg content, event string) content {
	newContent := msg
	return content{
		MsgType:       msg.MsgType,
		Body:          "* " + msg.Body,
		Format:        msg.Format,
		FormattedBody: "* " + msg.FormattedBody,
		Mentions:      &mentions{},
		NewContent:    &newContent,
		RelatesTo:     &relation{RelType: relEdit, EventID: event},
	}
}

// reminder is the "still firing" follow-up in the thread of root.
func reminder(m *notify.Message, root string, mention []string) content {
	headline := oneLine(m.Headline(), maxLine)
	var d doc
	d.add("Reminder: "+headline+" is still "+m.StateText()+".",
		"<p><b>Reminder:</b> "+esc(headline)+" is still <b>"+esc(m.StateText())+"</b>.</p>")
	if hint := m.AckHint(); hint != "" {
		d.add(fmt.Sprintf("Type %q to acknowledge.", hint), "<p>Type <code>"+esc(hint)+"</code> to acknowledge.</p>")
	}
	if len(mention) > 0 {
		var pills []string
		for _, id := range mention {
			pills = append(pills, pill(id, id))
		}
		d.add(strings.Join(mention, " "), "<p>"+strings.Join(pills, " ")+"</p>")
	}
	c := d.content(msgText, mention)
	c.RelatesTo = threadReply(root, root)
	return c
}

// notice is a reply to a command, in the thread of root and answering
// event: a notice, as bots send, so other bots do not answer it.
func notice(reply notify.Reply, root, event string) content {
	text := truncate(strings.TrimSpace(reply.Text), maxDescription)
	body, html := text, strings.ReplaceAll(esc(text), "\n", "<br>")
	if reply.Code != "" {
		code := truncate(reply.Code, maxReplyCode)
		body += "\n\n" + code
		html += "<pre><code>" + esc(code) + "</code></pre>"
	}
	return content{
		MsgType:       msgNotice,
		Body:          body,
		Format:        htmlFmt,
		FormattedBody: html,
		Mentions:      &mentions{},
		RelatesTo:     threadReply(root, event),
	}
}

// threadReply relates a message to the thread of root, replying to event.
// Answering the root itself, the reply is only a fallback for clients
// without threads (is_falling_back); answering a message inside the
// thread, it is a real reply that quotes that message.
func threadReply(root, event string) *relation {
	return &relation{RelType: relThread, EventID: root, IsFallingBack: root == event, InReplyTo: &inReplyTo{EventID: event}}
}

// esc escapes text for formatted_body: every label and annotation is
// attacker-written.
func esc(s string) string { return html.EscapeString(s) }

// oneLine folds s to one line of at most n characters, so a label cannot
// forge lines of the plain body.
func oneLine(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
