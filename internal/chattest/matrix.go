// Package chattest has fake chat platforms for tests: HTTP servers that
// follow each platform's documented API shapes, with hooks to play the
// people in the room and to see what was posted.
package chattest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MatrixServerName is the fake homeserver's server name, the part after
// the colon in the room IDs it makes.
const MatrixServerName = "example.org"

// matrixMaxEvent is the spec's limit on an event's size; the fake applies it
// to content alone.
const matrixMaxEvent = 65536

// matrixMaxWait bounds a /sync long-poll whatever timeout it asks for.
const matrixMaxWait = time.Minute

// Matrix is a fake Matrix homeserver: the client-server API v3 endpoints a
// bot uses (whoami, directory, join, createRoom, send, state, sync), with
// their documented
// request and response shapes, errors included. It is safe for concurrent
// use.
type Matrix struct {
	// URL is the homeserver's base URL, e.g. http://127.0.0.1:41234.
	URL string

	t    testing.TB
	srv  *httptest.Server
	done chan struct{} // closed on cleanup: long-polls return

	mu      sync.Mutex
	wake    chan struct{}              // closed and replaced when an event is added
	tokens  map[string]string          // access token → user ID
	aliases map[string]string          // alias → room ID
	rooms   map[string]map[string]bool // room → joined members
	invited map[string]map[string]bool // room → invited, not yet joined
	created []string                   // rooms made by createRoom, in order
	events  []*matrixEvent             // every event, in stream order: position = index+1
	txns    map[string]string
	calls   map[string]int
	fails   []matrixFailure
}

type matrixEvent struct {
	roomID   string
	id       string
	sender   string
	typ      string
	stateKey *string
	txnID    string
	token    string         // the access token it was sent with
	content  map[string]any // as sent
	current  map[string]any // after edits
	edits    int
	ts       int64
}

// MatrixRoom is a room as its state is now.
type MatrixRoom struct {
	ID       string
	Creator  string // who made it with createRoom; "" for CreateRoom
	Name     string // m.room.name
	Topic    string // m.room.topic
	JoinRule string // m.room.join_rules: "invite" for a private_chat room
	Invited  []string
	Members  []string // joined
}

type matrixFailure struct {
	status     int
	retryAfter time.Duration
}

// MatrixMessage is an m.room.message event as the room shows it now: with
// the content of its latest edit. Edits themselves are not listed.
type MatrixMessage struct {
	EventID string
	Sender  string
	TxnID   string // the transaction ID it was sent with; "" for Say
	// Content is the current content: the latest edit's m.new_content,
	// with the original's m.relates_to.
	Content       map[string]any
	MsgType       string
	Body          string
	FormattedBody string
	Mentions      []string // m.mentions.user_ids
	Edits         int      // how many m.replace edits were applied
	// RelType and RelatesTo are its m.relates_to: e.g. "m.thread" and the
	// thread's root event. InReplyTo is m.relates_to.m.in_reply_to.
	RelType   string
	RelatesTo string
	InReplyTo string
}

// NewMatrix starts a fake homeserver on 127.0.0.1, stopped when the test
// ends.
func NewMatrix(t testing.TB) *Matrix {
	t.Helper()
	m := &Matrix{
		t:       t,
		done:    make(chan struct{}),
		wake:    make(chan struct{}),
		tokens:  map[string]string{},
		aliases: map[string]string{},
		rooms:   map[string]map[string]bool{},
		invited: map[string]map[string]bool{},
		txns:    map[string]string{},
		calls:   map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/versions", func(w http.ResponseWriter, r *http.Request) {
		matrixJSON(w, http.StatusOK, map[string]any{"versions": []string{"v1.11"}})
	})
	mux.HandleFunc("GET /_matrix/client/v3/account/whoami", m.whoami)
	mux.HandleFunc("GET /_matrix/client/v3/directory/room/{alias}", m.directory)
	mux.HandleFunc("POST /_matrix/client/v3/join/{room}", m.join)
	mux.HandleFunc("POST /_matrix/client/v3/createRoom", m.createRoom)
	mux.HandleFunc("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", m.send)
	// The state key may be empty, with or without the trailing slash.
	mux.HandleFunc("PUT /_matrix/client/v3/rooms/{room}/state/{type}", m.putState)
	mux.HandleFunc("PUT /_matrix/client/v3/rooms/{room}/state/{type}/{key...}", m.putState)
	mux.HandleFunc("GET /_matrix/client/v3/rooms/{room}/state/{type}", m.getState)
	mux.HandleFunc("GET /_matrix/client/v3/rooms/{room}/state/{type}/{key...}", m.getState)
	mux.HandleFunc("GET /_matrix/client/v3/sync", m.sync)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		matrixError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
	})
	m.srv = httptest.NewServer(mux)
	m.URL = m.srv.URL
	t.Cleanup(func() {
		close(m.done)
		m.srv.Close()
	})
	return m
}

