package webhook

import (
	"context"
	"errors"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// PageType is the "type" of every PagePayload.
const PageType = "page"

// PagePayload is the JSON body of a page: people called to a group (an
// escalation step) or told of something about no group (a hand-off). It
// is signed like a Payload, and its delivery ID (X-Klaxon-Delivery, and
// Key) is the same on every retry of the page.
type PagePayload struct {
	Type    string   `json:"type"` // always "page"; a Payload has no type
	Version string   `json:"version"`
	Key     string   `json:"key"`  // the same on a retry of the same page
	Text    string   `json:"text"` // why, e.g. "Unacknowledged for 15m: escalation step 2 of 3 (policy default)"
	People  []Person `json:"people"`
	// GroupID and Message are the group the page is about, as it is
	// now (Message has the shape of a Payload's group); both are absent
	// from a page about no group.
	GroupID int64  `json:"group_id,omitempty"`
	Message *Group `json:"message,omitempty"`
}

// Person is someone a page calls, with their identity on every platform
// ("" where they have none), so the receiver can reach them its own way.
type Person struct {
	Name       string `json:"name"`
	Matrix     string `json:"matrix"`
	Slack      string `json:"slack"`
	GoogleChat string `json:"google_chat"`
	Email      string `json:"email"`
}

// Page posts p. A webhook has no threads: GroupID says which group's
// messages it follows. It keeps nothing, so the ref is always "".
func (c *Channel) Page(ctx context.Context, p notify.PageDelivery) (string, error) {
	if p.Key == "" {
		return "", notify.Permanent(errors.New("webhook: page delivery has no key"))
	}
	body := PagePayload{Type: PageType, Version: Version, Key: p.Key, Text: p.Text, People: make([]Person, 0, len(p.People))}
	for _, u := range p.People {
		body.People = append(body.People, Person{Name: u.Name, Matrix: u.Matrix, Slack: u.Slack, GoogleChat: u.GoogleChat, Email: u.Email})
	}
	if m := p.Message; m != nil {
		g := group(m)
		body.GroupID, body.Message = m.GroupID, &g
	}
	return "", c.post(ctx, body.Key, body)
}
