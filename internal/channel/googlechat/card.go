package googlechat

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Limits that keep a card readable and well under Chat's 32,000 bytes.
const (
	maxFields     = 10   // labels shown of an alert
	maxValue      = 300  // characters of a label value
	maxParagraph  = 1500 // characters of a summary or description
	maxMemberText = 300  // characters of a member's line in a group
	maxStep       = 500  // characters of a runbook step
)

// chatMessage is the part of Chat's Message resource Klaxon sends.
type chatMessage struct {
	Text    string      `json:"text,omitempty"`
	CardsV2 []cardV2    `json:"cardsV2,omitempty"`
	Thread  *chatThread `json:"thread,omitempty"`
}

type chatThread struct {
	Name      string `json:"name,omitempty"`
	ThreadKey string `json:"threadKey,omitempty"`
}

type cardV2 struct {
	CardID string `json:"cardId"`
	Card   card   `json:"card"`
}

type card struct {
	Header   *cardHeader `json:"header,omitempty"`
	Sections []section   `json:"sections"`
}

type cardHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

type section struct {
	Header      string `json:"header,omitempty"`
	Collapsible bool   `json:"collapsible,omitempty"`
	// UncollapsibleWidgetsCount is set (to 0) on collapsible sections:
	// all their widgets fold under the header.
	UncollapsibleWidgetsCount *int     `json:"uncollapsibleWidgetsCount,omitempty"`
	Widgets                   []widget `json:"widgets"`
}

// widget sets exactly one of its fields.
type widget struct {
	TextParagraph *textParagraph `json:"textParagraph,omitempty"`
	DecoratedText *decoratedText `json:"decoratedText,omitempty"`
	ButtonList    *buttonList    `json:"buttonList,omitempty"`
}

type textParagraph struct {
	Text string `json:"text"`
}

type decoratedText struct {
	TopLabel  string `json:"topLabel,omitempty"`
	Text      string `json:"text"`
	WrapText  bool   `json:"wrapText,omitempty"`
	StartIcon *icon  `json:"startIcon,omitempty"`
}

type icon struct {
	KnownIcon string `json:"knownIcon"`
}

type buttonList struct {
	Buttons []button `json:"buttons"`
}

type button struct {
	Text    string  `json:"text"`
	OnClick onClick `json:"onClick"`
}

type onClick struct {
	OpenLink openLink `json:"openLink"`
}

type openLink struct {
	URL string `json:"url"`
}

// Escaping. Chat's message text gives meaning to <…> (<users/123> mentions,
// <users/all>, <https://x|label> links) and decodes &amp; &lt; &gt;; card
// text fields take a small HTML subset. Alert text is attacker-influenced,
// so every piece of it goes through one of these, and the markup Klaxon
// adds is written around the escaped text.

// escText escapes a string for a message's text.
func escText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escHTML escapes a string for a card's formatted text, keeping its line
// breaks. Script-capable URL schemes lose their colon to an entity (it
// still reads as one), so nothing downstream can take the text for a link.
func escHTML(s string) string {
	s = strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
	return scriptScheme.ReplaceAllString(s, "$1&#58;")
}

var scriptScheme = regexp.MustCompile(`(?i)\b(javascript|vbscript|data)\s*:`)

// cut shortens s to n characters, ending with an ellipsis when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// mentionText is the text that notifies people: <users/123> for each.
func mentionText(users []string) string {
	var b strings.Builder
	for _, u := range users {
		b.WriteString("<" + u + "> ") // validated in New: users/[0-9A-Za-z]+
	}
	return b.String()
}

