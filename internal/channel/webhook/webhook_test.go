package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/channel/webhook"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// channel parses a one-channel configuration, as `klaxon config check` would.
func channel(t *testing.T, keys string) config.Channel {
	t.Helper()
	return notifytest.ChannelConfig(t, "hook", "webhook", keys)
}

func newChannel(t *testing.T, keys string) notify.Channel {
	t.Helper()
	ch, err := webhook.New(channel(t, keys), notify.Env{BaseURL: notifytest.BaseURL, Logger: nil, Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func delivery(name string) notify.Delivery {
	return notify.Delivery{ID: 41, Version: 3, Attempt: 1, Message: notifytest.Cases()[name]}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct{ name, keys, want string }{
		{"missing url", "    secret: 0123456789abcdef\n", "channels[0].url: missing"},
		{"bad url", "    url: ftp://x/?token=hunter2hunter2\n    secret: 0123456789abcdef\n", "channels[0].url: not an http(s) URL"},
		{"missing secret", "    url: https://example.org/hook\n", "channels[0].secret: missing"},
		{"short secret", "    url: https://example.org/hook\n    secret: short-secret\n", "channels[0].secret: too short (12 characters; use at least 16)"},
		{"reserved header", "    url: https://example.org/hook\n    secret: 0123456789abcdef\n    headers: {x-klaxon-signature: x}\n", "X-Klaxon-Signature is set by Klaxon"},
		{"bad header", "    url: https://example.org/hook\n    secret: 0123456789abcdef\n    headers: {\"a b\": x}\n", `"a b" is not a header name`},
		{"unknown key", "    url: https://example.org/hook\n    secret: 0123456789abcdef\n    token: x\n", "channels[0].token: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.New(channel(t, tc.keys), notify.Env{})
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the URL's token", err)
			}
		})
	}
}

func TestSendSignsAndVerifies(t *testing.T) {
	fake := chattest.NewWebhook(t)
	ch := newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n    headers:\n      authorization: Bearer abc\n", fake.URL, chattest.WebhookSecret))

	ref, err := ch.Send(context.Background(), delivery("group"))
	if err != nil {
		t.Fatal(err)
	}
	if ref != "" {
		t.Errorf("got ref %q, want none", ref)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !r.Valid {
		t.Error("the fake receiver did not accept the signature")
	}
	if !webhook.Verify([]byte(chattest.WebhookSecret), r.Body, r.Header.Get("X-Klaxon-Signature")) {
		t.Error("Verify refused the signature Klaxon sent")
	}
	tampered := []byte(strings.Replace(string(r.Body), `"firing"`, `"resolved"`, 1))
	if webhook.Verify([]byte(chattest.WebhookSecret), tampered, r.Header.Get("X-Klaxon-Signature")) {
		t.Error("Verify accepted a tampered body")
	}
	if webhook.Verify([]byte("another-secret-entirely"), r.Body, r.Header.Get("X-Klaxon-Signature")) {
		t.Error("Verify accepted the wrong secret")
	}
	for _, h := range []string{"", "sha256=", "sha1=" + strings.TrimPrefix(r.Header.Get("X-Klaxon-Signature"), "sha256=")} {
		if webhook.Verify([]byte(chattest.WebhookSecret), r.Body, h) {
			t.Errorf("Verify accepted header %q", h)
		}
	}

	for name, want := range map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "Klaxon",
		"X-Klaxon-Delivery": "klaxon-41.3",
		"Authorization":     "Bearer abc",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}

	var p webhook.Payload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	m := notifytest.Cases()["group"]
	if p.Version != "1" || p.Delivery != "klaxon-41.3" || p.Remind {
		t.Errorf("got version %q delivery %q remind %v", p.Version, p.Delivery, p.Remind)
	}
	g := p.Group
	if g.ID != 9 || g.Title != m.Title || g.State != m.State || g.Level != 0 || g.LevelName != "P0" || g.Counts != m.Counts || g.URL != m.URL || g.Labels["namespace"] != "prod" {
		t.Errorf("got group %+v", g)
	}
	if len(p.Alerts) != len(m.Alerts) || p.Alerts[0].ID != 40 || p.Alerts[0].Annotations["runbook_url"] == "" || !p.Alerts[0].StartsAt.Equal(m.Alerts[0].StartsAt) {
		t.Errorf("got %d alerts, first %+v", len(p.Alerts), p.Alerts[0])
	}
}

func TestSendRetryKeepsDelivery(t *testing.T) {
	fake := chattest.NewWebhook(t)
	ch := newChannel(t, fmt.Sprintf("    url: %s\n    secret: %s\n", fake.URL, chattest.WebhookSecret))
	fake.Fail(1, http.StatusServiceUnavailable, "")
	d := delivery("critical_firing")
	if _, err := ch.Send(context.Background(), d); err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	d.Attempt = 2
	if _, err := ch.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	d.Version, d.Remind = 4, true
	if _, err := ch.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(fake.Deliveries(), " "), "klaxon-41.3 klaxon-41.4"; got != want {
		t.Errorf("got deliveries %q, want %q", got, want)
	}
	var p webhook.Payload
	json.Unmarshal(fake.Requests()[2].Body, &p)
	if !p.Remind {
		t.Error("the reminder's payload does not say remind")
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{http.StatusTooManyRequests, "7", false, 7 * time.Second},
		{http.StatusInternalServerError, "", false, 0},
		{http.StatusBadGateway, "", false, 0},
		{http.StatusRequestTimeout, "", false, 0},
		{http.StatusBadRequest, "", true, 0},
		{http.StatusNotFound, "", true, 0},
		{http.StatusGone, "", true, 0},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			fake := chattest.NewWebhook(t)
			ch := newChannel(t, fmt.Sprintf("    url: %s?token=hunter2hunter2\n    secret: %s\n", fake.URL, chattest.WebhookSecret))
			fake.Fail(1, tc.status, tc.retryAfter)
			_, err := ch.Send(context.Background(), delivery("critical_firing"))
			if err == nil {
				t.Fatal("got no error")
			}
			if got := notify.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent: got %v, want %v (%v)", got, tc.permanent, err)
			}
			var de *notify.DeliveryError
			if errors.As(err, &de) && de.RetryAfter != tc.wait {
				t.Errorf("retry after: got %s, want %s", de.RetryAfter, tc.wait)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the URL's token", err)
			}
		})
	}
}

func TestSendUnreachableHidesURL(t *testing.T) {
	// Nothing listens on port 1.
	ch := newChannel(t, "    url: http://127.0.0.1:1/hook?token=hunter2hunter2\n    secret: "+chattest.WebhookSecret+"\n")
	_, err := ch.Send(context.Background(), delivery("critical_firing"))
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the URL's token", err)
	}
}
