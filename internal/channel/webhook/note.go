package webhook

import (
	"context"
	"errors"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// NoteType is the "type" of every NotePayload.
const NoteType = "note"

// NotePayload is the JSON body of a note about a group, e.g. the output of
// an alert's diagnostics. It is signed like a Payload, and its delivery ID
// (X-Klaxon-Delivery, and Key) is the same on every retry of the note.
type NotePayload struct {
	Type    string     `json:"type"` // always "note"; a Payload has no type
	Version string     `json:"version"`
	Key     string     `json:"key"`      // the same on a retry of the same note
	GroupID int64      `json:"group_id"` // the group whose thread it belongs to
	AlertID int64      `json:"alert_id"`
	Title   string     `json:"title"`
	URL     string     `json:"url"` // the alert's page in Klaxon
	Items   []NoteItem `json:"items"`
}

// NoteItem is one entry of a NotePayload: for diagnostics, one command.
type NoteItem struct {
	Heading   string `json:"heading"` // the command as run
	Status    string `json:"status"`  // e.g. "exit 0 in 0.4s", "refused: …"
	OK        bool   `json:"ok"`      // ran and succeeded
	Body      string `json:"body"`    // its output, redacted and capped; may be ""
	Truncated bool   `json:"truncated"`
}

// Note posts n. A webhook has no threads: GroupID says which group's
// messages it follows.
func (c *Channel) Note(ctx context.Context, n notify.NoteDelivery) error {
	if n.Note == nil || n.Key == "" {
		return notify.Permanent(errors.New("webhook: note delivery has no note or key"))
	}
	p := NotePayload{
		Type: NoteType, Version: Version, Key: n.Key,
		GroupID: n.Note.GroupID, AlertID: n.Note.AlertID, Title: n.Note.Title, URL: n.Note.URL,
		Items: make([]NoteItem, 0, len(n.Note.Items)),
	}
	for _, it := range n.Note.Items {
		p.Items = append(p.Items, NoteItem{Heading: it.Heading, Status: it.Status, OK: it.OK, Body: it.Body, Truncated: it.Truncated})
	}
	return c.post(ctx, p.Key, p)
}
