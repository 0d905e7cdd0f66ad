package googlechat

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Limits on a note: each item's body starts at maxNoteBody characters and
// is halved until the message fits in maxNoteBytes (Chat refuses messages
// past 32,000 bytes); past maxNoteItems, items are only counted.
const (
	maxNoteBody  = 4000
	minNoteBody  = 100
	maxNoteBytes = 30000
	maxNoteItems = 20
)

// Note posts n as a card in the group's thread, found by its thread key as
// Send's follow-ups find it. The request ID is the note's key, so a retry
// returns the card the first attempt posted instead of posting another.
func (c *Channel) Note(ctx context.Context, n notify.NoteDelivery) error {
	if n.Note == nil {
		return notify.Permanent(errors.New("googlechat: note delivery has no note"))
	}
	_, err := c.post(ctx, fitNote(n.Note), n.Key)
	return err
}

// fitNote renders n, cutting the items' bodies until the message is well
// within Chat's limit.
func fitNote(n *notify.Note) chatMessage {
	limit := maxNoteBody
	for {
		msg := renderNote(n, limit)
		b, err := encode(msg)
		if (err == nil && len(b) <= maxNoteBytes) || limit <= minNoteBody {
			return msg
		}
		limit /= 2
	}
}

// renderNote is a note as a card: its title in the header, one collapsed
// section per item (headed by its outcome and heading, holding its status
// and its body cut to maxBody characters), and a link to the alert.
func renderNote(n *notify.Note, maxBody int) chatMessage {
	title := cut(strings.Join(strings.Fields(n.Title), " "), maxParagraph)
	klaxonURL := notify.SafeURL(n.URL)
	items := n.Items
	if len(items) > maxNoteItems {
		items = items[:maxNoteItems]
	}
	var sections []section
	for _, it := range items {
		sections = append(sections, noteSection(it, klaxonURL, maxBody))
	}
	var last []widget
	if left := len(n.Items) - len(items); left > 0 {
		last = append(last, paragraph(fmt.Sprintf("… and %d more", left)))
	}
	if klaxonURL != "" {
		last = append(last, widget{ButtonList: &buttonList{Buttons: []button{{
			Text: fmt.Sprintf("Alert %d in Klaxon", n.AlertID), OnClick: onClick{OpenLink: openLink{URL: klaxonURL}},
		}}}})
	}
	if len(last) > 0 {
		sections = append(sections, section{Widgets: last})
	}
	if len(sections) == 0 {
		sections = []section{{Widgets: []widget{paragraph("No output.")}}}
	}
	return chatMessage{
		Text: escText(title),
		CardsV2: []cardV2{{
			CardID: fmt.Sprintf("klaxon-note-%d", n.AlertID),
			Card:   card{Header: &cardHeader{Title: escHTML(title)}, Sections: sections},
		}},
		Thread: &chatThread{ThreadKey: ThreadKey(n.GroupID)},
	}
}

// noteSection is one item, collapsed under "✅ heading": its status, then
// its body as a paragraph, saying where the rest is when it was cut (here,
// or at the output cap).
func noteSection(it notify.NoteItem, klaxonURL string, maxBody int) section {
	zero := 0
	s := section{
		Header:                    escHTML(it.Mark + " " + cut(strings.Join(strings.Fields(it.Heading), " "), maxValue)),
		Collapsible:               true,
		UncollapsibleWidgetsCount: &zero,
	}
	status := cut(strings.Join(strings.Fields(it.Status), " "), maxValue)
	if status == "" {
		status = "done"
	}
	s.Widgets = append(s.Widgets, widget{DecoratedText: &decoratedText{TopLabel: "Status", Text: escHTML(status), WrapText: true}})
	body := strings.Trim(it.Body, "\r\n")
	if strings.TrimSpace(body) == "" {
		return s
	}
	text := escHTML(cut(body, maxBody))
	if len([]rune(body)) > maxBody || it.Truncated {
		if klaxonURL != "" {
			text += fmt.Sprintf(`<br><i>… (cut, see <a href="%s">Klaxon</a>)</i>`, html.EscapeString(klaxonURL))
		} else {
			text += "<br><i>… (cut, see Klaxon)</i>"
		}
	}
	s.Widgets = append(s.Widgets, paragraph(text))
	return s
}