// AddUser lets the holder of token act as userID.
func (m *Matrix) AddUser(userID, token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[token] = userID
}

// CreateRoom creates a room anyone may join, with alias (e.g.
// "#alerts:example.org", or "" for none) and members already joined, and
// returns its ID.
func (m *Matrix) CreateRoom(alias string, members ...string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.newRoomLocked()
	if alias != "" {
		m.aliases[alias] = id
	}
	for _, u := range members {
		m.joinLocked(id, u)
	}
	return id
}

func (m *Matrix) newRoomLocked() string {
	id := fmt.Sprintf("!room%d:%s", len(m.rooms)+1, MatrixServerName)
	m.rooms[id] = map[string]bool{}
	m.invited[id] = map[string]bool{}
	return id
}

// CreatedRooms returns the rooms createRoom made, in order, as they are
// now.
func (m *Matrix) CreatedRooms() []MatrixRoom {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MatrixRoom
	for _, id := range m.created {
		out = append(out, m.roomLocked(id))
	}
	return out
}

// Room returns the room's state now, if the room exists.
func (m *Matrix) Room(id string) (MatrixRoom, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[id] == nil {
		return MatrixRoom{}, false
	}
	return m.roomLocked(id), true
}

// roomLocked reads a room's state from its state events, in order.
func (m *Matrix) roomLocked(id string) MatrixRoom {
	r := MatrixRoom{ID: id}
	for _, e := range m.events {
		if e.roomID != id || e.stateKey == nil {
			continue
		}
		switch e.typ {
		case "m.room.create":
			r.Creator, _ = e.content["creator"].(string)
		case "m.room.name":
			r.Name, _ = e.content["name"].(string)
		case "m.room.topic":
			r.Topic, _ = e.content["topic"].(string)
		case "m.room.join_rules":
			r.JoinRule, _ = e.content["join_rule"].(string)
		}
	}
	for _, e := range m.events {
		if e.roomID != id || e.typ != "m.room.member" || e.stateKey == nil {
			continue
		}
		u := *e.stateKey
		switch {
		case m.rooms[id][u] && !matrixContains(r.Members, u):
			r.Members = append(r.Members, u)
		case m.invited[id][u] && !matrixContains(r.Invited, u):
			r.Invited = append(r.Invited, u)
		}
	}
	return r
}

// Say posts text to the room as userID (joining them first if need be), as
// a person typing in a client would, and returns the event ID.
func (m *Matrix) Say(userID, roomID, text string) string {
	return m.Post(userID, roomID, map[string]any{"msgtype": "m.text", "body": text})
}

// SayInThread posts text as userID in the thread of root.
func (m *Matrix) SayInThread(userID, roomID, root, text string) string {
	return m.Post(userID, roomID, map[string]any{
		"msgtype": "m.text",
		"body":    text,
		"m.relates_to": map[string]any{
			"rel_type": "m.thread", "event_id": root, "is_falling_back": true,
			"m.in_reply_to": map[string]any{"event_id": root},
		},
	})
}

