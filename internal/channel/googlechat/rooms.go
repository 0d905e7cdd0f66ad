package googlechat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// threadName is a thread's resource name, as OpenRoom returns it.
var threadName = regexp.MustCompile(`^spaces/[^/\s]+/threads/[^/\s]+$`)

// OpenRoom starts the incident's thread in the space: r.Text mentioning
// r.Invite, under a thread key and request ID derived from r.Key, so a
// retry finds the thread and the post the first attempt made. It returns
// the thread's name. A thread has no name or topic of its own, and
// nobody can be invited: the people are mentioned.
func (c *Channel) OpenRoom(ctx context.Context, r notify.RoomRequest) (string, error) {
	if r.Key == "" {
		return "", notify.Permanent(errors.New("googlechat: room request has no key"))
	}
	people, _ := c.callList(r.Invite)
	text := renderRoom(r.Text, people)
	if text == "" {
		return "", notify.Permanent(errors.New("googlechat: room request has nothing to say"))
	}
	msg := chatMessage{Text: text, Thread: &chatThread{ThreadKey: roomThreadKey(r.Key)}}
	got, err := c.post(ctx, msg, r.Key+".open")
	if err != nil {
		return "", err
	}
	if !threadName.MatchString(got.Thread.Name) {
		return "", fmt.Errorf("googlechat: the answer names no thread (%q)", got.Thread.Name)
	}
	return got.Thread.Name, nil
}

// roomThreadKey is the key of an incident's thread, apart from the
// groups' (ThreadKey).
func roomThreadKey(key string) string { return "klaxon-room-" + key }

// PostRoom posts p.Text in the incident's thread, mentioning p.People. The
// request ID is the post's key, so a retry never posts it twice.
func (c *Channel) PostRoom(ctx context.Context, p notify.RoomPost) error {
	if !threadName.MatchString(p.Room) {
		return notify.Permanent(fmt.Errorf("googlechat: %q is not a thread", p.Room))
	}
	people, _ := c.callList(p.People)
	text := renderRoom(p.Text, people)
	if text == "" {
		return notify.Permanent(errors.New("googlechat: room post has nothing to say"))
	}
	_, err := c.post(ctx, chatMessage{Text: text, Thread: &chatThread{Name: p.Room}}, p.Key)
	return err
}

// SetTopic does nothing: a thread has no topic.
func (c *Channel) SetTopic(context.Context, string, string) error { return nil }

// renderRoom is a post in an incident's thread: the text, escaped, then
// the people it calls.
func renderRoom(text, people string) string {
	var lines []string
	if text = strings.TrimSpace(text); text != "" {
		lines = append(lines, escText(cut(text, maxRoomText)))
	}
	if people != "" {
		lines = append(lines, people)
	}
	return strings.Join(lines, "\n")
}

// maxRoomText bounds a room post's text, well within Chat's 32,000 bytes
// even escaped.
const maxRoomText = 4000
