// Package notify turns alert changes into chat messages and pages: it routes
// each alert through an Alertmanager-style tree into groups, queues one
// coalescing outbox row per group and channel in the alert's own transaction,
// and delivers the outbox in order per channel with retries. It also runs the
// chat command grammar (ack 12, resolve 12, status…) for every platform.
//
// A platform is one package under internal/channel implementing Channel (and,
// to take commands, Inbound or Listener); app wires it with one line.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// Channel delivers a group's message to one place: a chat room, a pager, a
// webhook. Implementations hold no state between calls beyond configuration;
// what they must remember of a message goes into the Ref they return.
type Channel interface {
	// Send posts the group's message (d.Ref == "") or brings the posted one
	// up to date, and returns the Ref to pass next time. With d.Remind it
	// also posts a "still firing" follow-up. Errors are retried with
	// backoff unless marked Permanent; RetryAfter sets the wait.
	Send(ctx context.Context, d Delivery) (ref string, err error)
}

// Delivery is one send of a group's state to a channel.
type Delivery struct {
	// ID and Version identify this content: the same pair on a retry,
	// a new Version for new content. IdempotencyKey derives from them.
	ID      int64
	Version int64
	Attempt int // 1 on the first try
	Remind  bool
	Ref     string // what the last successful Send returned; "" before the first post
	Message *Message
}

// IdempotencyKey is unique per content sent: platforms that deduplicate
// (Matrix transaction IDs, webhook receivers) use it so a retry never
// double-posts.
func (d Delivery) IdempotencyKey() string { return fmt.Sprintf("klaxon-%d.%d", d.ID, d.Version) }

// PostKey is the same for every version of a pending notification: a first
// post whose answer was lost, retried once the group changed, must still be
// one post, not a second message.
func (d Delivery) PostKey() string { return fmt.Sprintf("klaxon-%d.post", d.ID) }

// Noter is a channel that can post a note in a group's thread, under the
// message Send posted: diagnostics output, for now. Channels without
// threads (PagerDuty) do not implement it.
type Noter interface {
	// Note posts n under the message whose Ref Send returned. Errors are
	// classified as for Send.
	Note(ctx context.Context, n NoteDelivery) error
}

// NoteDelivery is one post of a note.
type NoteDelivery struct {
	// Key is unique per note and channel, the same on every retry: use it
	// as the platform's idempotency key (Matrix txnId).
	Key  string
	Ref  string // the group's message, as Send returned it
	Note *Note
}

// Note is a follow-up in a group's thread: a title and items that each
// have a heading, a one-line status and a body shown as preformatted text,
// collapsed where the platform can (it can be long).
type Note struct {
	GroupID int64
	AlertID int64
	Title   string // e.g. "Diagnostics for alert 12: KubePodCrashLooping prod/api-7d9"
	URL     string // the alert's page in Klaxon
	Items   []NoteItem
}

// NoteItem is one entry of a note: for diagnostics, one command.
type NoteItem struct {
	Heading   string // the command as run
	Status    string // e.g. "exit 0 in 0.4s", "refused: kubectl delete is not on the allowlist"
	OK        bool   // ran and succeeded
	Mark      string // the outcome at a glance, an emoji: ✅ ❌ ⛔ (refused) ⏱ (timed out)
	Body      string // output, redacted and capped; may be empty
	Truncated bool   // Body was cut at the output cap
}

// Pager is a channel that can call people to a group outside its message:
// on chat, a post that mentions them (a reply in the group's thread, or a
// post in the room); on PagerDuty, an incident. Escalation steps and
// hand-off notices go through it.
type Pager interface {
	// Page posts p and returns the platform's reference of what it
	// posted or triggered (PagerDuty: the incident's action, which later
	// Sends continue from), or "". Errors are classified as for Send.
	Page(ctx context.Context, p PageDelivery) (ref string, err error)
}

// PageDelivery is one call of people on a channel.
type PageDelivery struct {
	// Key is unique per page and channel, the same on every retry: use it
	// as the platform's idempotency key where there is one.
	Key string
	// Ref is the group's message on this channel (as Send returned it) to
	// reply under, or "" to post in the room on its own.
	Ref string
	// Text says why, e.g. "Unacknowledged for 15m: escalation step 2 of 3
	// (policy default)". Plain text: platforms escape it.
	Text string
	// People are mentioned, each by their identity on the platform (see
	// Chat.MentionOf), by name if they have none there.
	People []klaxon.User
	// Message is the group as it is now; nil for notices about no group
	// (hand-offs).
	Message *Message
}

