package googlechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// MentionOf returns u's Chat user, e.g. "users/123456789", or "" when u
// has none. One that is not well-formed counts as none (the person is
// named instead): it would be written into a <users/…> mention.
func (c *Channel) MentionOf(u klaxon.User) string {
	if userName.MatchString(u.GoogleChat) {
		return u.GoogleChat
	}
	return ""
}

// Page calls people: a reply in the group's thread (p.Ref set), found by
// its key as Send's follow-ups find it, or a message in a thread of its
// own. The request ID is the page's key, so a retry returns the message
// the first attempt posted instead of posting another. It returns the
// posted message's name.
func (c *Channel) Page(ctx context.Context, p notify.PageDelivery) (string, error) {
	if strings.TrimSpace(p.Text) == "" && len(p.People) == 0 && p.Message == nil {
		return "", notify.Permanent(errors.New("googlechat: page delivery has nothing to say"))
	}
	people, _ := c.callList(p.People)
	msg := chatMessage{Text: renderPage(p, people)}
	if p.Ref != "" {
		thread, err := pageThread(p)
		if err != nil {
			return "", err
		}
		msg.Thread = thread
	}
	got, err := c.post(ctx, msg, p.Key)
	if err != nil {
		return "", err
	}
	return got.Name, nil
}

// pageThread is the thread a page replies in: the group's, by its key;
// for a page about no group, the thread its ref names.
func pageThread(p notify.PageDelivery) (*chatThread, error) {
	if p.Message != nil {
		return &chatThread{ThreadKey: ThreadKey(p.Message.GroupID)}, nil
	}
	var r ref
	if json.Unmarshal([]byte(p.Ref), &r) != nil || r.Thread == "" {
		return nil, notify.Permanent(fmt.Errorf("googlechat: page ref %q names no thread", p.Ref))
	}
	return &chatThread{Name: r.Thread}, nil
}

// callList renders people for a message's text, each once: a mention for
// each with a Chat user, the escaped name of the rest. ids are the users
// it mentions.
func (c *Channel) callList(users []klaxon.User) (list string, ids []string) {
	var out []string
	for _, u := range users {
		id := c.MentionOf(u)
		s := "<" + id + ">"
		if id == "" {
			s = escText(cut(strings.Join(strings.Fields(u.Name), " "), maxValue))
		}
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if id != "" {
			ids = append(ids, id)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", "), ids
}

// onCallLine is the first post's line of who was called, or "".
func onCallLine(people string) string {
	if people == "" {
		return ""
	}
	return "On call: " + people
}

// withoutIDs drops from mentions the users in ids.
func withoutIDs(mentions, ids []string) []string {
	var out []string
	for _, m := range mentions {
		if !slices.Contains(ids, m) {
			out = append(out, m)
		}
	}
	return out
}

// renderPage is a page as a message's text: why, whom it calls, and, for
// a group, its headline linked to Klaxon and the words to take it.
func renderPage(p notify.PageDelivery, people string) string {
	var lines []string
	if text := strings.TrimSpace(p.Text); text != "" {
		lines = append(lines, escText(cut(text, maxParagraph)))
	}
	if people != "" {
		lines = append(lines, people)
	}
	if m := p.Message; m != nil {
		headline := cut(strings.Join(strings.Fields(m.Headline()), " "), maxValue)
		if l := textLink(m.URL, headline); l != "" {
			lines = append(lines, l)
		} else {
			lines = append(lines, escText(headline))
		}
		if hint := m.AckHint(); hint != "" {
			lines = append(lines, "Say `"+escText(hint)+"` to take it")
		}
	}
	return strings.Join(lines, "\n")
}

// textLink is a link in a message's text, <url|label>, or "" unless u is
// an http(s) URL without spaces. Neither part can end the link early:
// |, < and > are encoded in the URL, the label is escaped, and its pipes
// become a look-alike (∣).
func textLink(u, label string) string {
	u = notify.SafeURL(u)
	if u == "" || strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	u = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(u)
	return "<" + escText(u) + "|" + strings.ReplaceAll(escText(label), "|", "∣") + ">"
}
