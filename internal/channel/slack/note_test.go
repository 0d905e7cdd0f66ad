package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// noted posts a group's message and then n in its thread, on a fresh
// fake, and returns the note as chat.postMessage received it, decoded.
func noted(t *testing.T, n *notify.Note) map[string]any {
	t.Helper()
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ref, err := ch.Send(context.Background(), notify.Delivery{ID: 101, Version: 1, Attempt: 1, Message: notifytest.Cases()["critical_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Note(context.Background(), notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: ref, Note: n}); err != nil {
		t.Fatal(err)
	}
	thread := s.Thread(testChannel, decodeRef(t, ref).TS)
	if len(thread) != 1 {
		t.Fatalf("got %d thread replies, want the note", len(thread))
	}
	out := map[string]any{"text": thread[0].Text}
	for key, raw := range map[string]json.RawMessage{"blocks": thread[0].Blocks, "attachments": thread[0].Attachments, "metadata": thread[0].Metadata} {
		if raw == nil {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		out[key] = v
	}
	return out
}

func TestNoteGolden(t *testing.T) {
	for name, n := range notifytest.Notes() {
		t.Run(name, func(t *testing.T) {
			got := pretty(t, noted(t, n))
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
		})
	}
}

func TestNoteHostileIsEscaped(t *testing.T) {
	payload := noted(t, notifytest.Notes()["note_hostile"])
	marked, plainText, _ := markup(payload)
	marked = append(marked, payload["text"].(string))
	if len(plainText) == 0 {
		t.Fatal("no plain_text line: the payload shape changed")
	}
	for _, s := range marked {
		for _, bad := range []string{"<!here>", "<!channel>", "<script", "<@U123>", "<https://evil", "<a href", "</code>"} {
			if strings.Contains(s, bad) {
				t.Errorf("mrkdwn contains raw %q: %q", bad, s)
			}
		}
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(s, -1) {
			if !ourTokens.MatchString(tok) || strings.Contains(tok, "evil") {
				t.Errorf("mrkdwn has a <…> sequence the renderer did not make: %q in %q", tok, s)
			}
		}
		// A fence in the output must not end the code block early.
		if n := strings.Count(s, "```"); n%2 != 0 || n > 2 {
			t.Errorf("mrkdwn has %d fences: %q", n, s)
		}
	}
}

func TestNoteInThread(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	ref, err := ch.Send(ctx, notify.Delivery{ID: 3, Version: 1, Attempt: 1, Message: notifytest.Cases()["group"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Note(ctx, notify.NoteDelivery{Key: "klaxon-note-9-4", Ref: ref, Note: notifytest.Notes()["note"]}); err != nil {
		t.Fatal(err)
	}
	r := decodeRef(t, ref)
	thread := s.Thread(testChannel, r.TS)
	if len(thread) != 1 || s.Posts() != 2 || s.Updates() != 0 {
		t.Fatalf("got %d replies, %d posts, %d updates; want the note in the thread, nothing edited", len(thread), s.Posts(), s.Updates())
	}
	note := thread[0]
	if note.Text != "Diagnostics for alert 12: KubePodCrashLooping prod/api-7d9f (asked by @alice:example.org)" {
		t.Errorf("note text: %q", note.Text)
	}
	if got := string(note.Metadata); !strings.Contains(got, `"event_type":"klaxon_note"`) || !strings.Contains(got, `"key":"klaxon-note-9-4"`) {
		t.Errorf("note metadata: %s", got)
	}
	if strings.Contains(note.Text, "<@") || strings.Contains(note.Text, "<!") {
		t.Errorf("note mentions: %q", note.Text)
	}
}

func TestNoteLimits(t *testing.T) {
	n := notifytest.Notes()["note"]
	for len(n.Items) < 30 {
		n.Items = append(n.Items, n.Items...)
	}
	for i := range n.Items {
		n.Items[i].Body = strings.Repeat("ä&<`", 3000)
	}
	payload := noted(t, n)
	blocks := payload["blocks"].([]any)
	if len(blocks) > 50 {
		t.Errorf("got %d blocks, limit 50", len(blocks))
	}
	total := 0
	marked, plainText, _ := markup(payload)
	for _, s := range append(marked, plainText...) {
		total += utf8.RuneCountInString(s)
		if n := utf8.RuneCountInString(s); n > maxSection {
			t.Errorf("a text of %d characters, limit %d", n, maxSection)
		}
	}
	if total > 12000 {
		t.Errorf("blocks hold %d characters of text, Slack refuses past about 12,000", total)
	}
	last := blocks[len(blocks)-1].(map[string]any)["elements"].([]any)[0].(map[string]any)["text"].(string)
	if want := "… and 12 more, see <https://klaxon.example.org/alerts/12|Klaxon>"; last != want {
		t.Errorf("last block: got %q, want %q", last, want)
	}
	if !strings.Contains(string(pretty(t, payload)), "… (cut, see <https://klaxon.example.org/alerts/12|Klaxon>)") {
		t.Error("no cut notice")
	}
}

func TestNoteErrors(t *testing.T) {
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	ctx := context.Background()
	ref, err := ch.Send(ctx, notify.Delivery{ID: 3, Version: 1, Attempt: 1, Message: notifytest.Cases()["warning_firing"]})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: ref, Note: notifytest.Notes()["note"]}

	s.Fail(1, http.StatusTooManyRequests, "3")
	err = ch.Note(ctx, n)
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.RetryAfter != 3*time.Second {
		t.Errorf("rate limited: got %v, want a retry after 3s", err)
	}
	s.FailWith(1, "msg_blocks_too_long")
	if err := ch.Note(ctx, n); !notify.IsPermanent(err) {
		t.Errorf("msg_blocks_too_long: got %v, want permanent", err)
	}
	if err := ch.Note(ctx, notify.NoteDelivery{Ref: "not json", Note: n.Note}); !notify.IsPermanent(err) {
		t.Errorf("bad ref: got %v, want permanent", err)
	}
	if err := ch.Note(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Thread(testChannel, decodeRef(t, ref).TS)); got != 1 {
		t.Errorf("got %d notes in the thread, want 1", got)
	}
}