// Chat is a channel people read and can be mentioned in (Matrix, Slack,
// Google Chat): an escalation step calling the on-call of a schedule
// mentions them in each of the group's Chat channels, and the group's first
// message mentions the first step's people (Message.Mention).
type Chat interface {
	Pager
	// MentionOf returns u's identity on this platform, or "" if u has
	// none here.
	MentionOf(u klaxon.User) string
}

// Rooms is a Chat that can give an incident a room of its own: a Slack
// channel, a Matrix room with the responders invited, a thread in a Google
// Chat space.
type Rooms interface {
	Chat
	// OpenRoom opens the room, invites r.Invite where the platform can,
	// sets its topic and posts r.Text as its first message. It returns the
	// room's reference, which PostRoom and SetTopic take and Command.Room
	// carries for commands typed there. Errors are classified as for Send.
	OpenRoom(ctx context.Context, r RoomRequest) (room string, err error)
	// PostRoom posts in a room OpenRoom opened.
	PostRoom(ctx context.Context, p RoomPost) error
	// SetTopic sets the room's topic where the platform has one (Slack,
	// Matrix); elsewhere it does nothing.
	SetTopic(ctx context.Context, room, topic string) error
}

// RoomRequest is one incident room to open.
type RoomRequest struct {
	// Key is unique per incident, the same on every retry.
	Key string
	// Name is the room's name, e.g. "incident-20261121-api-requests-failing":
	// lowercase letters, digits and dashes, at most 80 characters.
	Name   string
	Topic  string
	Text   string // the first message: what happened, severity, commander, next update
	Invite []klaxon.User
}

// RoomPost is one post in an incident room.
type RoomPost struct {
	Key    string // unique per post, the same on every retry
	Room   string // as OpenRoom returned it
	Text   string // plain text: platforms escape it
	People []klaxon.User
}

// Commander runs a chat command typed by actor and returns the reply to post
// where it was typed. Platform packages call it for every inbound command.
type Commander interface {
	Command(ctx context.Context, cmd Command) Reply
}

// Command is one line a person typed (or a button they pressed, as the
// equivalent text, e.g. "ack 12").
type Command struct {
	Channel string // the channel's configured name
	// Room is where it was typed, as Rooms.OpenRoom names rooms (Slack
	// channel ID, Matrix room ID, Google Chat thread), so a command typed
	// in an incident's room applies to that incident.
	Room  string
	Actor string // who, as recorded in history, e.g. "@alice:example.org"
	Text  string
	// Addressed says the platform knows the text was meant for Klaxon (a
	// slash command, an app mention, a button), so even unknown words get
	// an answer. Plain room messages only do when they start with a mention.
	Addressed bool
}

// Reply is the answer to a command: plain text, escaped by each platform,
// and optionally a preformatted block after it (commands to copy).
type Reply struct {
	Text string
	Code string
}

// Inbound is a channel that receives commands over HTTP (Slack, Google
// Chat). Its handler is mounted at /api/v1/chat/<channel name>/ and must
// authenticate every request itself.
type Inbound interface {
	Handler(cmd Commander) http.Handler
}

// Listener is a channel that fetches commands itself (Matrix /sync). Listen
// runs until ctx ends; cursor persists its position across restarts.
type Listener interface {
	Listen(ctx context.Context, cmd Commander, cursor Cursor) error
}

// Cursor stores a listener's position durably.
type Cursor interface {
	Load(ctx context.Context) (string, error)
	Save(ctx context.Context, value string) error
}

// DeliveryError classifies a failed send.
type DeliveryError struct {
	Err        error
	Permanent  bool          // retrying cannot help: bad token, unknown room, invalid payload
	RetryAfter time.Duration // the platform asked to wait this long (429, Retry-After)
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &DeliveryError{Err: err, Permanent: true} }

// RetryAfter marks err as retryable after d.
func RetryAfter(d time.Duration, err error) error { return &DeliveryError{Err: err, RetryAfter: d} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Permanent
}

// retryAfter returns the wait the platform asked for, or 0.
func retryAfter(err error) time.Duration {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.RetryAfter
	}
	return 0
}

// Env is what a platform package gets besides its own configuration.
type Env struct {
	BaseURL string       // Klaxon's external URL, for links
	Logger  *slog.Logger // never nil
	Client  *http.Client // for every outbound call; NewHTTPClient by default
}

// Factory builds a platform's Channel from its configuration, without any
// network call, so `klaxon config check` can run it. Configuration problems
// are reported with ch.Decode and ch.Errorf, which name the key and line.
type Factory func(ch config.Channel, env Env) (Channel, error)
