package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// maxBody bounds what a request from Slack may carry.
const maxBody = 1 << 20

// Log attribute keys.
const (
	logChannel = "channel"
	logErr     = "err"
	logEvent   = "event_id"
)

// Handler takes Slack's requests at /api/v1/chat/<channel name>/events (the
// Events API), …/commands (slash commands) and …/interactivity (button
// presses). Every request must carry a valid signature made with the app's
// signing secret in the last five minutes; anything else gets 401 and runs
// nothing.
//
// Commands are taken from any conversation the app can see, not only the
// configured channel: one Slack app has one Request URL, so the channel that
// receives the events answers for every channel the app posts to.
func (c *Channel) Handler(cmd notify.Commander) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := path.Base(r.URL.Path)
		if kind != "events" && kind != "commands" && kind != "interactivity" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read request", http.StatusBadRequest)
			return
		}
		if err := c.verify(r.Header, body); err != nil {
			http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
			return
		}
		// Slack gives up on an answer after three seconds and retries; the
		// command must still finish and its reply still be posted.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*notify.HTTPTimeout)
		defer cancel()
		switch kind {
		case "events":
			c.events(ctx, w, body, cmd)
		case "commands":
			c.slash(ctx, w, r, body, cmd)
		case "interactivity":
			c.interaction(ctx, w, body, cmd)
		}
	})
}

// verify checks X-Slack-Signature against the body and the signing secret,
// and that X-Slack-Request-Timestamp is within five minutes of now.
func (c *Channel) verify(h http.Header, body []byte) error {
	sv, err := slack.NewSecretsVerifier(h, c.secret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// events handles an Events API request: the URL check, and messages and
// mentions that may be commands.
func (c *Channel) events(ctx context.Context, w http.ResponseWriter, body []byte, cmd notify.Commander) {
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		// An event type slack-go does not know: nothing for us, and a
		// non-2xx answer would only make Slack retry it.
		c.env.Logger.Debug("slack: ignoring event", logChannel, c.name, logErr, err)
		w.WriteHeader(http.StatusOK)
		return
	}
	switch data := ev.Data.(type) {
	case *slackevents.EventsAPIURLVerificationEvent:
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, data.Challenge)
		return
	case *slackevents.EventsAPICallbackEvent:
		if data.EventID != "" && !c.seen.add("event:"+data.EventID) {
			c.env.Logger.Debug("slack: dropping a retried event", logChannel, c.name, logEvent, data.EventID)
			w.WriteHeader(http.StatusOK)
			return
		}
	default:
		w.WriteHeader(http.StatusOK)
		return
	}
	answer(w)
	msg, ok := lineOf(ev.InnerEvent)
	// A mention arrives as both a message and an app_mention event.
	if !ok || !c.seen.add("message:"+msg.channel+":"+msg.ts) {
		return
	}
	bot := c.botUser(ctx)
	if msg.user == bot {
		return
	}
	if text, mentioned := commandText(msg.text, bot); text != "" || mentioned {
		c.run(ctx, cmd, notify.Command{Actor: "slack:" + msg.user, Text: text, Addressed: mentioned}, msg.channel, msg.thread)
	}
}

// line is what a person typed, from a message or app_mention event; thread
// is where to answer.
type line struct{ user, text, channel, ts, thread string }

// lineOf returns the line an event carries, if it carries one: not an
// edit, a join or a bot's message (ours included).
func lineOf(e slackevents.EventsAPIInnerEvent) (line, bool) {
	var t line
	switch e := e.Data.(type) {
	case *slackevents.MessageEvent:
		if e.SubType != "" || e.BotID != "" || e.PreviousMessage != nil {
			return t, false
		}
		t = line{e.User, e.Text, e.Channel, e.TimeStamp, e.ThreadTimeStamp}
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.Edited != nil {
			return t, false
		}
		t = line{e.User, e.Text, e.Channel, e.TimeStamp, e.ThreadTimeStamp}
	}
	if t.thread == "" {
		t.thread = t.ts
	}
	return t, t.user != "" && t.channel != "" && t.ts != ""
}

// slash answers a slash command in the channel it was typed in.
func (c *Channel) slash(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, cmd notify.Commander) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	s, err := slack.SlashCommandParse(r)
	if err != nil || s.UserID == "" {
		http.Error(w, "not a slash command", http.StatusBadRequest)
		return
	}
	reply := cmd.Command(ctx, notify.Command{Channel: c.name, Room: s.ChannelID, Actor: "slack:" + s.UserID, Text: strings.TrimSpace(s.Text), Addressed: true})
	if reply.Text == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"response_type": "in_channel",
		"text":          replyText(reply),
	})
}

