package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/channel/pagetest"
	"github.com/klaxon-oss/klaxon/internal/channel/webhook"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

func pager(t *testing.T, fake *chattest.Webhook) notify.Pager {
	t.Helper()
	p, ok := newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n", fake.URL, chattest.WebhookSecret)).(notify.Pager)
	if !ok {
		t.Fatal("the webhook channel is not a notify.Pager")
	}
	if _, ok := p.(notify.Chat); ok {
		t.Error("the webhook channel is a notify.Chat: nobody reads it")
	}
	return p
}

// TestPageGolden posts every sample page, compared with
// testdata/<name>.golden.
func TestPageGolden(t *testing.T) {
	for name, p := range pagetest.Pages() {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewWebhook(t)
			ref, err := pager(t, fake).Page(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if ref != "" {
				t.Errorf("got ref %q, want none", ref)
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

func TestPageSignedAndRetried(t *testing.T) {
	fake := chattest.NewWebhook(t)
	ch := pager(t, fake)
	fake.Fail(1, http.StatusServiceUnavailable, "")
	p := pagetest.Pages()["page"]
	if _, err := ch.Page(context.Background(), p); err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if _, err := ch.Page(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || !reqs[1].Valid {
		t.Fatalf("got %d requests, the last valid %v", len(reqs), len(reqs) > 1 && reqs[1].Valid)
	}
	if !webhook.Verify([]byte(chattest.WebhookSecret), reqs[1].Body, reqs[1].Header.Get(webhook.HeaderSignature)) {
		t.Error("Verify refused the signature Klaxon sent")
	}
	if got := strings.Join(fake.Deliveries(), " "); got != p.Key {
		t.Errorf("got deliveries %q, want the page's key once", got)
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
		t.Error("the retry's body differs")
	}
	var got webhook.PagePayload
	if err := json.Unmarshal(reqs[1].Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "page" || got.Version != "1" || got.Key != p.Key || got.Text != p.Text || got.GroupID != 7 || got.Message == nil || got.Message.ID != 7 || got.Message.State != "firing" {
		t.Errorf("got %+v", got)
	}
	want := []webhook.Person{
		{Name: "alice", Matrix: "@alice:example.org", Slack: "U0ALICE", GoogleChat: "users/111", Email: "alice@example.org"},
		{Name: "bob", Slack: "U0BOB", GoogleChat: "users/222", Email: "bob@example.org"},
		{Name: "Carol Smith", Matrix: "@carol:example.org", Email: "carol@example.org"},
	}
	if fmt.Sprint(got.People) != fmt.Sprint(want) {
		t.Errorf("got people %+v, want %+v", got.People, want)
	}
	// Every person has every field, "" where they have no identity.
	if !strings.Contains(string(reqs[1].Body), `{"name":"bob","matrix":"","slack":"U0BOB","google_chat":"users/222","email":"bob@example.org"}`) {
		t.Errorf("body: %s", reqs[1].Body)
	}
}

func TestPageAboutNoGroup(t *testing.T) {
	fake := chattest.NewWebhook(t)
	if _, err := pager(t, fake).Page(context.Background(), pagetest.Pages()["page_notice"]); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(fake.Requests()[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"group_id", "message"} {
		if _, ok := got[key]; ok {
			t.Errorf("a page about no group has %s: %v", key, got[key])
		}
	}
	if got["type"] != "page" || got["text"] == "" {
		t.Errorf("got %v", got)
	}
}

func TestPageErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		wait      time.Duration
	}{
		{http.StatusTooManyRequests, false, 7 * time.Second},
		{http.StatusBadGateway, false, 0},
		{http.StatusBadRequest, true, 0},
		{http.StatusNotFound, true, 0},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			fake := chattest.NewWebhook(t)
			retryAfter := ""
			if tc.wait > 0 {
				retryAfter = fmt.Sprint(tc.wait.Seconds())
			}
			fake.Fail(1, tc.status, retryAfter)
			_, err := pager(t, fake).Page(context.Background(), pagetest.Pages()["page"])
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || de.RetryAfter != tc.wait {
				t.Errorf("got %v, want permanent %v, retry after %s", err, tc.permanent, tc.wait)
			}
		})
	}
	if _, err := pager(t, chattest.NewWebhook(t)).Page(context.Background(), notify.PageDelivery{Text: "x"}); !notify.IsPermanent(err) {
		t.Errorf("no key: got %v, want permanent", err)
	}
}
