package slack

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// pageMetadataType marks the pages Klaxon posts, with the page's key.
const pageMetadataType = "klaxon_page"

// MentionOf returns u's Slack user ID, or "" when u has none. An ID that
// is not well-formed counts as none (the person is named instead): it
// would be written into a <@…> mention.
func (c *Channel) MentionOf(u klaxon.User) string {
	if userID.MatchString(u.Slack) {
		return u.Slack
	}
	return ""
}

// Page calls people: a reply in the thread of the group's message
// (p.Ref), or a message in the channel on its own. Slack has no
// idempotency key: a retry after a lost answer posts the page again, as a
// reminder's retry does; its metadata carries the key, so the copies can
// be told apart from other posts.
func (c *Channel) Page(ctx context.Context, p notify.PageDelivery) (string, error) {
	if strings.TrimSpace(p.Text) == "" && len(p.People) == 0 && p.Message == nil {
		return "", notify.Permanent(errors.New("slack: page delivery has nothing to say"))
	}
	r := ref{Channel: c.channel}
	if p.Ref != "" {
		var err error
		if r, err = c.parseRef(p.Ref); err != nil {
			return "", err
		}
	}
	people, _ := c.callList(p.People, true)
	opts := []slack.MsgOption{
		slack.MsgOptionText(renderPage(p, people), false),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    pageMetadataType,
			EventPayload: map[string]any{"key": p.Key},
		}),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if r.TS != "" {
		opts = append(opts, slack.MsgOptionTS(r.TS))
	}
	channel, ts, err := c.api.PostMessageContext(ctx, r.Channel, opts...)
	if err != nil {
		return "", classify("post page", err)
	}
	if channel == "" {
		channel = r.Channel
	}
	return ref{Channel: channel, TS: ts}.encode(), nil
}

// callList renders people for mrkdwn, each once: a mention for each with a
// Slack user ID (when mention is set; an update must not ring anyone), the
// escaped name of the rest. tokens are the mentions it holds.
func (c *Channel) callList(users []klaxon.User, mention bool) (list string, tokens []string) {
	var out []string
	seen := map[string]bool{}
	for _, u := range users {
		name := truncate(strings.Join(strings.Fields(u.Name), " "), maxLabel)
		s := escape(name)
		if id := c.MentionOf(u); id != "" && mention {
			s = "<@" + id + ">"
			tokens = append(tokens, s)
		} else if name == "" {
			continue
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return strings.Join(out, ", "), tokens
}

// renderPage is a page as mrkdwn: why, whom it calls, and, for a group,
// its headline linked to Klaxon and the words to take it.
func renderPage(p notify.PageDelivery, people string) string {
	var lines []string
	if text := strings.TrimSpace(p.Text); text != "" {
		lines = append(lines, escape(truncate(text, maxSummary)))
	}
	if people != "" {
		lines = append(lines, people)
	}
	if m := p.Message; m != nil {
		headline := truncate(strings.Join(strings.Fields(m.Headline()), " "), maxLabel)
		if l := link(m.URL, headline); l != "" {
			lines = append(lines, l)
		} else {
			lines = append(lines, escape(headline))
		}
		if hint := m.AckHint(); hint != "" {
			lines = append(lines, "Say `"+escape(hint)+"` to take it")
		}
	}
	return truncMrkdwn(strings.Join(lines, "\n"), maxReply)
}

// onCallLine is the first post's line of who was called, or "".
func onCallLine(people string) string {
	if people == "" {
		return ""
	}
	return "On call: " + people
}

// withoutTokens drops from mentions (space-separated) those in tokens.
func withoutTokens(mentions string, tokens []string) string {
	var out []string
	for _, m := range strings.Fields(mentions) {
		if !slices.Contains(tokens, m) {
			out = append(out, m)
		}
	}
	return strings.Join(out, " ")
}
