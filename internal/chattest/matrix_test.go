package chattest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

const (
	matrixBot   = "@klaxon:example.org"
	matrixAlice = "@alice:example.org"
)

// matrixCall makes one API call to the fake and decodes the answer.
func matrixCall(t *testing.T, m *chattest.Matrix, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

func newMatrixRoom(t *testing.T) (*chattest.Matrix, string) {
	m := chattest.NewMatrix(t)
	m.AddUser(matrixBot, "bot")
	m.AddUser(matrixAlice, "alice")
	return m, m.CreateRoom("#alerts:example.org", matrixBot, matrixAlice)
}

func sendPath(room, txn string) string {
	return "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/send/m.room.message/" + txn
}

func TestMatrixAuth(t *testing.T) {
	m, _ := newMatrixRoom(t)
	for _, tt := range []struct {
		token, code string
	}{{"", "M_MISSING_TOKEN"}, {"wrong", "M_UNKNOWN_TOKEN"}} {
		status, _, body := matrixCall(t, m, "GET", "/_matrix/client/v3/account/whoami", tt.token, nil)
		if status != 401 || body["errcode"] != tt.code {
			t.Errorf("token %q: got %d %v, want 401 %s", tt.token, status, body, tt.code)
		}
	}
	status, _, body := matrixCall(t, m, "GET", "/_matrix/client/v3/account/whoami", "bot", nil)
	if status != 200 || body["user_id"] != matrixBot {
		t.Errorf("got %d %v", status, body)
	}
}

func TestMatrixDirectoryAndJoin(t *testing.T) {
	m, room := newMatrixRoom(t)
	m.AddUser("@carol:example.org", "carol")
	_, _, body := matrixCall(t, m, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape("#alerts:example.org"), "carol", nil)
	if body["room_id"] != room {
		t.Errorf("alias resolves to %v, want %s", body["room_id"], room)
	}
	status, _, body := matrixCall(t, m, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape("#nope:example.org"), "carol", nil)
	if status != 404 || body["errcode"] != "M_NOT_FOUND" {
		t.Errorf("unknown alias: got %d %v", status, body)
	}
	// Not a member yet: cannot send.
	status, _, body = matrixCall(t, m, "PUT", sendPath(room, "t1"), "carol", map[string]any{"msgtype": "m.text", "body": "hi"})
	if status != 403 || body["errcode"] != "M_FORBIDDEN" {
		t.Errorf("send before join: got %d %v", status, body)
	}
	for range 2 { // joining twice is fine
		_, _, body = matrixCall(t, m, "POST", "/_matrix/client/v3/join/"+url.PathEscape("#alerts:example.org"), "carol", map[string]any{})
		if body["room_id"] != room {
			t.Errorf("join answered %v", body)
		}
	}
	if status, _, _ := matrixCall(t, m, "PUT", sendPath(room, "t1"), "carol", map[string]any{"msgtype": "m.text", "body": "hi"}); status != 200 {
		t.Errorf("send after join: got %d", status)
	}
	if n := m.Calls("join"); n != 2 {
		t.Errorf("got %d join calls, want 2", n)
	}
}

func TestMatrixTxnDedup(t *testing.T) {
	m, room := newMatrixRoom(t)
	msg := map[string]any{"msgtype": "m.text", "body": "hello"}
	_, _, a := matrixCall(t, m, "PUT", sendPath(room, "txn1"), "bot", msg)
	_, _, b := matrixCall(t, m, "PUT", sendPath(room, "txn1"), "bot", msg)
	_, _, c := matrixCall(t, m, "PUT", sendPath(room, "txn1"), "alice", msg) // another device
	if a["event_id"] != b["event_id"] || a["event_id"] == c["event_id"] {
		t.Errorf("event IDs %v %v %v: want the first two equal, the third different", a, b, c)
	}
	if n := len(m.Messages(room)); n != 2 {
		t.Errorf("got %d messages, want 2", n)
	}
	if n := m.Calls("send"); n != 3 {
		t.Errorf("got %d send calls, want 3", n)
	}
}

func TestMatrixEdits(t *testing.T) {
	m, room := newMatrixRoom(t)
	thread := m.Say(matrixAlice, room, "root")
	_, _, orig := matrixCall(t, m, "PUT", sendPath(room, "o"), "bot", map[string]any{
		"msgtype": "m.text", "body": "v1",
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": thread},
	})
	id := orig["event_id"].(string)
	edit := func(txn, token, target, body string) string {
		_, _, out := matrixCall(t, m, "PUT", sendPath(room, txn), token, map[string]any{
			"msgtype": "m.text", "body": "* " + body,
			"m.new_content": map[string]any{"msgtype": "m.text", "body": body},
			"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": target},
		})
		return out["event_id"].(string)
	}
	e1 := edit("e1", "bot", id, "v2")
	edit("e2", "alice", id, "by alice") // another sender: ignored
	edit("e3", "bot", e1, "edit of an edit")
	edit("e4", "bot", id, "v3")

	msgs := m.Messages(room)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want the root and the bot's", len(msgs))
	}
	got := msgs[1]
	if got.Body != "v3" || got.Edits != 2 {
		t.Errorf("got body %q after %d edits, want v3 after 2", got.Body, got.Edits)
	}
	if got.RelType != "m.thread" || got.RelatesTo != thread {
		t.Errorf("edit lost the thread relation: %s %s", got.RelType, got.RelatesTo)
	}
}