// renderCard is the group's first post: a one-line text (what phone
// notifications show, with the mentions, and the on-call line when there
// is one) and a card with the details.
func renderCard(m *notify.Message, mentions []string, oncall string) chatMessage {
	var widgets []widget
	if m.Single() {
		widgets = singleWidgets(m)
	} else {
		widgets = groupWidgets(m)
	}
	if hint := m.AckHint(); hint != "" {
		widgets = append(widgets, paragraph("To acknowledge, tell Klaxon: <b>"+escHTML(hint)+"</b>"))
	}
	sections := []section{{Widgets: widgets}}
	if rb := runbookSection(m.Runbook); rb != nil {
		sections = append(sections, *rb)
	}
	if buttons := linkButtons(m); len(buttons) > 0 {
		sections = append(sections, section{Widgets: []widget{{ButtonList: &buttonList{Buttons: buttons}}}})
	}
	// A section must not be empty.
	if len(sections[0].Widgets) == 0 {
		sections[0].Widgets = []widget{paragraph(escHTML(m.StateText()))}
	}
	text := mentionText(mentions) + escText(m.Headline())
	if oncall != "" {
		text += "\n" + oncall
	}
	return chatMessage{
		Text: text,
		CardsV2: []cardV2{{
			CardID: ThreadKey(m.GroupID),
			Card: card{
				// Chat documents no formatting for header text; it is
				// escaped all the same, so alert text can never become
				// markup there. The cost: a rare title shows "&amp;".
				Header:   &cardHeader{Title: escHTML(m.Headline()), Subtitle: escHTML(m.StateText())},
				Sections: sections,
			},
		}},
		Thread: &chatThread{ThreadKey: ThreadKey(m.GroupID)},
	}
}

func paragraph(formatted string) widget {
	return widget{TextParagraph: &textParagraph{Text: formatted}}
}

func field(label, value string) widget {
	return widget{DecoratedText: &decoratedText{TopLabel: escHTML(label), Text: escHTML(cut(value, maxValue)), WrapText: true}}
}

// singleWidgets show one alert: what it says and where it is.
func singleWidgets(m *notify.Message) []widget {
	a := m.Primary()
	var out []widget
	if a.Summary != "" {
		out = append(out, paragraph("<b>"+escHTML(cut(a.Summary, maxParagraph))+"</b>"))
	}
	if d := notify.Description(a); d != "" && d != a.Summary {
		out = append(out, paragraph(escHTML(cut(d, maxParagraph))))
	}
	for i, f := range notify.Fields(a) {
		if i == maxFields {
			break
		}
		out = append(out, field(f.Name, f.Value))
	}
	return out
}

// groupWidgets show a group: its counts, its labels, and its first members.
func groupWidgets(m *notify.Message) []widget {
	c := m.Counts
	out := []widget{paragraph(fmt.Sprintf("<b>%d</b> firing · <b>%d</b> acknowledged · <b>%d</b> resolved", c.Firing, c.Acknowledged, c.Resolved))}
	for i, f := range notify.Fields(&klaxon.Alert{Labels: m.Labels}) {
		if i == maxFields {
			break
		}
		out = append(out, field(f.Name, f.Value))
	}
	for _, a := range m.Alerts {
		label := fmt.Sprintf("#%d · %s", a.ID, strings.ToUpper(string(a.State)))
		if a.State == klaxon.StateAcknowledged && a.AckedBy != "" {
			label += " by " + a.AckedBy
		}
		text := a.Summary
		if w := a.Where(); w != "" && !strings.Contains(text, w) {
			text = w + ": " + text
		}
		if text == "" {
			text = a.Name()
		}
		body := escHTML(cut(text, maxMemberText))
		if u := notify.SafeURL(m.AlertURL(a.ID)); u != "" {
			body = fmt.Sprintf(`<a href="%s">#%d</a> %s`, html.EscapeString(u), a.ID, body)
		}
		out = append(out, widget{DecoratedText: &decoratedText{TopLabel: escHTML(label), Text: body, WrapText: true}})
	}
	if more := c.Total() - len(m.Alerts); more > 0 {
		out = append(out, paragraph(fmt.Sprintf("… and %d more", more)))
	}
	return out
}

