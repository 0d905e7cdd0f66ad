package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// metadataType marks the messages Klaxon posts, so a retry can find the one
// an earlier attempt posted before it could save the ref.
const metadataType = "klaxon_notification"

// historyLimit is how far back a retry looks for its earlier post: enough
// for a busy channel between two attempts a few minutes apart.
const historyLimit = 50

// ref is what Send remembers of a posted message.
type ref struct {
	Channel string       `json:"channel"`
	TS      string       `json:"ts"`
	State   klaxon.State `json:"state"` // the state the message last showed
}

// Send posts the group's message, or updates the posted one in place and
// says in its thread what changed.
func (c *Channel) Send(ctx context.Context, d notify.Delivery) (string, error) {
	m := d.Message
	if m == nil {
		return "", notify.Permanent(errors.New("slack: delivery has no message"))
	}
	var r ref
	adopted := false
	switch {
	case d.Ref != "":
		var err error
		if r, err = c.parseRef(d.Ref); err != nil {
			return "", err
		}
	case d.Attempt > 1:
		// An earlier attempt may have posted and then failed to save the
		// ref: adopt its message rather than post a second one.
		ts, err := c.findPost(ctx, d.ID)
		if err != nil {
			return "", classify("find earlier post", err)
		}
		if ts != "" {
			r, adopted = ref{Channel: c.channel, TS: ts, State: m.State}, true
		}
	}

	if r.TS == "" {
		return c.post(ctx, d)
	}
	// An update names the people on call without mentioning them: it
	// must not ring anyone again.
	people, _ := c.callList(m.Mention, false)
	out := render(m, "", onCallLine(people))
	if _, _, _, err := c.api.UpdateMessageContext(ctx, r.Channel, r.TS,
		slack.MsgOptionText(out.text, false),
		slack.MsgOptionBlocks(out.blocks...),
		slack.MsgOptionAttachments(out.attachments...),
	); err != nil {
		return "", classify("update message", err)
	}
	if !adopted && r.State != m.State {
		if err := c.reply(ctx, r.Channel, r.TS, changeText(m, r.State)); err != nil {
			return "", classify("post state change", err)
		}
	}
	if d.Remind && m.State != klaxon.StateResolved {
		if err := c.reply(ctx, r.Channel, r.TS, remindText(m)); err != nil {
			return "", classify("post reminder", err)
		}
	}
	r.State = m.State
	return r.encode(), nil
}

// post posts the group's first message, tagged with the notification's
// ID. It mentions the people on call (Message.Mention) on a line of their
// own, and the configured people when it is critical, each once.
func (c *Channel) post(ctx context.Context, d notify.Delivery) (string, error) {
	m := d.Message
	mention := ""
	if m.Critical() {
		mention = c.mentions
	}
	people, tokens := c.callList(m.Mention, true)
	out := render(m, withoutTokens(mention, tokens), onCallLine(people))
	channel, ts, err := c.api.PostMessageContext(ctx, c.channel,
		slack.MsgOptionText(out.text, false),
		slack.MsgOptionBlocks(out.blocks...),
		slack.MsgOptionAttachments(out.attachments...),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    metadataType,
			EventPayload: map[string]any{"notification_id": d.ID},
		}),
		// Alert links are attacker-chosen: Slack must not fetch them.
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		return "", classify("post message", err)
	}
	if channel == "" {
		channel = c.channel
	}
	return ref{Channel: channel, TS: ts, State: m.State}.encode(), nil
}

// reply posts mrkdwn text in the thread of the message ts.
func (c *Channel) reply(ctx context.Context, channel, ts, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(truncMrkdwn(text, maxReply), false),
		slack.MsgOptionTS(ts),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	return err
}

// findPost looks through the channel's recent messages for the one posted
// for notification id, and returns its ts or "".
func (c *Channel) findPost(ctx context.Context, id int64) (string, error) {
	h, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID:          c.channel,
		Limit:              historyLimit,
		IncludeAllMetadata: true,
	})
	if err != nil {
		return "", err
	}
	for _, msg := range h.Messages {
		if msg.Metadata.EventType == metadataType && sameID(msg.Metadata.EventPayload["notification_id"], id) {
			return msg.Timestamp, nil
		}
	}
	return "", nil
}

// sameID compares a metadata payload value, which comes back as a JSON
// number (or a string, if Slack ever normalises it), with id.
func sameID(v any, id int64) bool {
	switch v := v.(type) {
	case float64:
		return v == float64(id)
	case json.Number:
		return v.String() == strconv.FormatInt(id, 10)
	case string:
		return v == strconv.FormatInt(id, 10)
	}
	return false
}

// parseRef reads what Send returned; an unreadable ref is permanent.
func (c *Channel) parseRef(s string) (ref, error) {
	var r ref
	if err := json.Unmarshal([]byte(s), &r); err != nil || r.TS == "" {
		return ref{}, notify.Permanent(fmt.Errorf("slack: unreadable ref %q", s))
	}
	if r.Channel == "" {
		r.Channel = c.channel
	}
	return r, nil
}

func (r ref) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// permanent are the Slack error codes that no retry can fix: the token, the
// channel or the payload is wrong.
var permanent = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"ekm_access_denied": true, "team_access_not_granted": true, "restricted_action": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "invalid_attachments": true, "too_many_attachments": true,
	"msg_too_long": true, "msg_blocks_too_long": true, "no_text": true, "invalid_arguments": true,
	"invalid_metadata_format": true, "invalid_metadata_schema": true, "metadata_too_large": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"name_taken": true, "invalid_name": true, "invalid_name_specials": true, "invalid_name_maxlength": true,
	"invalid_name_required": true, "too_long": true, "user_is_restricted": true,
}

// classify wraps err from the Slack call op and marks what retrying cannot
// help, or how long Slack asked to wait. The rest (network errors, 5xx,
// Slack's internal_error or ratelimited) stays retryable.
func classify(op string, err error) error {
	err = fmt.Errorf("slack %s: %w", op, err)
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	var slackErr slack.SlackErrorResponse
	switch {
	case errors.As(err, &limited):
		return notify.RetryAfter(limited.RetryAfter, err)
	case errors.As(err, &status):
		if status.Code == http.StatusTooManyRequests || status.Code == http.StatusRequestTimeout || status.Code >= 500 {
			return notify.RetryAfter(0, err)
		}
		return notify.Permanent(err)
	case errors.As(err, &slackErr):
		if permanent[slackErr.Err] {
			return notify.Permanent(err)
		}
	}
	return err
}
