package chattest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The identity of the fake Slack workspace's bot.
const (
	SlackBotToken  = "xoxb-klaxon-test-token"
	SlackBotUserID = "UKLAXONBOT"
	SlackBotID     = "BKLAXONBOT"
	SlackTeamID    = "TKLAXON01"
	SlackAppID     = "AKLAXON01"
)

// slackEpoch is the first ts the fake hands out; each post adds a second, so
// timestamps are unique, ordered and stable across runs.
const slackEpoch = 1795748000

// Slack is a fake Slack Web API: chat.postMessage, chat.update,
// conversations.history, conversations.create, conversations.invite,
// conversations.setTopic and auth.test, answering in Slack's documented
// shapes (HTTP 200 with {"ok":true,…} or {"ok":false,"error":…}). It accepts
// the bodies slack-go sends (form-encoded with the token in a field) and JSON
// bodies with a Bearer token. It is safe for concurrent use.
type Slack struct {
	// URL is the api_url to configure: it ends in "/" as slack-go expects.
	URL string

	mu       sync.Mutex
	messages []*SlackMessage // every channel, in post order
	channels []*SlackChannel // made by conversations.create or CreateChannel
	calls    map[string]int  // requests per method, failed ones included
	posts    int
	updates  int
	failures []slackFailure
}

// SlackMessage is a message as the fake holds it: its current content after
// any chat.update. Blocks, Attachments and Metadata are the JSON the client
// sent (nil when it sent none).
type SlackMessage struct {
	Channel     string
	TS          string
	ThreadTS    string // the parent's ts for a thread reply, else ""
	Text        string
	Blocks      json.RawMessage
	Attachments json.RawMessage
	Metadata    json.RawMessage
	Edits       int // chat.update calls applied to it
}

// SlackChannel is a channel the fake knows by name: one conversations.create
// made, or CreateChannel.
type SlackChannel struct {
	ID      string
	Name    string
	Private bool
	Creator string
	Topic   string
	Members []string // the creator first, then as invited
}

type slackFailure struct {
	status     int    // an HTTP status, or 0 for an ok:false answer
	retryAfter string // Retry-After header with status
	err        string // Slack error code when status is 0
}

// NewSlack starts a fake Slack Web API on 127.0.0.1, closed when the test
// ends.
func NewSlack(t testing.TB) *Slack {
	t.Helper()
	s := &Slack{calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

// Fail makes the next n API calls (of any method) answer with HTTP status and,
// unless retryAfter is "", a Retry-After header: 429 is Slack's rate limit.
func (s *Slack) Fail(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, slackFailure{status: status, retryAfter: retryAfter})
	}
}

// FailWith makes the next n API calls answer HTTP 200 {"ok":false,"error":
// slackError}, e.g. "invalid_auth" or "channel_not_found".
func (s *Slack) FailWith(n int, slackError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, slackFailure{err: slackError})
	}
}

// CreateChannel makes a channel named name, as a person would, so that
// conversations.create answers name_taken for it; it returns its ID.
func (s *Slack) CreateChannel(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createLocked(name, false, "U0PERSON").ID
}

// Channels returns the channels conversations.create made, in order, as
// they are now.
func (s *Slack) Channels() []SlackChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SlackChannel
	for _, c := range s.channels {
		if c.Creator == SlackBotUserID {
			out = append(out, c.copy())
		}
	}
	return out
}

// Channel returns the channel id as it is now, if the fake knows it.
func (s *Slack) Channel(id string) (SlackChannel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelLocked(id); c != nil {
		return c.copy(), true
	}
	return SlackChannel{}, false
}

func (c *SlackChannel) copy() SlackChannel {
	out := *c
	out.Members = slices.Clone(c.Members)
	return out
}