// Post posts an m.room.message with any content as userID: a reply with a
// fallback, a message with a mention pill, an image.
func (m *Matrix) Post(userID, roomID string, content map[string]any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[roomID] == nil {
		m.t.Fatalf("chattest: Post to unknown room %s", roomID)
	}
	m.joinLocked(roomID, userID)
	return m.addLocked(&matrixEvent{roomID: roomID, sender: userID, typ: "m.room.message", content: matrixCopy(content)})
}

// Messages lists the room's m.room.message events in order, each with its
// current (edited) content. Edits are folded into what they edit.
func (m *Matrix) Messages(roomID string) []MatrixMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MatrixMessage
	for _, e := range m.events {
		if e.roomID != roomID || e.typ != "m.room.message" || matrixRelType(e.content) == "m.replace" {
			continue
		}
		c := matrixCopy(e.current)
		msg := MatrixMessage{EventID: e.id, Sender: e.sender, TxnID: e.txnID, Content: c, Edits: e.edits}
		msg.MsgType, _ = c["msgtype"].(string)
		msg.Body, _ = c["body"].(string)
		msg.FormattedBody, _ = c["formatted_body"].(string)
		if mentions, ok := c["m.mentions"].(map[string]any); ok {
			ids, _ := mentions["user_ids"].([]any)
			for _, id := range ids {
				s, _ := id.(string)
				msg.Mentions = append(msg.Mentions, s)
			}
		}
		if rel, ok := c["m.relates_to"].(map[string]any); ok {
			msg.RelType, _ = rel["rel_type"].(string)
			msg.RelatesTo, _ = rel["event_id"].(string)
			if r, ok := rel["m.in_reply_to"].(map[string]any); ok {
				msg.InReplyTo, _ = r["event_id"].(string)
			}
		}
		out = append(out, msg)
	}
	return out
}

// Calls counts the API calls made to one endpoint, failed ones included:
// "whoami", "directory", "join", "createRoom", "send", "state" or "sync".
func (m *Matrix) Calls(endpoint string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[endpoint]
}

// Fail makes the next n API calls (any endpoint but /versions) fail with
// status: 429 answers M_LIMIT_EXCEEDED with retry_after_ms (and a
// Retry-After header in whole seconds, as newer servers add); 401
// M_UNKNOWN_TOKEN; 403 M_FORBIDDEN; 404 M_NOT_FOUND; others M_UNKNOWN.
func (m *Matrix) Fail(n, status int, retryAfter time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		m.fails = append(m.fails, matrixFailure{status: status, retryAfter: retryAfter})
	}
}

