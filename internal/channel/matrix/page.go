package matrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// MentionOf returns u's Matrix user ID, or "" when u has none. An ID that
// is not well-formed counts as none (the person is named instead): it
// would end up in a pill's link.
func (c *Channel) MentionOf(u klaxon.User) string {
	if userPattern.MatchString(u.Matrix) {
		return u.Matrix
	}
	return ""
}

// Page calls people: a message in the thread of the group's message
// (p.Ref), or in the room on its own. Its transaction ID is the page's
// key, so a retry never posts it twice. It is an m.text, not a notice:
// the default push rules silence notices, and a page must ring.
func (c *Channel) Page(ctx context.Context, p notify.PageDelivery) (string, error) {
	if p.Key == "" {
		return "", notify.Permanent(errors.New("matrix: page delivery has no key"))
	}
	if strings.TrimSpace(p.Text) == "" && len(p.People) == 0 && p.Message == nil {
		return "", notify.Permanent(errors.New("matrix: page delivery has nothing to say"))
	}
	var room, root string
	if p.Ref != "" {
		r, err := parseRef(p.Ref)
		if err != nil {
			return "", notify.Permanent(err)
		}
		room, root = r.Room, r.Event
	} else {
		var err error
		if room, err = c.joinRoom(ctx); err != nil {
			return "", err
		}
	}
	id, err := c.sendMessage(ctx, room, p.Key, renderPage(p, c.people(p.People), root))
	if err != nil {
		return "", fmt.Errorf("page in %s: %w", room, err)
	}
	return ref{Room: room, Event: id}.String(), nil
}

// person is someone a message calls: by their Matrix ID (a pill, and an
// entry in m.mentions), or only by name when they have none here.
type person struct {
	id   string
	name string
}

// people are users as this room calls them, each once.
func (c *Channel) people(users []klaxon.User) []person {
	var out []person
	seen := map[string]bool{}
	for _, u := range users {
		p := person{id: c.MentionOf(u), name: oneLine(u.Name, maxValue)}
		if p.name == "" {
			p.name = p.id
		}
		key := "@" + p.id
		if p.id == "" {
			key = "name:" + p.name
		}
		if p.name == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out
}

// peopleLine lists people: a pill labelled with the name for each with an
// ID (the ID itself in the plain body, as clients without HTML show
// mentions), the name alone for the rest.
func peopleLine(people []person) (text, html string) {
	var t, h []string
	for _, p := range people {
		if p.id == "" {
			t = append(t, p.name)
			h = append(h, esc(p.name))
			continue
		}
		t = append(t, p.id)
		h = append(h, pill(p.id, p.name))
	}
	return strings.Join(t, ", "), strings.Join(h, ", ")
}

// pill links to a user the way clients render a mention.
func pill(id, label string) string {
	return fmt.Sprintf(`<a href="%s">%s</a>`, esc("https://matrix.to/#/"+id), esc(label))
}

// userIDs are the IDs of mention, then of people not among them.
func userIDs(mention []string, people []person) []string {
	out := append([]string(nil), mention...)
	for _, p := range people {
		if p.id != "" && !slices.Contains(out, p.id) {
			out = append(out, p.id)
		}
	}
	return out
}

// renderPage is a page: why, whom it calls, and, for a group, its
// headline linked to Klaxon and the words to take it. In the thread of
// root, unless root is "".
func renderPage(p notify.PageDelivery, people []person, root string) content {
	var d doc
	if text := truncate(strings.TrimSpace(p.Text), maxDescription); text != "" {
		d.add(text, "<p>"+strings.ReplaceAll(esc(text), "\n", "<br>")+"</p>")
	}
	if len(people) > 0 {
		text, html := peopleLine(people)
		d.add(text, "<p>"+html+"</p>")
	}
	if m := p.Message; m != nil {
		headline := oneLine(m.Headline(), maxLine)
		if u := notify.SafeURL(m.URL); u != "" {
			d.add(headline+" — "+u, fmt.Sprintf(`<p><a href="%s">%s</a></p>`, esc(u), esc(headline)))
		} else {
			d.add(headline, "<p>"+esc(headline)+"</p>")
		}
		if hint := m.AckHint(); hint != "" {
			d.add("Say `"+hint+"` to take it.", "<p>Say <code>"+esc(hint)+"</code> to take it.</p>")
		}
	}
	c := d.content(msgText, userIDs(nil, people))
	if root != "" {
		c.RelatesTo = threadReply(root, root)
	}
	return c
}
