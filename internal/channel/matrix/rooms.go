package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// maxTopic bounds a room's topic: Matrix has no limit of its own short of
// the event's.
const maxTopic = 1000

// createRoom is the createRoom request.
type createRoom struct {
	Name   string   `json:"name"`
	Topic  string   `json:"topic,omitempty"`
	Invite []string `json:"invite,omitempty"`
	Preset string   `json:"preset"`
}

// OpenRoom creates a private room named r.Name with topic r.Topic,
// inviting the people with a Matrix ID, and posts r.Text there mentioning
// r.Invite. It returns the room's ID.
//
// createRoom has no transaction ID: once the room exists, a retry could
// only make a second one and invite everyone again. So a failed first
// post is logged, not returned.
func (c *Channel) OpenRoom(ctx context.Context, r notify.RoomRequest) (string, error) {
	if r.Key == "" || strings.TrimSpace(r.Name) == "" {
		return "", notify.Permanent(errors.New("matrix: room request has no key or name"))
	}
	people := c.people(r.Invite)
	req := createRoom{
		Name:   r.Name,
		Topic:  truncate(strings.TrimSpace(r.Topic), maxTopic),
		Invite: userIDs(nil, people),
		Preset: "private_chat",
	}
	var out struct {
		RoomID string `json:"room_id"`
	}
	if err := c.call(ctx, c.client, "create room", http.MethodPost, "/createRoom", nil, req, &out); err != nil {
		return "", fmt.Errorf("create room %s: %w", r.Name, err)
	}
	if out.RoomID == "" {
		return "", errors.New("matrix create room: no room_id in the answer")
	}
	if msg, ok := renderRoom(r.Text, people); ok {
		if _, err := c.sendMessage(ctx, out.RoomID, r.Key+".open", msg); err != nil {
			c.log.Warn("matrix: posting in a new incident room failed", slog.String("room", out.RoomID), slog.String(logError, err.Error()))
		}
	}
	return out.RoomID, nil
}

// PostRoom posts p.Text in the room, mentioning p.People, under the
// post's key as transaction ID, so a retry never posts it twice.
func (c *Channel) PostRoom(ctx context.Context, p notify.RoomPost) error {
	if p.Key == "" {
		return notify.Permanent(errors.New("matrix: room post has no key"))
	}
	if err := checkRoomID(p.Room); err != nil {
		return err
	}
	msg, ok := renderRoom(p.Text, c.people(p.People))
	if !ok {
		return notify.Permanent(errors.New("matrix: room post has nothing to say"))
	}
	if _, err := c.sendMessage(ctx, p.Room, p.Key, msg); err != nil {
		return fmt.Errorf("post in %s: %w", p.Room, err)
	}
	return nil
}

// SetTopic sets the room's m.room.topic. A topic is plain text: clients
// show it as it is.
func (c *Channel) SetTopic(ctx context.Context, room, topic string) error {
	if err := checkRoomID(room); err != nil {
		return err
	}
	path := "/rooms/" + url.PathEscape(room) + "/state/m.room.topic/"
	body := map[string]string{"topic": truncate(strings.TrimSpace(topic), maxTopic)}
	if err := c.call(ctx, c.client, "set topic", http.MethodPut, path, nil, body, nil); err != nil {
		return fmt.Errorf("set topic of %s: %w", room, err)
	}
	return nil
}

// checkRoomID refuses what OpenRoom cannot have returned. Newer room
// versions' IDs have no server name, so only the sigil is checked.
func checkRoomID(room string) error {
	if !strings.HasPrefix(room, "!") || strings.ContainsFunc(room, func(r rune) bool { return r <= ' ' }) {
		return notify.Permanent(fmt.Errorf("matrix: %q is not a room ID", room))
	}
	return nil
}

// renderRoom is a post in an incident room: the text, then the people it
// calls as pills, all of them in m.mentions. It is an m.text, so it rings;
// ok is false when there is nothing to say.
func renderRoom(text string, people []person) (msg content, ok bool) {
	var d doc
	if text = truncate(strings.TrimSpace(text), maxDescription); text != "" {
		d.add(text, "<p>"+strings.ReplaceAll(esc(text), "\n", "<br>")+"</p>")
	}
	if len(people) > 0 {
		text, html := peopleLine(people)
		d.add(text, "<p>"+html+"</p>")
	}
	if len(d.text) == 0 {
		return content{}, false
	}
	return d.content(msgText, userIDs(nil, people)), true
}