// Messages returns the channel's messages, thread replies included, in the
// order they were posted, with their current content.
func (s *Slack) Messages(channel string) []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SlackMessage
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Thread returns the replies to the message ts in channel, in post order.
func (s *Slack) Thread(channel, ts string) []SlackMessage {
	var out []SlackMessage
	for _, m := range s.Messages(channel) {
		if m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// Posts is the number of successful chat.postMessage calls.
func (s *Slack) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// Updates is the number of successful chat.update calls.
func (s *Slack) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// Calls is the number of requests to method (e.g. "conversations.history"),
// failed ones included.
func (s *Slack) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *Slack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++

	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		if f.status != 0 {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			if f.status == http.StatusTooManyRequests {
				slackJSON(w, f.status, map[string]any{"ok": false, "error": "ratelimited"})
				return
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, "<html><body>upstream error</body></html>")
			return
		}
		slackError(w, f.err)
		return
	}

	p, err := readSlackParams(r)
	if err != nil {
		slackError(w, "invalid_form_data")
		return
	}
	if code := p.authError(r); code != "" {
		slackError(w, code)
		return
	}
	switch method {
	case "auth.test":
		slackJSON(w, http.StatusOK, map[string]any{
			"ok": true, "url": "https://klaxon-test.slack.com/", "team": "Klaxon Test", "user": "klaxon",
			"team_id": SlackTeamID, "user_id": SlackBotUserID, "bot_id": SlackBotID,
		})
	case "chat.postMessage":
		s.postMessage(w, p)
	case "chat.update":
		s.update(w, p)
	case "conversations.history":
		s.history(w, p)
	case "conversations.create":
		s.create(w, p)
	case "conversations.invite":
		s.invite(w, p)
	case "conversations.setTopic":
		s.setTopic(w, p)
	default:
		slackError(w, "unknown_method")
	}
}

func (s *Slack) postMessage(w http.ResponseWriter, p slackParams) {
	m := &SlackMessage{Channel: p.get("channel"), ThreadTS: p.get("thread_ts"), Text: p.get("text")}
	if m.Channel == "" {
		slackError(w, "channel_not_found")
		return
	}
	if code := p.content(m); code != "" {
		slackError(w, code)
		return
	}
	if m.Text == "" && m.Blocks == nil && m.Attachments == nil {
		slackError(w, "no_text")
		return
	}
	s.posts++
	m.TS = fmt.Sprintf("%d.%06d", slackEpoch+s.posts, s.posts)
	s.messages = append(s.messages, m)
	slackJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "message": slackWire(m, false)})
}

func (s *Slack) update(w http.ResponseWriter, p slackParams) {
	channel, ts := p.get("channel"), p.get("ts")
	i := slices.IndexFunc(s.messages, func(m *SlackMessage) bool { return m.Channel == channel && m.TS == ts })
	if i < 0 {
		slackError(w, "message_not_found")
		return
	}
	m := *s.messages[i]
	if text, ok := p.lookup("text"); ok {
		m.Text = text
	}
	if code := p.content(&m); code != "" {
		slackError(w, code)
		return
	}
	m.Edits++
	*s.messages[i] = m
	s.updates++
	slackJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text, "message": slackWire(&m, false)})
}

func (s *Slack) history(w http.ResponseWriter, p slackParams) {
	channel := p.get("channel")
	if channel == "" {
		slackError(w, "channel_not_found")
		return
	}
	limit := 100
	if n, err := strconv.Atoi(p.get("limit")); err == nil && n > 0 {
		limit = min(n, 999)
	}
	meta := p.get("include_all_metadata") == "1" || p.get("include_all_metadata") == "true"
	msgs := []map[string]any{}
	more := false
	// Newest first, top-level messages only, as Slack answers.
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != channel || m.ThreadTS != "" {
			continue
		}
		if len(msgs) == limit {
			more = true
			break
		}
		wire := slackWire(m, meta)
		if n := s.replies(m); n > 0 {
			wire["thread_ts"], wire["reply_count"] = m.TS, n
		}
		msgs = append(msgs, wire)
	}
	slackJSON(w, http.StatusOK, map[string]any{
		"ok": true, "messages": msgs, "has_more": more, "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": ""},
	})
}

