package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// roomMetadataType marks the posts Klaxon makes in incident channels, with
// the post's key.
const roomMetadataType = "klaxon_room"

const (
	maxChannelName = 80  // Slack's limit on a channel name
	maxTopic       = 250 // Slack refuses longer topics (too_long)
	nameTries      = 5   // the name, then name-2 … name-5
)

// OpenRoom creates a public channel named r.Name (r.Name-2, -3… while the
// name is taken), invites the people with a Slack ID, sets the topic and
// posts r.Text mentioning r.Invite. It returns the channel's ID.
//
// Slack has no idempotency key: once the channel exists, a retry could
// only make a second one. So from then on OpenRoom succeeds, and a failed
// invite, topic or first post is logged, not returned: the channel is
// public, and the topic is set again as the incident changes.
func (c *Channel) OpenRoom(ctx context.Context, r notify.RoomRequest) (string, error) {
	if strings.TrimSpace(r.Name) == "" {
		return "", notify.Permanent(errors.New("slack: room request has no name"))
	}
	room, err := c.createChannel(ctx, r.Name)
	if err != nil {
		return "", err
	}
	log := c.env.Logger.With(logChannel, c.name, "room", room)
	// One call per person: without force, Slack invites nobody if it
	// refuses one (a deactivated account, a guest).
	for _, id := range c.slackIDs(r.Invite) {
		if _, err := c.api.InviteUsersToConversationContext(ctx, room, id); err != nil && !isSlackError(err, "already_in_channel") {
			log.Warn("slack: inviting to an incident channel failed", "user", id, logErr, err)
		}
	}
	if strings.TrimSpace(r.Topic) != "" {
		if err := c.SetTopic(ctx, room, r.Topic); err != nil {
			log.Warn("slack: setting an incident channel's topic failed", logErr, err)
		}
	}
	people, _ := c.callList(r.Invite, true)
	if text := renderRoom(r.Text, people); text != "" {
		if err := c.postRoom(ctx, room, r.Key, text); err != nil {
			log.Warn("slack: posting in a new incident channel failed", logErr, err)
		}
	}
	return room, nil
}

// createChannel makes the channel, trying numbered names while Slack says
// the name is taken, and returns its ID.
func (c *Channel) createChannel(ctx context.Context, name string) (string, error) {
	for i := 1; ; i++ {
		try := channelName(name, i)
		ch, err := c.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: try})
		if err == nil {
			if ch == nil || ch.ID == "" {
				return "", fmt.Errorf("slack create channel %s: no channel ID in the answer", try)
			}
			return ch.ID, nil
		}
		if !isSlackError(err, "name_taken") || i == nameTries {
			return "", classify("create channel "+try, err)
		}
	}
}

// channelName is name for the first try, then name-n, cut to Slack's
// limit.
func channelName(name string, n int) string {
	suffix := ""
	if n > 1 {
		suffix = fmt.Sprintf("-%d", n)
	}
	if len(name)+len(suffix) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName-len(suffix)], "-")
	}
	return name + suffix
}

// slackIDs are the Slack IDs of users, each once.
func (c *Channel) slackIDs(users []klaxon.User) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range users {
		if id := c.MentionOf(u); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// PostRoom posts p.Text in the incident's channel, mentioning p.People.
// As with pages, a retry after a lost answer posts again; the metadata
// carries the key.
func (c *Channel) PostRoom(ctx context.Context, p notify.RoomPost) error {
	if !channelID.MatchString(p.Room) {
		return notify.Permanent(fmt.Errorf("slack: %q is not a channel ID", p.Room))
	}
	people, _ := c.callList(p.People, true)
	text := renderRoom(p.Text, people)
	if text == "" {
		return notify.Permanent(errors.New("slack: room post has nothing to say"))
	}
	if err := c.postRoom(ctx, p.Room, p.Key, text); err != nil {
		return classify("post in room", err)
	}
	return nil
}

func (c *Channel) postRoom(ctx context.Context, room, key, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, room,
		slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    roomMetadataType,
			EventPayload: map[string]any{"key": key},
		}),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	return err
}

// SetTopic sets the channel's topic, on one line, escaped like any text
// sent to Slack, and cut to Slack's limit.
func (c *Channel) SetTopic(ctx context.Context, room, topic string) error {
	if !channelID.MatchString(room) {
		return notify.Permanent(fmt.Errorf("slack: %q is not a channel ID", room))
	}
	topic = truncMrkdwn(escape(strings.Join(strings.Fields(topic), " ")), maxTopic)
	if _, err := c.api.SetTopicOfConversationContext(ctx, room, topic); err != nil {
		return classify("set topic", err)
	}
	return nil
}

// renderRoom is a post in an incident channel as mrkdwn: the text, then
// the people it calls. Each has its share of maxReply, so a long text
// cannot push the mentions out.
func renderRoom(text, people string) string {
	var lines []string
	if text = strings.TrimSpace(text); text != "" {
		lines = append(lines, truncMrkdwn(escape(text), maxSection))
	}
	if people != "" {
		lines = append(lines, truncMrkdwn(people, maxReply-maxSection-1))
	}
	return strings.Join(lines, "\n")
}

// isSlackError reports whether err is Slack's error code.
func isSlackError(err error, code string) bool {
	var e slack.SlackErrorResponse
	return errors.As(err, &e) && e.Err == code
}