// interaction runs the Ack and Resolve buttons as the commands they stand
// for, and answers in the message's thread; the message itself is brought
// up to date by the next Send.
func (c *Channel) interaction(ctx context.Context, w http.ResponseWriter, body []byte, cmd notify.Commander) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "no payload", http.StatusBadRequest)
		return
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	answer(w)
	if ic.Type != slack.InteractionTypeBlockActions || ic.User.ID == "" {
		return
	}
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	thread := ic.Container.ThreadTs
	if thread == "" {
		thread = ic.Container.MessageTs
	}
	if thread == "" {
		thread = ic.Message.Timestamp
	}
	for _, a := range ic.ActionCallback.BlockActions {
		if text := actionCommand(a.ActionID, a.Value); text != "" {
			c.run(ctx, cmd, notify.Command{Actor: "slack:" + ic.User.ID, Text: text, Addressed: true}, channel, thread)
		}
	}
}

// answer sends Slack its 200 now: it waits three seconds at most, and the
// command's reply is posted separately.
func answer(w http.ResponseWriter) {
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
}

// actionCommand is the command a button stands for, e.g. "ack 12 13", or ""
// for a button that is not ours or a value that is not a list of IDs.
func actionCommand(actionID, value string) string {
	verb := map[string]string{actionAck: "ack", actionResolve: "resolve"}[actionID]
	ids := strings.Fields(value)
	if verb == "" || len(ids) == 0 {
		return ""
	}
	for _, id := range ids {
		if strings.Trim(id, "0123456789") != "" {
			return ""
		}
	}
	return verb + " " + strings.Join(ids, " ")
}

// run runs one command typed (or pressed) in channel for a Slack user and
// posts the reply in thread.
func (c *Channel) run(ctx context.Context, cmd notify.Commander, command notify.Command, channel, thread string) {
	command.Channel, command.Room = c.name, channel
	reply := cmd.Command(ctx, command)
	if reply.Text == "" || channel == "" {
		return
	}
	if err := c.reply(ctx, channel, thread, replyText(reply)); err != nil {
		c.env.Logger.Warn("slack: posting a command reply failed", logChannel, c.name, logErr, err)
	}
}

// botUser is the app's own user ID, from auth.test once, or "" while it
// cannot be learnt (its messages carry bot_id and are skipped anyway).
func (c *Channel) botUser(ctx context.Context) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.botUserID == "" {
		resp, err := c.api.AuthTestContext(ctx)
		if err != nil {
			c.env.Logger.Warn("slack: auth.test failed", logChannel, c.name, logErr, err)
			return ""
		}
		c.botUserID = resp.UserID
	}
	return c.botUserID
}

// commandText is what a person typed, as the command grammar reads it:
// without a leading mention of the app and with Slack's escaping undone. It
// reports whether there was a mention: a line addressed to Klaxon gets an
// answer even if it is not a command.
func commandText(text, bot string) (string, bool) {
	text = strings.TrimSpace(text)
	mentioned := false
	for strings.HasPrefix(text, "<@") {
		end := strings.IndexByte(text, '>')
		if end < 0 {
			break
		}
		id, _, _ := strings.Cut(text[2:end], "|")
		if bot != "" && id != bot {
			break
		}
		text, mentioned = strings.TrimSpace(text[end+1:]), true
	}
	return strings.TrimSpace(unescaper.Replace(text)), mentioned
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// recent remembers the last n keys added, to drop Slack's retries.
type recent struct {
	mu    sync.Mutex
	keys  map[string]bool
	order []string
	next  int
}

func newRecent(n int) *recent {
	return &recent{keys: make(map[string]bool, n), order: make([]string, n)}
}

// add records key and reports whether it was new.
func (r *recent) add(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys[key] {
		return false
	}
	if old := r.order[r.next]; old != "" {
		delete(r.keys, old)
	}
	r.order[r.next], r.keys[key] = key, true
	r.next = (r.next + 1) % len(r.order)
	return true
}

// replyText is a command's reply as mrkdwn: the text, then its code (the
// commands to copy) in a code block, within Slack's length for a reply.
func replyText(r notify.Reply) string {
	text := truncMrkdwn(escape(r.Text), maxReply)
	if r.Code == "" {
		return text
	}
	room := maxReply - utf8.RuneCountInString(text) - 8 // the fences and a newline
	if room < 100 {
		return text
	}
	block, _ := codeBlock(escape(r.Code), room)
	return text + "\n" + block
}
