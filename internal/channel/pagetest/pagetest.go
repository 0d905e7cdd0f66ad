// Package pagetest has the sample pages and on-call first posts every
// platform's golden-file tests render, so all platforms are checked
// against the same people, including one without an identity there and
// one whose name and identities are hostile.
//
// It belongs beside notifytest's Cases and Notes; it lives here while
// internal/notify is being changed by others.
package pagetest

import (
	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// Alice has an identity on every platform.
func Alice() klaxon.User {
	return klaxon.User{Name: "alice", Matrix: "@alice:example.org", Slack: "U0ALICE", GoogleChat: "users/111", Email: "alice@example.org"}
}

// Bob has none on Matrix: Matrix names him.
func Bob() klaxon.User {
	return klaxon.User{Name: "bob", Slack: "U0BOB", GoogleChat: "users/222", Email: "bob@example.org"}
}

// Carol has none on Slack or Google Chat: they name her.
func Carol() klaxon.User {
	return klaxon.User{Name: "Carol Smith", Matrix: "@carol:example.org", Email: "carol@example.org"}
}

// Mallory's name is every format's specials, and her identities are not
// well-formed: each would forge a mention or markup if rendered as one,
// so every platform names her, escaped.
func Mallory() klaxon.User {
	return klaxon.User{
		Name:       "<@U123> <!channel> @room <users/all> <b>mal</b> *lory* _x_ `y` & \"q\" <https://evil.example|click>",
		Matrix:     `@evil:example.org"><script>alert(1)</script>`,
		Slack:      "U0EVIL> <!channel",
		GoogleChat: "users/all> <users/1",
		Email:      "<x>@evil.example",
	}
}

// Key is the sample pages' idempotency key.
const Key = "klaxon-page-7-2"

// Pages are the sample pages, by golden-file name, without a Ref: each
// platform's tests set the group's message ref where they reply to it.
func Pages() map[string]notify.PageDelivery {
	cases := notifytest.Cases()
	return map[string]notify.PageDelivery{
		"page": {
			Key:     Key,
			Text:    "Unacknowledged for 15m: escalation step 2 of 3 (policy default)",
			People:  []klaxon.User{Alice(), Bob(), Carol()},
			Message: cases["critical_firing"],
		},
		"page_hostile": {
			Key:     Key,
			Text:    "Unacknowledged <!channel> <script>alert(1)</script> *bold* `x` <users/all> @room & <https://evil.example|click>",
			People:  []klaxon.User{Mallory(), Alice()},
			Message: cases["hostile"],
		},
		"page_notice": {
			Key:    Key,
			Text:   "Hand-off: on call for primary until 2026-11-23 09:00 UTC",
			People: []klaxon.User{Alice(), Carol()},
		},
	}
}

// OnCall are sample first posts that mention the people on call
// (Message.Mention), by golden-file name: a critical message, whose
// platforms also mention their configured people (alice among them), and
// the hostile one.
func OnCall() map[string]*notify.Message {
	cases := notifytest.Cases()
	m := cases["critical_firing"]
	m.Mention = []klaxon.User{Alice(), Bob(), Carol()}
	h := cases["hostile"]
	h.Mention = []klaxon.User{Mallory(), Alice()}
	return map[string]*notify.Message{"oncall": m, "oncall_hostile": h}
}