func TestMatrixFail(t *testing.T) {
	m, _ := newMatrixRoom(t)
	m.Fail(1, 429, 1500*time.Millisecond)
	m.Fail(1, 503, 0)
	status, h, body := matrixCall(t, m, "GET", "/_matrix/client/v3/account/whoami", "bot", nil)
	if status != 429 || body["errcode"] != "M_LIMIT_EXCEEDED" || body["retry_after_ms"] != 1500.0 || h.Get("Retry-After") != "2" {
		t.Errorf("got %d %v Retry-After %q", status, body, h.Get("Retry-After"))
	}
	if status, _, _ := matrixCall(t, m, "GET", "/_matrix/client/v3/account/whoami", "bot", nil); status != 503 {
		t.Errorf("got %d, want 503", status)
	}
	if status, _, _ := matrixCall(t, m, "GET", "/_matrix/client/v3/account/whoami", "bot", nil); status != 200 {
		t.Errorf("got %d after the failures, want 200", status)
	}
}

func TestMatrixSync(t *testing.T) {
	m, room := newMatrixRoom(t)
	other := m.CreateRoom("", matrixAlice, matrixBot)
	m.Say(matrixAlice, room, "old")
	filter := url.QueryEscape(fmt.Sprintf(`{"room":{"rooms":[%q],"timeline":{"types":["m.room.message"],"limit":50}}}`, room))

	_, _, first := matrixCall(t, m, "GET", "/_matrix/client/v3/sync?timeout=0&filter="+filter, "bot", nil)
	since := first["next_batch"].(string)
	if events := syncEvents(first, room); len(events) != 1 || events[0]["content"].(map[string]any)["body"] != "old" {
		t.Errorf("initial sync: got %v", events)
	}

	// A long-poll wakes when a message arrives.
	go func() {
		time.Sleep(100 * time.Millisecond)
		m.Say(matrixAlice, other, "elsewhere") // filtered out: keeps waiting
		m.Say(matrixAlice, room, "new")
	}()
	start := time.Now()
	_, _, next := matrixCall(t, m, "GET", "/_matrix/client/v3/sync?timeout=5000&since="+since+"&filter="+filter, "bot", nil)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("long-poll took %v to wake", d)
	}
	events := syncEvents(next, room)
	if len(events) != 1 || events[0]["content"].(map[string]any)["body"] != "new" || events[0]["sender"] != matrixAlice {
		t.Errorf("got %v, want the new message", events)
	}
	if _, ok := next["rooms"].(map[string]any)["join"].(map[string]any)[other]; ok {
		t.Errorf("filtered-out room in the answer")
	}

	// Nothing new: the timeout ends it with the same position.
	since = next["next_batch"].(string)
	_, _, empty := matrixCall(t, m, "GET", "/_matrix/client/v3/sync?timeout=50&since="+since+"&filter="+filter, "bot", nil)
	if empty["next_batch"] != since || len(syncEvents(empty, room)) != 0 {
		t.Errorf("got %v, want no events at %s", empty, since)
	}
}

func syncEvents(resp map[string]any, room string) []map[string]any {
	join, _ := resp["rooms"].(map[string]any)["join"].(map[string]any)
	r, _ := join[room].(map[string]any)
	tl, _ := r["timeline"].(map[string]any)
	evs, _ := tl["events"].([]any)
	var out []map[string]any
	for _, e := range evs {
		out = append(out, e.(map[string]any))
	}
	return out
}

