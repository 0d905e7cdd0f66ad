package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// noteMetadataType marks the notes Klaxon posts, with the note's key, so
// they can be told apart from the rest of a thread.
const noteMetadataType = "klaxon_note"

// Limits on a note. Slack refuses a message whose blocks' text adds up to
// past about 12,000 characters (msg_blocks_too_long, undocumented), and
// any with more than 50 blocks: a note takes one block for its title, two
// per item and one for the items it leaves out.
const (
	maxNoteText  = 10000
	maxNoteItems = 20
	maxNoteLine  = 300 // an item's heading and status
	minNoteBody  = 100
)

// Note posts n in the thread of the group's message. Slack has no
// idempotency key: a retry after a lost answer posts the note again, as a
// reminder's retry does.
func (c *Channel) Note(ctx context.Context, n notify.NoteDelivery) error {
	if n.Note == nil {
		return notify.Permanent(errors.New("slack: note delivery has no note"))
	}
	r, err := c.parseRef(n.Ref)
	if err != nil {
		return err
	}
	out := renderNote(n.Note)
	if _, _, err := c.api.PostMessageContext(ctx, r.Channel,
		slack.MsgOptionText(out.text, false),
		slack.MsgOptionBlocks(out.blocks...),
		slack.MsgOptionTS(r.TS),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    noteMetadataType,
			EventPayload: map[string]any{"key": n.Key},
		}),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	); err != nil {
		return classify("post note", err)
	}
	return nil
}

// renderNote lays out a note: its title and a link to the alert, then per
// item a plain-text line (mark, heading, status: Slack parses nothing in
// plain_text, so attacker text needs no escaping there) and its body as a
// code block, cut to share maxNoteText among the items.
func renderNote(n *notify.Note) rendered {
	title := escape(truncate(n.Title, maxLabel))
	head := "*" + title + "*"
	if l := link(n.URL, fmt.Sprintf("alert %d", n.AlertID)); l != "" {
		head += " · " + l
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncMrkdwn(head, maxSection)), nil, nil)}

	items := n.Items
	if len(items) > maxNoteItems {
		items = items[:maxNoteItems]
	}
	used, bodies := len(head), 0
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = truncate(noteLine(it), maxNoteLine)
		used += len(lines[i])
		if strings.TrimSpace(it.Body) != "" {
			bodies++
		}
	}
	budget := maxSection - 100 // room for the fences and the cut notice
	if bodies > 0 {
		budget = max(min(budget, (maxNoteText-used)/bodies), minNoteBody)
	}
	for i, it := range items {
		blocks = append(blocks, slack.NewContextBlock("", plain(lines[i])))
		if body := noteBody(it, n.URL, budget); body != "" {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(body), nil, nil))
		}
	}
	if left := len(n.Items) - len(items); left > 0 {
		more := fmt.Sprintf("… and %d more", left)
		if l := link(n.URL, "Klaxon"); l != "" {
			more += ", see " + l
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(more)))
	}
	return rendered{text: truncMrkdwn(title, maxReply), blocks: blocks}
}

// noteLine is an item's outcome at a glance, e.g. "✅ kubectl get pods —
// exit 0 in 0.4s", as plain text.
func noteLine(it notify.NoteItem) string {
	s := it.Mark + " " + strings.Join(strings.Fields(it.Heading), " ")
	if status := strings.Join(strings.Fields(it.Status), " "); status != "" {
		s += " — " + status
	}
	return s
}

// noteBody is an item's output as a code block of at most budget
// characters, saying where the rest is when it was cut (here, or at the
// output cap); "" for no output.
func noteBody(it notify.NoteItem, klaxonURL string, budget int) string {
	body := strings.Trim(it.Body, "\r\n")
	if strings.TrimSpace(body) == "" {
		return ""
	}
	s, cut := codeBlock(escape(body), budget)
	if cut || it.Truncated {
		if l := link(klaxonURL, "Klaxon"); l != "" {
			s += "\n… (cut, see " + l + ")"
		} else {
			s += "\n… (cut, see Klaxon)"
		}
	}
	return s
}