// slackChannelName is what Slack accepts as a channel name: lowercase
// letters, digits, hyphens and underscores.
var slackChannelName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// slackMaxTopic is Slack's limit on a topic, in characters.
const slackMaxTopic = 250

func (s *Slack) create(w http.ResponseWriter, p slackParams) {
	name := p.get("name")
	switch {
	case name == "":
		slackError(w, "invalid_name_required")
		return
	case utf8.RuneCountInString(name) > 80:
		slackError(w, "invalid_name_maxlength")
		return
	case !slackChannelName.MatchString(name):
		slackError(w, "invalid_name_specials")
		return
	}
	for _, c := range s.channels {
		if c.Name == name {
			slackError(w, "name_taken")
			return
		}
	}
	c := s.createLocked(name, p.get("is_private") == "true", SlackBotUserID)
	slackJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelWire(c)})
}

// createLocked adds a channel made by creator, a member of it.
func (s *Slack) createLocked(name string, private bool, creator string) *SlackChannel {
	c := &SlackChannel{
		ID: fmt.Sprintf("C0ROOM%04d", len(s.channels)+1), Name: name, Private: private,
		Creator: creator, Members: []string{creator},
	}
	s.channels = append(s.channels, c)
	return c
}

func (s *Slack) channelLocked(id string) *SlackChannel {
	for _, c := range s.channels {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// invite adds users (comma-separated) to a channel the bot is in. As
// Slack does without force, one user it cannot invite fails the call and
// nobody is invited.
func (s *Slack) invite(w http.ResponseWriter, p slackParams) {
	c := s.channelLocked(p.get("channel"))
	switch {
	case c == nil:
		slackError(w, "channel_not_found")
		return
	case !slices.Contains(c.Members, SlackBotUserID):
		slackError(w, "not_in_channel")
		return
	case p.get("users") == "":
		slackError(w, "no_user")
		return
	}
	users := strings.Split(p.get("users"), ",")
	for _, u := range users {
		switch {
		case u == SlackBotUserID:
			slackError(w, "cant_invite_self")
			return
		case !slackUserID.MatchString(u):
			slackError(w, "user_not_found")
			return
		case slices.Contains(c.Members, u):
			slackError(w, "already_in_channel")
			return
		}
	}
	for _, u := range users {
		if !slices.Contains(c.Members, u) {
			c.Members = append(c.Members, u)
		}
	}
	slackJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelWire(c)})
}

// slackUserID is a well-formed user ID: the fake knows every such user.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

func (s *Slack) setTopic(w http.ResponseWriter, p slackParams) {
	c := s.channelLocked(p.get("channel"))
	topic := p.get("topic")
	switch {
	case c == nil:
		slackError(w, "channel_not_found")
		return
	case !slices.Contains(c.Members, SlackBotUserID):
		slackError(w, "not_in_channel")
		return
	case utf8.RuneCountInString(topic) > slackMaxTopic:
		slackError(w, "too_long")
		return
	}
	c.Topic = topic
	slackJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelWire(c)})
}

// slackChannelWire is a conversation object as conversations.create and
// its kin return it.
func slackChannelWire(c *SlackChannel) map[string]any {
	topic := map[string]any{"value": c.Topic, "creator": "", "last_set": 0}
	if c.Topic != "" {
		topic["creator"], topic["last_set"] = SlackBotUserID, slackEpoch
	}
	return map[string]any{
		"id": c.ID, "name": c.Name, "name_normalized": c.Name, "is_channel": true, "is_group": false,
		"is_im": false, "is_mpim": false, "is_private": c.Private, "created": slackEpoch, "creator": c.Creator,
		"is_archived": false, "is_general": false, "unlinked": 0, "is_shared": false, "is_ext_shared": false,
		"is_org_shared": false, "is_pending_ext_shared": false, "pending_shared": []string{},
		"context_team_id": SlackTeamID, "is_member": slices.Contains(c.Members, SlackBotUserID),
		"last_read": "0000000000.000000", "topic": topic,
		"purpose":        map[string]any{"value": "", "creator": "", "last_set": 0},
		"previous_names": []string{}, "priority": 0,
	}
}