func statePath(room, typ string) string {
	return "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/state/" + typ + "/"
}

func TestMatrixCreateRoom(t *testing.T) {
	m := chattest.NewMatrix(t)
	m.AddUser(matrixBot, "bot")
	m.AddUser(matrixAlice, "alice")
	m.AddUser("@carol:example.org", "carol")
	status, _, body := matrixCall(t, m, "POST", "/_matrix/client/v3/createRoom", "bot", map[string]any{
		"name": "incident-4", "topic": "SEV1 investigating", "invite": []string{matrixAlice}, "preset": "private_chat",
	})
	room, _ := body["room_id"].(string)
	if status != 200 || len(body) != 1 || !strings.HasPrefix(room, "!") {
		t.Fatalf("createRoom: got %d %v, want 200 {room_id}", status, body)
	}
	want := chattest.MatrixRoom{
		ID: room, Creator: matrixBot, Name: "incident-4", Topic: "SEV1 investigating", JoinRule: "invite",
		Invited: []string{matrixAlice}, Members: []string{matrixBot},
	}
	if got := m.CreatedRooms(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("CreatedRooms: got %+v, want %+v", got, want)
	}

	// Private: carol, not invited, cannot join; alice can.
	if status, _, body := matrixCall(t, m, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room), "carol", map[string]any{}); status != 403 || body["errcode"] != "M_FORBIDDEN" {
		t.Errorf("uninvited join: got %d %v", status, body)
	}
	if status, _, _ := matrixCall(t, m, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room), "alice", map[string]any{}); status != 200 {
		t.Errorf("invited join: got %d", status)
	}
	if r, _ := m.Room(room); len(r.Invited) != 0 || !reflect.DeepEqual(r.Members, []string{matrixBot, matrixAlice}) {
		t.Errorf("after alice joined: got %+v", r)
	}

	// State: the creator sets the topic, with or without the trailing
	// slash; members read it; alice (power 0) cannot set it.
	if status, _, body := matrixCall(t, m, "PUT", statePath(room, "m.room.topic"), "bot", map[string]any{"topic": "SEV1 identified"}); status != 200 || body["event_id"] == nil {
		t.Errorf("set topic: got %d %v", status, body)
	}
	if status, _, body := matrixCall(t, m, "GET", strings.TrimSuffix(statePath(room, "m.room.topic"), "/"), "alice", nil); status != 200 || body["topic"] != "SEV1 identified" {
		t.Errorf("get topic: got %d %v", status, body)
	}
	if status, _, body := matrixCall(t, m, "PUT", statePath(room, "m.room.topic"), "alice", map[string]any{"topic": "mine"}); status != 403 || body["errcode"] != "M_FORBIDDEN" {
		t.Errorf("set topic without power: got %d %v", status, body)
	}
	if status, _, body := matrixCall(t, m, "GET", statePath(room, "m.room.avatar"), "alice", nil); status != 404 || body["errcode"] != "M_NOT_FOUND" {
		t.Errorf("unset state: got %d %v", status, body)
	}
	if status, _, body := matrixCall(t, m, "GET", statePath(room, "m.room.topic"), "carol", nil); status != 403 {
		t.Errorf("state for a non-member: got %d %v", status, body)
	}
	if r, _ := m.Room(room); r.Topic != "SEV1 identified" {
		t.Errorf("Room topic: got %q", r.Topic)
	}

	// Refusals: a bad invite, an unknown preset, a field the fake does not
	// keep.
	for _, req := range []map[string]any{
		{"name": "x", "invite": []string{"alice"}},
		{"name": "x", "preset": "secret_chat"},
		{"name": "x", "room_alias_name": "x"},
	} {
		if status, _, body := matrixCall(t, m, "POST", "/_matrix/client/v3/createRoom", "bot", req); status != 400 {
			t.Errorf("createRoom %v: got %d %v, want 400", req, status, body)
		}
	}
	if n := len(m.CreatedRooms()); n != 1 || m.Calls("createRoom") != 4 || m.Calls("state") != 5 {
		t.Errorf("got %d rooms, %d createRoom and %d state calls", n, m.Calls("createRoom"), m.Calls("state"))
	}
}
