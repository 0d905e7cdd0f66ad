package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Limits on a note: each item's body starts at maxNoteBody characters and
// is halved until the event fits in maxNoteEvent bytes (the spec's 64 KiB
// less room for the homeserver's own fields).
const (
	maxNoteBody  = 8000
	minNoteBody  = 200
	maxNoteEvent = 60000
)

// Note posts n as a notice in the thread of the group's message. Its
// transaction ID is the note's key, so a retry never posts it twice.
func (c *Channel) Note(ctx context.Context, n notify.NoteDelivery) error {
	if n.Note == nil || n.Key == "" {
		return notify.Permanent(errors.New("matrix: note delivery has no note or key"))
	}
	r, err := parseRef(n.Ref)
	if err != nil {
		return notify.Permanent(err)
	}
	if _, err := c.sendMessage(ctx, r.Room, n.Key, fitNote(n.Note, r.Event)); err != nil {
		return fmt.Errorf("note in %s: %w", r.Room, err)
	}
	return nil
}

// fitNote renders n in the thread of root, cutting the items' bodies
// until the event is well within the homeserver's limit.
func fitNote(n *notify.Note, root string) content {
	limit := maxNoteBody
	for {
		c := renderNote(n, root, limit)
		b, err := marshal(c)
		if (err == nil && len(b) <= maxNoteEvent) || limit <= minNoteBody {
			return c
		}
		limit /= 2
	}
}

// renderNote is a note as a notice in the thread of root: the title with a
// link to the alert, then each item's heading and status, its body
// collapsed under them (<details>) and cut to maxBody characters.
func renderNote(n *notify.Note, root string, maxBody int) content {
	var d doc
	title := oneLine(n.Title, maxLine)
	alertLabel := fmt.Sprintf("alert %d", n.AlertID)
	if u := notify.SafeURL(n.URL); u != "" {
		d.add(title+" — "+u, fmt.Sprintf(`<p><b>%s</b> (<a href="%s">%s</a>)</p>`, esc(title), esc(u), esc(alertLabel)))
	} else {
		d.add(title, "<p><b>"+esc(title)+"</b></p>")
	}
	for _, it := range n.Items {
		noteItem(&d, it, notify.SafeURL(n.URL), maxBody)
	}
	c := d.content(msgNotice, nil)
	c.RelatesTo = threadReply(root, root)
	return c
}

// noteItem adds one item: "✅ heading — status", then its body.
func noteItem(d *doc, it notify.NoteItem, klaxonURL string, maxBody int) {
	heading, status := oneLine(it.Heading, maxLine), oneLine(it.Status, maxLine)
	line := it.Mark + " " + heading
	summary := it.Mark + " <code>" + esc(heading) + "</code>"
	if status != "" {
		line += " — " + status
		summary += " — " + esc(status)
	}
	body := strings.Trim(it.Body, "\r\n")
	if strings.TrimSpace(body) == "" {
		d.add(line, "<p>"+summary+"</p>")
		return
	}
	cutBody := truncate(body, maxBody)
	h := "<details><summary>" + summary + "</summary><pre><code>" + esc(cutBody) + "</code></pre>"
	text := line + "\n" + indent(cutBody)
	if cutBody != body || it.Truncated {
		if klaxonURL != "" {
			text += "\n… (cut, see Klaxon: " + klaxonURL + ")"
			h += fmt.Sprintf(`<p>… (cut, see <a href="%s">Klaxon</a>)</p>`, esc(klaxonURL))
		} else {
			text += "\n… (cut, see Klaxon)"
			h += "<p>… (cut, see Klaxon)</p>"
		}
	}
	d.add(text, h+"</details>")
}
