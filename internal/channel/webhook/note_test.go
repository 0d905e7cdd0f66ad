package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/channel/webhook"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func noter(t *testing.T, fake *chattest.Webhook) notify.Noter {
	t.Helper()
	return newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n", fake.URL, chattest.WebhookSecret)).(notify.Noter)
}

// TestNoteGolden posts every sample note, compared with
// testdata/<name>.golden.
func TestNoteGolden(t *testing.T) {
	for name, n := range notifytest.Notes() {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewWebhook(t)
			if err := noter(t, fake).Note(context.Background(), notify.NoteDelivery{Key: "klaxon-note-7-1", Ref: "", Note: n}); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, fake.Requests()[0].Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got.Bytes(), *update)
		})
	}
}

func TestNoteSignedAndRetried(t *testing.T) {
	fake := chattest.NewWebhook(t)
	ch := noter(t, fake)
	fake.Fail(1, http.StatusServiceUnavailable, "")
	d := notify.NoteDelivery{Key: "klaxon-note-7-1", Note: notifytest.Notes()["note"]}
	if err := ch.Note(context.Background(), d); err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if err := ch.Note(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || !reqs[1].Valid {
		t.Fatalf("got %d requests, the last valid %v", len(reqs), len(reqs) > 1 && reqs[1].Valid)
	}
	if got := strings.Join(fake.Deliveries(), " "); got != "klaxon-note-7-1" {
		t.Errorf("got deliveries %q, want the note's key once", got)
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
		t.Error("the retry's body differs")
	}
	var p webhook.NotePayload
	if err := json.Unmarshal(reqs[1].Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "note" || p.Version != "1" || p.Key != d.Key || p.GroupID != 7 || p.AlertID != 12 || len(p.Items) != 4 {
		t.Errorf("got %+v", p)
	}
	if it := p.Items[3]; it.OK || !it.Truncated || it.Status != "timed out after 10s" {
		t.Errorf("got item %+v", it)
	}
	// A group's Payload has no type: receivers tell the two apart by it.
	var group map[string]any
	if _, err := newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n", fake.URL, chattest.WebhookSecret)).Send(context.Background(), delivery("critical_firing")); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(fake.Requests()[2].Body, &group)
	if _, ok := group["type"]; ok {
		t.Errorf("a group's payload has a type: %v", group["type"])
	}
}

func TestNoteErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		wait      time.Duration
	}{
		{http.StatusTooManyRequests, false, 7 * time.Second},
		{http.StatusBadGateway, false, 0},
		{http.StatusBadRequest, true, 0},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			fake := chattest.NewWebhook(t)
			retryAfter := ""
			if tc.wait > 0 {
				retryAfter = fmt.Sprint(tc.wait.Seconds())
			}
			fake.Fail(1, tc.status, retryAfter)
			err := noter(t, fake).Note(context.Background(), notify.NoteDelivery{Key: "k", Note: notifytest.Notes()["note"]})
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || de.RetryAfter != tc.wait {
				t.Errorf("got %v, want permanent %v, retry after %s", err, tc.permanent, tc.wait)
			}
		})
	}
	if err := noter(t, chattest.NewWebhook(t)).Note(context.Background(), notify.NoteDelivery{Key: "k"}); !notify.IsPermanent(err) {
		t.Errorf("no note: got %v, want permanent", err)
	}
}

func TestSendRunbook(t *testing.T) {
	fake := chattest.NewWebhook(t)
	ch := newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n", fake.URL, chattest.WebhookSecret))
	for _, name := range []string{"critical_firing", "warning_firing"} {
		if _, err := ch.Send(context.Background(), delivery(name)); err != nil {
			t.Fatal(err)
		}
	}
	var with, without map[string]json.RawMessage
	json.Unmarshal(fake.Requests()[0].Body, &with)
	json.Unmarshal(fake.Requests()[1].Body, &without)
	want := `{"title":"Pod crash looping","url":"https://klaxon.example.org/runbooks/pod-crash-looping?alert=12","steps":["kubectl -n prod describe pod api-7d9f","kubectl -n prod logs api-7d9f -c api --previous --tail=50\nkubectl -n prod get events --field-selector involvedObject.name=api-7d9f"],"more":2}`
	if got := string(with["runbook"]); got != want {
		t.Errorf("runbook: got %s, want %s", got, want)
	}
	if _, ok := without["runbook"]; ok {
		t.Errorf("a message without a runbook has %s", without["runbook"])
	}
}
