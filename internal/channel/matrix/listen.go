package matrix

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// syncTimeout is how long one /sync waits for something to happen.
const syncTimeout = 30 * time.Second

// Backoff after a failed /sync or reply: doubling from minBackoff to
// maxBackoff.
const (
	minBackoff   = time.Second
	maxBackoff   = 30 * time.Second
	replyRetries = 3
)

// timelineLimit bounds the events one /sync returns for a room. More
// messages than this between two polls (30 s apart at most) would be a
// flood, and a limited timeline is logged.
const timelineLimit = 50

type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[string]struct {
			Timeline struct {
				Events  []event `json:"events"`
				Limited bool    `json:"limited"`
			} `json:"timeline"`
		} `json:"join"`
	} `json:"rooms"`
}

type event struct {
	Type    string          `json:"type"`
	EventID string          `json:"event_id"`
	Sender  string          `json:"sender"`
	Content json.RawMessage `json:"content"`
}

// listener is one run of Listen.
type listener struct {
	c       *Channel
	cmd     notify.Commander
	cursor  notify.Cursor
	self    string // the bot's user ID
	room    string // the configured room's ID
	filter  string
	backoff time.Duration
}

// Listen follows the rooms the bot is in with /sync: the configured room,
// and the incident rooms OpenRoom made. It runs every command people type
// there, replying in the command's room and thread. It starts where cursor
// left off; the first time, from now on (history is not replayed). It
// returns nil when ctx ends, and an error only when the access token is
// refused, which no retry can fix.
func (c *Channel) Listen(ctx context.Context, cmd notify.Commander, cursor notify.Cursor) error {
	l := &listener{c: c, cmd: cmd, cursor: cursor}
	since, err := l.start(ctx)
	if err != nil || ctx.Err() != nil {
		return err
	}
	c.log.Info("matrix: listening for commands", slog.String("room", l.room), slog.String("user", l.self))
	for {
		var resp syncResponse
		err := l.sync(ctx, since, syncTimeout, &resp)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if unauthorized(err) {
				return err
			}
			if !l.wait(ctx, "matrix: sync failed", err) {
				return nil
			}
			continue
		}
		l.backoff = 0
		if !l.handle(ctx, &resp) {
			return nil // ctx ended mid-batch: the batch is redone next time
		}
		if resp.NextBatch != "" && resp.NextBatch != since {
			since = resp.NextBatch
			if err := cursor.Save(ctx, since); err != nil && ctx.Err() == nil {
				c.log.Error("matrix: save sync position", slog.String(logError, err.Error()))
			}
		}
	}
}

// start learns who the bot is, joins the room and finds where to sync
// from, retrying until it succeeds or ctx ends.
func (l *listener) start(ctx context.Context) (since string, err error) {
	for {
		since, err = l.try(ctx)
		if err == nil || ctx.Err() != nil {
			return since, nil
		}
		if unauthorized(err) {
			return "", err
		}
		if !l.wait(ctx, "matrix: cannot start listening", err) {
			return "", nil
		}
	}
}

func (l *listener) try(ctx context.Context) (string, error) {
	var err error
	if l.self == "" {
		if l.self, err = l.c.whoami(ctx); err != nil {
			return "", err
		}
	}
	if l.room == "" {
		if l.room, err = l.c.joinRoom(ctx); err != nil {
			return "", err
		}
		l.filter = syncFilter()
	}
	since, err := l.cursor.Load(ctx)
	if err != nil || since != "" {
		return since, err
	}
	// No position yet: take the current one without looking at the
	// timeline, so old commands are not run again.
	var resp syncResponse
	if err := l.sync(ctx, "", 0, &resp); err != nil {
		return "", err
	}
	if resp.NextBatch == "" {
		return "", errors.New("matrix sync: no next_batch in the answer")
	}
	if err := l.cursor.Save(ctx, resp.NextBatch); err != nil {
		return "", err
	}
	return resp.NextBatch, nil
}

