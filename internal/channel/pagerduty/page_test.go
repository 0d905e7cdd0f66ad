package pagerduty_test

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

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagetest"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

// pagerChannel is a channel that can page.
type pagerChannel interface {
	notify.Channel
	notify.Pager
}

func newPager(t *testing.T, fake *chattest.PagerDuty, extra string) pagerChannel {
	t.Helper()
	ch := newChannel(t, fake, extra)
	p, ok := ch.(pagerChannel)
	if !ok {
		t.Fatal("the pagerduty channel is not a notify.Pager")
	}
	if _, ok := ch.(notify.Chat); ok {
		t.Error("the pagerduty channel is a notify.Chat: nobody is mentioned there")
	}
	return p
}

// TestPageGolden pages with the sample pages about a group, compared with
// testdata/<name>.golden.
func TestPageGolden(t *testing.T) {
	for _, name := range []string{"page", "page_hostile"} {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewPagerDuty(t)
			ref, err := newPager(t, fake, "").Page(context.Background(), pagetest.Pages()[name])
			if err != nil {
				t.Fatal(err)
			}
			if ref != "trigger" {
				t.Errorf("got ref %q, want trigger", ref)
			}
			events := fake.Events()
			if len(events) != 1 || events[0].EventAction != "trigger" {
				t.Fatalf("got %+v, want one trigger", events)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, events[0].Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got.Bytes(), *update)
		})
	}
}

// TestPageBelowSeverities pages a group below the channel's paging levels:
// Send would not trigger it, Page does, and Send carries on from there.
func TestPageBelowSeverities(t *testing.T) {
	fake := chattest.NewPagerDuty(t)
	ch := newPager(t, fake, "    severities: [P0]\n")
	ctx := context.Background()
	m := notifytest.Cases()["warning_firing"]
	if ref, err := ch.Send(ctx, notify.Delivery{ID: 1, Version: 1, Message: m}); err != nil || ref != "" || len(fake.Events()) != 0 {
		t.Fatalf("a P2 Send: got ref %q, %v, %d events; want nothing sent", ref, err, len(fake.Events()))
	}
	ref, err := ch.Page(ctx, notify.PageDelivery{Key: "k", Text: "Unacknowledged for 1h: escalation step 3 of 3", People: []klaxon.User{pagetest.Alice()}, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if ref != "trigger" || fake.Incident("klaxon-group-7") != chattest.PagerDutyTriggered {
		t.Fatalf("got ref %q, incident %q; want trigger and a triggered incident", ref, fake.Incident("klaxon-group-7"))
	}
	ev := fake.Events()[0]
	var details map[string]any
	if err := json.Unmarshal(ev.Payload.CustomDetails, &details); err != nil {
		t.Fatal(err)
	}
	if ev.Payload.Severity != "warning" || details["page"] != "Unacknowledged for 1h: escalation step 3 of 3" || ev.DedupKey != "klaxon-group-7" {
		t.Errorf("got severity %q, dedup key %q, details %v", ev.Payload.Severity, ev.DedupKey, details)
	}

	// The group is acknowledged: Send continues from the page's ref.
	acked := notifytest.Cases()["warning_firing"]
	acked.State = klaxon.StateAcknowledged
	if ref, err = ch.Send(ctx, notify.Delivery{ID: 1, Version: 2, Ref: ref, Message: acked}); err != nil || ref != "acknowledge" {
		t.Fatalf("got ref %q, %v; want acknowledge", ref, err)
	}
	if got := fake.Incident("klaxon-group-7"); got != chattest.PagerDutyAcknowledged {
		t.Errorf("incident: got %q, want acknowledged", got)
	}
}

func TestPageErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{"throttled", http.StatusTooManyRequests, "30", false, 30 * time.Second},
		{"unavailable", http.StatusServiceUnavailable, "", false, 0},
		{"invalid event", http.StatusBadRequest, "", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewPagerDuty(t)
			fake.Fail(1, tc.status, tc.retryAfter)
			ref, err := newPager(t, fake, "").Page(context.Background(), pagetest.Pages()["page"])
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent || de.RetryAfter != tc.wait || ref != "" {
				t.Errorf("got ref %q, %v; want permanent %v, retry after %s", ref, err, tc.permanent, tc.wait)
			}
			if err != nil && strings.Contains(err.Error(), chattest.PagerDutyRoutingKey) {
				t.Errorf("error %q leaks the routing key", err)
			}
		})
	}
	fake := chattest.NewPagerDuty(t)
	_, err := newPager(t, fake, "").Page(context.Background(), pagetest.Pages()["page_notice"])
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "PagerDuty pages are about a group") {
		t.Errorf("a page about no group: got %v, want a permanent error", err)
	}
	if fake.Requests() != 0 {
		t.Errorf("a page about no group sent %d requests", fake.Requests())
	}
}