func (s *Slack) replies(parent *SlackMessage) int {
	n := 0
	for _, m := range s.messages {
		if m.Channel == parent.Channel && m.ThreadTS == parent.TS {
			n++
		}
	}
	return n
}

// slackWire is a message as the Web API returns it.
func slackWire(m *SlackMessage, withMetadata bool) map[string]any {
	out := map[string]any{
		"type": "message", "user": SlackBotUserID, "bot_id": SlackBotID, "app_id": SlackAppID,
		"team": SlackTeamID, "text": m.Text, "ts": m.TS,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.Attachments != nil {
		out["attachments"] = m.Attachments
	}
	if withMetadata && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

// slackParams are a Web API call's arguments, from a form or a JSON body.
type slackParams struct {
	form url.Values
	json map[string]json.RawMessage
}

func readSlackParams(r *http.Request) (slackParams, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var p slackParams
		err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p.json)
		return p, err
	}
	err := r.ParseForm()
	return slackParams{form: r.Form}, err
}

// lookup returns an argument as a string: a JSON string unquoted, any other
// JSON value verbatim.
func (p slackParams) lookup(key string) (string, bool) {
	if p.json != nil {
		raw, ok := p.json[key]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		return string(raw), true
	}
	v, ok := p.form[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func (p slackParams) get(key string) string {
	v, _ := p.lookup(key)
	return v
}

// raw returns a JSON-valued argument (blocks, attachments, metadata), which
// a form carries as a JSON string; ok is false when it is absent, code is
// set when it is not valid JSON.
func (p slackParams) raw(key string) (json.RawMessage, bool) {
	if p.json != nil {
		raw, ok := p.json[key]
		return raw, ok
	}
	v, ok := p.lookup(key)
	return json.RawMessage(v), ok
}

// content sets the JSON-valued fields of m that the call carries, checking
// them as Slack does; it returns a Slack error code or "".
func (p slackParams) content(m *SlackMessage) string {
	for _, f := range []struct {
		key, code string
		dst       *json.RawMessage
		array     bool
	}{
		{"blocks", "invalid_blocks", &m.Blocks, true},
		{"attachments", "invalid_attachments", &m.Attachments, true},
		{"metadata", "invalid_metadata_format", &m.Metadata, false},
	} {
		raw, ok := p.raw(f.key)
		if !ok {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return f.code
		}
		if _, isArray := v.([]any); f.array && !isArray {
			return f.code
		}
		*f.dst = slices.Clone(raw)
	}
	return ""
}

// authError checks the bot token, sent as a Bearer header or a form field.
func (p slackParams) authError(r *http.Request) string {
	token := p.get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	switch token {
	case "":
		return "not_authed"
	case SlackBotToken:
		return ""
	}
	return "invalid_auth"
}

func slackError(w http.ResponseWriter, code string) {
	slackJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func slackJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SlackSign returns the headers Slack signs a request to an app with:
// X-Slack-Request-Timestamp and X-Slack-Signature, v0=HMAC-SHA256 of
// "v0:<timestamp>:<body>" keyed with the app's signing secret.
func SlackSign(secret string, body []byte, ts time.Time) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// SlackRequest builds a POST to target as Slack sends it to an app: the
// body signed with secret at ts, with contentType.
func SlackRequest(target, secret string, body []byte, contentType string, ts time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
	for k, v := range SlackSign(secret, body, ts) {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", contentType)
	return r
}

// SlackEvent is the inner event of an Events API callback: a message or an
// app_mention. Type defaults to "message".
type SlackEvent struct {
	EventID  string // the outer event_id Slack deduplicates retries by
	Type     string
	SubType  string
	User     string
	BotID    string
	Text     string
	Channel  string
	TS       string
	ThreadTS string
}

// SlackEventJSON returns an event_callback body carrying e, as the Events API
// posts it.
func SlackEventJSON(e SlackEvent) []byte {
	if e.Type == "" {
		e.Type = "message"
	}
	inner := map[string]any{"type": e.Type, "text": e.Text, "channel": e.Channel, "ts": e.TS, "event_ts": e.TS}
	for k, v := range map[string]string{"subtype": e.SubType, "user": e.User, "bot_id": e.BotID, "thread_ts": e.ThreadTS} {
		if v != "" {
			inner[k] = v
		}
	}
	if e.Type == "message" {
		inner["channel_type"] = "channel"
	}
	body, _ := json.Marshal(map[string]any{
		"token": "legacy-verification-token", "team_id": SlackTeamID, "api_app_id": SlackAppID,
		"type": "event_callback", "event_id": e.EventID, "event_time": slackEpoch,
		"event": inner, "authorizations": []map[string]any{{"team_id": SlackTeamID, "user_id": SlackBotUserID, "is_bot": true}},
	})
	return body
}

// SlackURLVerificationJSON returns the url_verification body Slack sends when
// an app's Request URL is set.
func SlackURLVerificationJSON(challenge string) []byte {
	body, _ := json.Marshal(map[string]string{"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"})
	return body
}

// SlackAction is a button press on a message.
type SlackAction struct {
	UserID    string
	UserName  string
	ActionID  string
	Value     string
	ChannelID string
	MessageTS string // the ts of the message the button is on
}

// SlackBlockActionsForm returns the form body (payload=<JSON>) of a
// block_actions interaction, as Slack posts it to the Interactivity URL.
func SlackBlockActionsForm(a SlackAction) []byte {
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": SlackTeamID, "domain": "klaxon-test"},
		"user":         map[string]any{"id": a.UserID, "username": a.UserName, "name": a.UserName, "team_id": SlackTeamID},
		"api_app_id":   SlackAppID,
		"token":        "legacy-verification-token",
		"container":    map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID, "is_ephemeral": false},
		"trigger_id":   "1.2.3",
		"channel":      map[string]any{"id": a.ChannelID, "name": "alerts"},
		"message":      map[string]any{"type": "message", "user": SlackBotUserID, "bot_id": SlackBotID, "ts": a.MessageTS, "text": ""},
		"response_url": "https://hooks.slack.com/actions/" + SlackTeamID + "/1/x",
		"actions": []map[string]any{{
			"action_id": a.ActionID, "block_id": "klaxon_actions", "type": "button", "value": a.Value,
			"text": map[string]any{"type": "plain_text", "text": a.ActionID}, "action_ts": "1795748000.000001",
		}},
	})
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// SlackSlashCommand is a slash command a user typed.
type SlackSlashCommand struct {
	Command   string // e.g. "/klaxon"
	Text      string
	UserID    string
	UserName  string
	ChannelID string
}

// SlackSlashCommandForm returns the form body Slack posts for a slash
// command.
func SlackSlashCommandForm(c SlackSlashCommand) []byte {
	return []byte(url.Values{
		"token": {"legacy-verification-token"}, "team_id": {SlackTeamID}, "team_domain": {"klaxon-test"},
		"channel_id": {c.ChannelID}, "channel_name": {"alerts"}, "user_id": {c.UserID}, "user_name": {c.UserName},
		"command": {c.Command}, "text": {c.Text}, "api_app_id": {SlackAppID},
		"response_url": {"https://hooks.slack.com/commands/" + SlackTeamID + "/1/x"}, "trigger_id": {"1.2.3"},
	}.Encode())
}
