package googlechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// noteThread posts a group's card, then n as a note with key, and returns
// the group's thread as the fake filed it.
func noteThread(t *testing.T, fake *chattest.GoogleChat, n *notify.Note, key string) []chattest.GoogleChatMessage {
	t.Helper()
	ch := newChannel(t, fake.URL, "")
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.(notify.Noter).Note(context.Background(), notify.NoteDelivery{Key: key, Ref: ref, Note: n}); err != nil {
		t.Fatal(err)
	}
	return fake.Thread("klaxon-group-7")
}

func TestNoteGolden(t *testing.T) {
	for name, n := range notifytest.Notes() {
		t.Run(name, func(t *testing.T) {
			thread := noteThread(t, chattest.NewGoogleChat(t), n, "klaxon-note-7-1")
			if len(thread) != 2 {
				t.Fatalf("got %d messages in the thread, want the card and the note", len(thread))
			}
			var got bytes.Buffer
			if err := json.Indent(&got, thread[1].Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got.Bytes(), *update)
		})
	}
}

func TestNoteInThread(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	ch := newChannel(t, fake.URL, "")
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: ref, Note: notifytest.Notes()["note"]}
	for range 2 { // the second is a retry after a lost answer
		if err := ch.(notify.Noter).Note(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	thread := fake.Thread("klaxon-group-7")
	if len(thread) != 2 || fake.Posts() != 3 {
		t.Fatalf("got %d messages in the thread from %d posts, want the card and one note from 3", len(thread), fake.Posts())
	}
	note := thread[1]
	if !note.Reply || note.ThreadName != thread[0].ThreadName {
		t.Errorf("the note is not a reply in the group's thread: %+v", note)
	}
	if got := note.Query.Get("requestId"); got != n.Key {
		t.Errorf("requestId: got %q, want %q", got, n.Key)
	}
	if got := note.Query.Get("messageReplyOption"); got != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" {
		t.Errorf("messageReplyOption: got %q", got)
	}
	if strings.Contains(note.Text, "<users/") {
		t.Errorf("a note mentions people: %q", note.Text)
	}
}

func TestNoteHostile(t *testing.T) {
	fake := chattest.NewGoogleChat(t)
	thread := noteThread(t, fake, notifytest.Notes()["note_hostile"], "klaxon-note-7-1")
	body := string(thread[1].Body)
	for _, bad := range []string{"<script", "</code>", "</details>", "<users/all>", "<!here>", "javascript:", "<a href=\"javascript", "<https://evil", "<@U123>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the note contains %q", bad)
		}
	}
}

func TestNoteFits(t *testing.T) {
	n := notifytest.Notes()["note"]
	for len(n.Items) < 30 {
		n.Items = append(n.Items, n.Items...)
	}
	for i := range n.Items {
		n.Items[i].Body = strings.Repeat("<&\"é\n", 5000)
	}
	fake := chattest.NewGoogleChat(t)
	thread := noteThread(t, fake, n, "klaxon-note-7-1") // the fake refuses past 32,000 bytes
	body := string(thread[1].Body)
	if !strings.Contains(body, `… and 12 more`) || !strings.Contains(body, `(cut, see <a href=\"https://klaxon.example.org/alerts/12\">Klaxon</a>)`) {
		t.Errorf("the note does not say what it left out:\n%s", body[len(body)-2000:])
	}
}

func TestNoteErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		permanent bool
		wait      time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, false, 5 * time.Second},
		{"unavailable", http.StatusServiceUnavailable, false, 5 * time.Second},
		{"invalid", http.StatusBadRequest, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewGoogleChat(t)
			ch := newChannel(t, fake.URL, "")
			fake.Fail(1, tc.status, "5")
			err := ch.(notify.Noter).Note(context.Background(), notify.NoteDelivery{Key: "k", Ref: "{}", Note: notifytest.Notes()["note"]})
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || (!tc.permanent && de.RetryAfter != tc.wait) {
				t.Errorf("got %v, want permanent %v, retry after %s", err, tc.permanent, tc.wait)
			}
			noSecrets(t, fake.URL, err)
		})
	}
}