// linkButtons open the runbook, the source and Klaxon: http(s) links only.
func linkButtons(m *notify.Message) []button {
	var out []button
	add := func(text, u string) {
		if u = notify.SafeURL(u); u != "" {
			out = append(out, button{Text: text, OnClick: onClick{OpenLink: openLink{URL: u}}})
		}
	}
	if a := m.Primary(); a != nil {
		if m.Runbook == nil { // else Klaxon's runbook has its section
			add("Runbook", notify.RunbookURL(a))
		}
		add("Source", a.SourceURL)
	}
	add("Open in Klaxon", m.URL)
	return out
}

// runbookSection shows the runbook Klaxon matched: its title linked to
// its page, its first steps (cards have no monospace, so each is a
// paragraph of its own), and how many more it has. Nil without one.
func runbookSection(rb *notify.RunbookLink) *section {
	if rb == nil {
		return nil
	}
	title := escHTML(cut(strings.Join(strings.Fields(rb.Title), " "), maxValue))
	if title == "" {
		title = "Runbook"
	}
	if u := notify.SafeURL(rb.URL); u != "" {
		title = fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(u), title)
	}
	s := &section{Header: "Runbook", Widgets: []widget{{DecoratedText: &decoratedText{
		Text: title, WrapText: true, StartIcon: &icon{KnownIcon: "DESCRIPTION"},
	}}}}
	for i, step := range rb.Steps {
		if i == notify.MaxSteps {
			break
		}
		if step = strings.Trim(step, "\r\n"); strings.TrimSpace(step) != "" {
			s.Widgets = append(s.Widgets, paragraph(escHTML(cut(step, maxStep))))
		}
	}
	switch {
	case rb.More == 1:
		s.Widgets = append(s.Widgets, paragraph("<i>+1 more step in the runbook</i>"))
	case rb.More > 1:
		s.Widgets = append(s.Widgets, paragraph(fmt.Sprintf("<i>+%d more steps in the runbook</i>", rb.More)))
	}
	return s
}

// followUp is the reply a later send posts in the group's thread, or ""
// when nothing people care about changed and no reminder is due.
func followUp(m *notify.Message, prev ref, remind bool, mentions []string) string {
	var lines []string
	switch {
	case m.State != prev.State:
		lines = append(lines, escText(m.Headline()+" — "+stateChange(m)))
	case m.Counts != prev.Counts && !m.Single():
		lines = append(lines, escText(m.Headline()+" — now "+countsText(m)))
	}
	if remind && m.State == klaxon.StateFiring {
		line := escText("Still firing: " + m.Headline())
		if hint := m.AckHint(); hint != "" {
			line += escText(" — to acknowledge, tell Klaxon: ") + "`" + escText(hint) + "`"
		}
		lines = append(lines, mentionText(mentions)+line)
	}
	return strings.Join(lines, "\n")
}

// stateChange says what happened to the group, e.g. "acknowledged by alice".
func stateChange(m *notify.Message) string {
	var s string
	a := m.Primary()
	switch m.State {
	case klaxon.StateAcknowledged:
		s = "acknowledged"
		if m.Single() && a.AckedBy != "" {
			s += " by " + a.AckedBy
		} else if strings.HasPrefix(m.LastFrom, "acknowledged") {
			s = m.LastFrom
		}
	case klaxon.StateResolved:
		s = "resolved"
		if m.Single() && a.ResolvedBy != "" {
			s += " by " + a.ResolvedBy
		} else if strings.HasPrefix(m.LastFrom, "resolved") {
			s = m.LastFrom
		}
	default:
		s = "firing again"
		if hint := m.AckHint(); hint != "" {
			s += " (to acknowledge: " + hint + ")"
		}
	}
	if !m.Single() {
		s += "; " + countsText(m)
	}
	return s
}

func countsText(m *notify.Message) string {
	c := m.Counts
	return fmt.Sprintf("%d alerts: %d firing, %d acknowledged, %d resolved", c.Total(), c.Firing, c.Acknowledged, c.Resolved)
}