// begin counts a call to endpoint, plays a queued failure, and checks the
// access token, returning the caller's user ID and token, or ok false when
// it has answered already.
func (m *Matrix) begin(w http.ResponseWriter, r *http.Request, endpoint string) (user, token string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[endpoint]++
	if r.URL.Query().Has("access_token") {
		select {
		case <-m.done:
		default:
			m.t.Errorf("chattest: %s %s: access token in the URL, where logs see it; send it in the Authorization header", r.Method, r.URL.Path)
		}
	}
	if len(m.fails) > 0 {
		f := m.fails[0]
		m.fails = m.fails[1:]
		matrixFail(w, f)
		return "", "", false
	}
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || token == "" {
		matrixError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		return "", "", false
	}
	user = m.tokens[token]
	if user == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="matrix"`)
		matrixJSON(w, http.StatusUnauthorized, map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown access token", "soft_logout": false})
		return "", "", false
	}
	return user, token, true
}

func matrixFail(w http.ResponseWriter, f matrixFailure) {
	switch f.status {
	case http.StatusTooManyRequests:
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
		}
		matrixJSON(w, f.status, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": f.retryAfter.Milliseconds()})
	case http.StatusUnauthorized:
		matrixError(w, f.status, "M_UNKNOWN_TOKEN", "Unknown access token")
	case http.StatusForbidden:
		matrixError(w, f.status, "M_FORBIDDEN", "You are not allowed to do that")
	case http.StatusNotFound:
		matrixError(w, f.status, "M_NOT_FOUND", "Not found")
	default:
		matrixError(w, f.status, "M_UNKNOWN", "Internal server error")
	}
}

func (m *Matrix) whoami(w http.ResponseWriter, r *http.Request) {
	user, _, ok := m.begin(w, r, "whoami")
	if !ok {
		return
	}
	matrixJSON(w, http.StatusOK, map[string]any{"user_id": user, "device_id": "FAKEDEVICE", "is_guest": false})
}

func (m *Matrix) directory(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := m.begin(w, r, "directory"); !ok {
		return
	}
	alias := r.PathValue("alias")
	m.mu.Lock()
	id := m.aliases[alias]
	m.mu.Unlock()
	if id == "" {
		matrixError(w, http.StatusNotFound, "M_NOT_FOUND", fmt.Sprintf("Room alias %s not found", alias))
		return
	}
	matrixJSON(w, http.StatusOK, map[string]any{"room_id": id, "servers": []string{MatrixServerName}})
}

func (m *Matrix) join(w http.ResponseWriter, r *http.Request) {
	user, _, ok := m.begin(w, r, "join")
	if !ok {
		return
	}
	if _, err := matrixBody(r); err != nil {
		matrixError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	room := r.PathValue("room")
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasPrefix(room, "#") {
		room = m.aliases[room]
	}
	if m.rooms[room] == nil {
		matrixError(w, http.StatusNotFound, "M_NOT_FOUND", "No known servers")
		return
	}
	if m.joinRuleLocked(room) == "invite" && !m.rooms[room][user] && !m.invited[room][user] {
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", "You are not invited to this room.")
		return
	}
	m.joinLocked(room, user)
	matrixJSON(w, http.StatusOK, map[string]any{"room_id": room})
}

func (m *Matrix) send(w http.ResponseWriter, r *http.Request) {
	user, token, ok := m.begin(w, r, "send")
	if !ok {
		return
	}
	content, err := matrixBody(r)
	if err != nil {
		matrixError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	if b, _ := json.Marshal(content); len(b) > matrixMaxEvent {
		matrixError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "event too large")
		return
	}
	room, typ, txn := r.PathValue("room"), r.PathValue("type"), r.PathValue("txn")
	m.mu.Lock()
	defer m.mu.Unlock()
	members := m.rooms[room]
	if members == nil {
		matrixError(w, http.StatusNotFound, "M_NOT_FOUND", "Unknown room "+room)
		return
	}
	if !members[user] {
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s", user, room))
		return
	}
	// Transaction IDs are scoped to the access token and the path.
	key := token + "\x00" + room + "\x00" + typ + "\x00" + txn
	if id, seen := m.txns[key]; seen {
		matrixJSON(w, http.StatusOK, map[string]any{"event_id": id})
		return
	}
	e := &matrixEvent{roomID: room, sender: user, typ: typ, txnID: txn, token: token, content: content}
	id := m.addLocked(e)
	m.txns[key] = id
	m.applyEditLocked(e)
	matrixJSON(w, http.StatusOK, map[string]any{"event_id": id})
}

// createRoom makes a room as the spec's createRoom does: the creator
// joined, the preset's rules, then name, topic and invites, each a state
// event. Aliases, initial_state and the rest are refused: the fake does not
// keep them.
func (m *Matrix) createRoom(w http.ResponseWriter, r *http.Request) {
	user, _, ok := m.begin(w, r, "createRoom")
	if !ok {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		matrixError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	var req struct {
		Name       *string  `json:"name"`
		Topic      *string  `json:"topic"`
		Invite     []string `json:"invite"`
		Preset     string   `json:"preset"`
		IsDirect   bool     `json:"is_direct"`
		Visibility string   `json:"visibility"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		matrixError(w, http.StatusBadRequest, "M_BAD_JSON", "the fake's createRoom takes name, topic, invite, preset, is_direct, visibility: "+err.Error())
		return
	}
	joinRule := map[string]string{"": "invite", "private_chat": "invite", "trusted_private_chat": "invite", "public_chat": "public"}[req.Preset]
	if joinRule == "" {
		matrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Unknown preset "+req.Preset)
		return
	}
	if req.Preset == "" && req.Visibility == "public" {
		joinRule = "public"
	}
	for _, u := range req.Invite {
		if !matrixUserID.MatchString(u) {
			matrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Invalid user ID "+u)
			return
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.newRoomLocked()
	m.created = append(m.created, id)
	m.stateLocked(id, user, "m.room.create", "", map[string]any{"creator": user, "room_version": "10"})
	m.joinLocked(id, user)
	m.stateLocked(id, user, "m.room.power_levels", "", map[string]any{"users": map[string]any{user: 100}, "users_default": 0, "state_default": 50, "events_default": 0})
	m.stateLocked(id, user, "m.room.join_rules", "", map[string]any{"join_rule": joinRule})
	m.stateLocked(id, user, "m.room.history_visibility", "", map[string]any{"history_visibility": "shared"})
	if req.Name != nil {
		m.stateLocked(id, user, "m.room.name", "", map[string]any{"name": *req.Name})
	}
	if req.Topic != nil {
		m.stateLocked(id, user, "m.room.topic", "", map[string]any{"topic": *req.Topic})
	}
	for _, u := range req.Invite {
		if u != user && !m.invited[id][u] {
			m.invited[id][u] = true
			m.stateLocked(id, user, "m.room.member", u, map[string]any{"membership": "invite"})
		}
	}
	matrixJSON(w, http.StatusOK, map[string]any{"room_id": id})
}

// matrixUserID is a user ID, loosely: sigil, localpart, server.
var matrixUserID = regexp.MustCompile(`^@[^:\s]+:[^\s]+$`)

// putState sets a state event. In a room createRoom made, only its
// creator may (state_default 50, everyone else 0).
func (m *Matrix) putState(w http.ResponseWriter, r *http.Request) {
	user, _, ok := m.begin(w, r, "state")
	if !ok {
		return
	}
	content, err := matrixBody(r)
	if err != nil {
		matrixError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	room, typ, key := r.PathValue("room"), r.PathValue("type"), r.PathValue("key")
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.rooms[room] == nil:
		matrixError(w, http.StatusNotFound, "M_NOT_FOUND", "Unknown room "+room)
		return
	case !m.rooms[room][user]:
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s", user, room))
		return
	case typ == "m.room.member" || typ == "m.room.create":
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", "the fake does not set "+typ+" this way")
		return
	}
	if creator := m.roomLocked(room).Creator; creator != "" && creator != user {
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", "You don't have permission to post that to the room. user_level (0) < send_level (50)")
		return
	}
	matrixJSON(w, http.StatusOK, map[string]any{"event_id": m.stateLocked(room, user, typ, key, content)})
}

// getState answers a state event's content.
func (m *Matrix) getState(w http.ResponseWriter, r *http.Request) {
	user, _, ok := m.begin(w, r, "state")
	if !ok {
		return
	}
	room, typ, key := r.PathValue("room"), r.PathValue("type"), r.PathValue("key")
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[room] == nil || !m.rooms[room][user] {
		matrixError(w, http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s", user, room))
		return
	}
	var found *matrixEvent
	for _, e := range m.events {
		if e.roomID == room && e.typ == typ && e.stateKey != nil && *e.stateKey == key {
			found = e
		}
	}
	if found == nil {
		matrixError(w, http.StatusNotFound, "M_NOT_FOUND", "Event not found.")
		return
	}
	matrixJSON(w, http.StatusOK, matrixCopy(found.content))
}

// stateLocked adds a state event and returns its ID.
func (m *Matrix) stateLocked(room, sender, typ, key string, content map[string]any) string {
	return m.addLocked(&matrixEvent{roomID: room, sender: sender, typ: typ, stateKey: &key, content: content})
}

func (m *Matrix) joinRuleLocked(room string) string {
	return m.roomLocked(room).JoinRule
}

// applyEditLocked applies e to the event it replaces, if it is a valid
// m.replace edit: same room, type and sender, of an event that is not
// itself an edit, with an m.new_content object. Invalid edits stay in the
// timeline unapplied, as clients ignore them.
func (m *Matrix) applyEditLocked(e *matrixEvent) {
	if matrixRelType(e.content) != "m.replace" {
		return
	}
	rel, _ := e.content["m.relates_to"].(map[string]any)
	target, _ := rel["event_id"].(string)
	newContent, ok := e.content["m.new_content"].(map[string]any)
	if !ok {
		return
	}
	for _, orig := range m.events {
		if orig.id != target {
			continue
		}
		if orig.roomID != e.roomID || orig.typ != e.typ || orig.sender != e.sender || matrixRelType(orig.content) == "m.replace" {
			return
		}
		cur := matrixCopy(newContent)
		delete(cur, "m.relates_to") // an edit cannot change the relation
		if r, ok := orig.content["m.relates_to"]; ok {
			cur["m.relates_to"] = matrixCopy(map[string]any{"r": r})["r"]
		}
		orig.current, orig.edits = cur, orig.edits+1
		return
	}
}

// sync answers /sync: since "" is an initial sync (the last events of each
// joined room); otherwise the events after since, waiting up to timeout ms
// for one.
func (m *Matrix) sync(w http.ResponseWriter, r *http.Request) {
	user, token, ok := m.begin(w, r, "sync")
	if !ok {
		return
	}
	q := r.URL.Query()
	since, initial := 0, q.Get("since") == ""
	if s := q.Get("since"); s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "s"))
		if !strings.HasPrefix(s, "s") || err != nil || n < 0 {
			matrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Invalid since token "+s)
			return
		}
		since = n
	}
	timeout := time.Duration(0)
	if s := q.Get("timeout"); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms < 0 {
			matrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Invalid timeout "+s)
			return
		}
		timeout = min(time.Duration(ms)*time.Millisecond, matrixMaxWait)
	}
	f, err := parseMatrixFilter(q.Get("filter"))
	if err != nil {
		matrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", err.Error())
		return
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		resp, n := m.syncLocked(user, token, since, initial, f)
		wake := m.wake
		m.mu.Unlock()
		if n > 0 || initial || timeout == 0 {
			matrixJSON(w, http.StatusOK, resp)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			timeout = 0
		case <-r.Context().Done():
			return
		case <-m.done:
			timeout = 0
		}
	}
}

