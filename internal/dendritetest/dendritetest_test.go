package dendritetest

import (
	"net/http"
	"strings"
	"testing"
)

func TestServer(t *testing.T) {
	s := Start(t)
	alice, aliceToken := s.Register(t, "alice")
	bob, bobToken := s.Register(t, "bob")
	if alice != "@alice:"+ServerName || bob != "@bob:"+ServerName {
		t.Fatalf("got users %s %s", alice, bob)
	}

	room := s.CreateRoom(t, aliceToken, "alerts", bob)
	if !strings.HasPrefix(room, "!") {
		t.Fatalf("got room ID %q", room)
	}
	s.Join(t, bobToken, "#alerts:"+ServerName)
	first := s.Say(t, aliceToken, room, "hello")
	reply := s.Post(t, bobToken, room, map[string]any{
		"msgtype": "m.text", "body": "hi",
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": first, "is_falling_back": true, "m.in_reply_to": map[string]any{"event_id": first}},
	})
	s.Post(t, aliceToken, room, map[string]any{
		"msgtype": "m.text", "body": "* hello again",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "hello again"},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": first},
	})

	msgs := s.WaitMessages(t, bobToken, room, "3 messages", func(m []Event) bool { return len(m) >= 3 })
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3: %+v", len(msgs), msgs)
	}
	if msgs[0].EventID != first || msgs[0].Body != "hello" || msgs[0].Sender != alice {
		t.Errorf("first message: %+v", msgs[0])
	}
	if msgs[1].EventID != reply || msgs[1].RelType != "m.thread" || msgs[1].RelatesTo != first || msgs[1].InReplyTo != first {
		t.Errorf("thread reply: %+v", msgs[1])
	}
	if msgs[2].RelType != "m.replace" || msgs[2].RelatesTo != first || msgs[2].NewContent["body"] != "hello again" {
		t.Errorf("edit: %+v", msgs[2])
	}
}

func TestServerRejectsWrongToken(t *testing.T) {
	s := Start(t)
	err := s.call(http.MethodGet, "/_matrix/client/v3/account/whoami", "nonsense", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "M_UNKNOWN_TOKEN") {
		t.Errorf("got %v, want M_UNKNOWN_TOKEN", err)
	}
}

func TestConfigure(t *testing.T) {
	gen := []byte("global:\n  server_name: example.com\n  database:\n    connection_string: postgres://x\nclient_api:\n  registration_shared_secret: complement\n")
	b, err := configure(gen, "/tmp/d", "s3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server_name: localhost", "registration_shared_secret: s3", "disable_federation: true", "connection_string: file:/tmp/d/syncapi.db", "in_memory: true"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("configuration lacks %q:\n%s", want, b)
		}
	}
}