// wait logs err and sleeps the backoff (or as long as the server asked,
// if longer), reporting false if ctx ended first.
func (l *listener) wait(ctx context.Context, msg string, err error) bool {
	l.backoff = min(max(2*l.backoff, minBackoff), maxBackoff)
	d := l.backoff
	var de *notify.DeliveryError
	if errors.As(err, &de) && de.RetryAfter > d {
		d = min(de.RetryAfter, 2*maxBackoff)
	}
	l.c.log.Warn(msg, slog.String(logError, err.Error()), slog.Duration(logWait, d))
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sync does one /sync; timeout 0 answers at once.
func (l *listener) sync(ctx context.Context, since string, timeout time.Duration, out *syncResponse) error {
	q := url.Values{
		"timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)},
		"filter":  {l.filter},
	}
	if since != "" {
		q.Set("since", since)
	}
	return l.c.call(ctx, l.c.syncClient, "sync", http.MethodGet, "/sync", q, nil, out)
}

// syncFilter asks for the messages of every room the bot is in, and
// nothing else. The bot joins only the configured room and creates the
// incident rooms: any room it is in is one Klaxon answers in.
func syncFilter() string {
	none := map[string]any{"not_types": []string{"*"}}
	b, _ := json.Marshal(map[string]any{
		"account_data": none,
		"presence":     none,
		"room": map[string]any{
			"timeline":     map[string]any{"types": []string{"m.room.message"}, "limit": timelineLimit},
			"state":        map[string]any{"lazy_load_members": true, "not_types": []string{"*"}},
			"ephemeral":    none,
			"account_data": none,
		},
	})
	return string(b)
}

// handle runs the commands in one /sync answer, room by room, reporting
// false if ctx ended before all were handled.
func (l *listener) handle(ctx context.Context, resp *syncResponse) bool {
	for _, room := range slices.Sorted(maps.Keys(resp.Rooms.Join)) {
		joined := resp.Rooms.Join[room]
		if joined.Timeline.Limited {
			l.c.log.Warn("matrix: more messages than one sync returns; older ones were skipped", slog.String("room", room))
		}
		for _, ev := range joined.Timeline.Events {
			if ctx.Err() != nil {
				return false
			}
			l.handleEvent(ctx, room, ev)
		}
	}
	return ctx.Err() == nil
}

// handleEvent runs the command in ev, typed in room, if it is one, and
// posts the reply there.
func (l *listener) handleEvent(ctx context.Context, room string, ev event) {
	if ev.Type != "m.room.message" || ev.Sender == l.self || ev.EventID == "" {
		return
	}
	var c content
	if err := json.Unmarshal(ev.Content, &c); err != nil || c.MsgType != msgText {
		return // redacted, a notice from a bot, an image…
	}
	if c.RelatesTo != nil && c.RelatesTo.RelType == relEdit {
		return // an edit of a message already handled
	}
	text := commandText(c, l.self)
	if text == "" {
		return
	}
	reply := l.cmd.Command(ctx, notify.Command{Channel: l.c.name, Room: room, Actor: ev.Sender, Text: text})
	if strings.TrimSpace(reply.Text) == "" {
		return // not a command
	}
	root := ev.EventID
	if c.RelatesTo != nil && c.RelatesTo.RelType == relThread && c.RelatesTo.EventID != "" {
		root = c.RelatesTo.EventID
	}
	// The transaction ID comes from the command's event, so a batch run
	// again after a crash does not answer twice.
	sum := sha256.Sum256([]byte(ev.EventID))
	txn := "klaxon-reply-" + hex.EncodeToString(sum[:8])
	for attempt := 1; ; attempt++ {
		_, err := l.c.sendMessage(ctx, room, txn, notice(reply, root, ev.EventID))
		if err == nil {
			l.backoff = 0
			return
		}
		if ctx.Err() != nil {
			return
		}
		if notify.IsPermanent(err) || attempt == replyRetries {
			l.c.log.Error("matrix: reply to command", slog.String(logEvent, ev.EventID), slog.String(logError, err.Error()))
			return
		}
		if !l.wait(ctx, "matrix: reply to command failed", err) {
			return
		}
	}
}

// replyFallback is the quote of the replied-to message that older clients
// put in front of a reply's HTML.
var replyFallback = regexp.MustCompile(`(?s)^\s*<mx-reply>.*?</mx-reply>`)

// leadingPill is a mention pill at the start of formatted_body.
var leadingPill = regexp.MustCompile(`^\s*<a\s+href="https://matrix\.to/#/([^"?]+)[^"]*"\s*>([^<]*)</a>`)

// commandText is what a person typed, without a reply's quote of the
// message replied to and without a leading mention of the bot
// ("klaxon: ack 12", "@klaxon:example.org ack 12", or a pill with the
// bot's display name).
func commandText(c content, self string) string {
	text := stripQuote(c.Body)
	prefixes := []string{self}
	if c.Format == htmlFmt {
		formatted := replyFallback.ReplaceAllString(c.FormattedBody, "")
		if m := leadingPill.FindStringSubmatch(formatted); m != nil {
			if id, err := url.PathUnescape(html.UnescapeString(m[1])); err == nil && id == self {
				prefixes = append(prefixes, html.UnescapeString(m[2]))
			}
		}
	}
	for _, p := range prefixes {
		if rest, ok := cutMention(text, p, true); ok {
			return rest
		}
	}
	localpart, _, _ := strings.Cut(strings.TrimPrefix(self, "@"), ":")
	if rest, ok := cutMention(text, localpart, false); ok {
		return rest
	}
	return text
}

// stripQuote removes a reply fallback from a plain body: the leading lines
// quoted with "> " and the blank line after them.
func stripQuote(body string) string {
	lines := strings.Split(body, "\n")
	i := 0
	for i < len(lines) && (strings.HasPrefix(lines[i], "> ") || lines[i] == ">") {
		i++
	}
	return strings.TrimSpace(strings.Join(lines[i:], "\n"))
}

// cutMention removes name from the start of text when it is followed by
// ':' or ',' (or by a space, if spaceOK), and reports whether it did.
func cutMention(text, name string, spaceOK bool) (string, bool) {
	if name == "" || len(text) < len(name) || !strings.EqualFold(text[:len(name)], name) {
		return text, false
	}
	rest := text[len(name):]
	switch {
	case strings.HasPrefix(rest, ":"), strings.HasPrefix(rest, ","):
		rest = rest[1:]
	case spaceOK && (rest == "" || rest[0] == ' ' || rest[0] == '\n' || rest[0] == '\t'):
	default:
		return text, false
	}
	return strings.TrimSpace(rest), true
}