// syncLocked builds a /sync answer and counts the timeline events in it.
func (m *Matrix) syncLocked(user, token string, since int, initial bool, f matrixFilter) (map[string]any, int) {
	byRoom := map[string][]*matrixEvent{}
	for _, e := range m.events[min(since, len(m.events)):] {
		if m.rooms[e.roomID][user] && f.wants(e) {
			byRoom[e.roomID] = append(byRoom[e.roomID], e)
		}
	}
	join := map[string]any{}
	total := 0
	for room, members := range m.rooms {
		evs := byRoom[room]
		if !members[user] || (!initial && len(evs) == 0) || !f.wantsRoom(room) {
			continue
		}
		limited := len(evs) > f.limit
		if limited {
			evs = evs[len(evs)-f.limit:]
		}
		total += len(evs)
		timeline := make([]map[string]any, 0, len(evs))
		for _, e := range evs {
			timeline = append(timeline, e.clientEvent(token))
		}
		join[room] = map[string]any{
			"timeline":             map[string]any{"events": timeline, "limited": limited, "prev_batch": fmt.Sprintf("s%d", since)},
			"state":                map[string]any{"events": []any{}},
			"ephemeral":            map[string]any{"events": []any{}},
			"account_data":         map[string]any{"events": []any{}},
			"unread_notifications": map[string]any{"highlight_count": 0, "notification_count": 0},
		}
	}
	return map[string]any{
		"next_batch":   fmt.Sprintf("s%d", len(m.events)),
		"rooms":        map[string]any{"join": join, "invite": map[string]any{}, "leave": map[string]any{}},
		"presence":     map[string]any{"events": []any{}},
		"account_data": map[string]any{"events": []any{}},
	}, total
}

// clientEvent is e as /sync shows it to the holder of token: the content
// as sent, and the transaction ID only to its sender's device.
func (e *matrixEvent) clientEvent(token string) map[string]any {
	ev := map[string]any{
		"type": e.typ, "event_id": e.id, "sender": e.sender,
		"origin_server_ts": e.ts, "content": matrixCopy(e.content), "unsigned": map[string]any{},
	}
	if e.stateKey != nil {
		ev["state_key"] = *e.stateKey
	}
	if e.txnID != "" && e.token == token {
		ev["unsigned"] = map[string]any{"transaction_id": e.txnID}
	}
	return ev
}

// matrixFilter is the part of an inline /sync filter the fake applies:
// room.rooms, room.timeline.types and room.timeline.limit.
type matrixFilter struct {
	rooms []string
	types []string
	limit int
}

func parseMatrixFilter(s string) (matrixFilter, error) {
	f := matrixFilter{limit: 10} // the spec's usual default
	if s == "" {
		return f, nil
	}
	if !strings.HasPrefix(s, "{") {
		return f, fmt.Errorf("filter %q: the fake supports inline JSON filters only", s)
	}
	var v struct {
		Room struct {
			Rooms    *[]string `json:"rooms"`
			Timeline struct {
				Types *[]string `json:"types"`
				Limit int       `json:"limit"`
			} `json:"timeline"`
		} `json:"room"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return f, fmt.Errorf("filter: %v", err)
	}
	if v.Room.Rooms != nil {
		f.rooms = append([]string{}, *v.Room.Rooms...)
		if len(f.rooms) == 0 {
			f.rooms = []string{""} // an empty list matches no room
		}
	}
	if v.Room.Timeline.Types != nil {
		f.types = append([]string{}, *v.Room.Timeline.Types...)
		if len(f.types) == 0 {
			f.types = []string{""}
		}
	}
	if v.Room.Timeline.Limit > 0 {
		f.limit = v.Room.Timeline.Limit
	}
	return f, nil
}

func (f matrixFilter) wantsRoom(room string) bool {
	return f.rooms == nil || matrixContains(f.rooms, room)
}

func (f matrixFilter) wants(e *matrixEvent) bool {
	if !f.wantsRoom(e.roomID) {
		return false
	}
	if f.types == nil {
		return true
	}
	for _, t := range f.types {
		if t == e.typ || (strings.HasSuffix(t, "*") && strings.HasPrefix(e.typ, strings.TrimSuffix(t, "*"))) {
			return true
		}
	}
	return false
}

func matrixContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// joinLocked makes user a member of room, with an m.room.member event the
// first time.
func (m *Matrix) joinLocked(room, user string) {
	if m.rooms[room][user] {
		return
	}
	m.rooms[room][user] = true
	delete(m.invited[room], user)
	key := user
	m.addLocked(&matrixEvent{roomID: room, sender: user, typ: "m.room.member", stateKey: &key, content: map[string]any{"membership": "join"}})
}

// addLocked appends e to the stream, wakes long-polls and returns its new
// event ID.
func (m *Matrix) addLocked(e *matrixEvent) string {
	pos := len(m.events) + 1
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", e.roomID, pos))
	e.id = "$" + base64.RawURLEncoding.EncodeToString(sum[:])
	e.ts = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC).UnixMilli() + int64(pos)
	e.current = e.content
	m.events = append(m.events, e)
	close(m.wake)
	m.wake = make(chan struct{})
	return e.id
}

func matrixRelType(content map[string]any) string {
	rel, _ := content["m.relates_to"].(map[string]any)
	t, _ := rel["rel_type"].(string)
	return t
}

// matrixBody reads a JSON object request body.
func matrixBody(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil || v == nil {
		return nil, fmt.Errorf("content is not a JSON object")
	}
	return v, nil
}

// matrixCopy deep-copies JSON content, so tests and handlers never share
// maps.
func matrixCopy(v map[string]any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func matrixJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func matrixError(w http.ResponseWriter, status int, code, msg string) {
	matrixJSON(w, status, map[string]any{"errcode": code, "error": msg})
}
