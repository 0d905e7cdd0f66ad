package pagerduty_test

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

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/pagerduty"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func channel(t *testing.T, keys string) config.Channel {
	t.Helper()
	return notifytest.ChannelConfig(t, "pd", "pagerduty", keys)
}

func newChannel(t *testing.T, fake *chattest.PagerDuty, extra string) notify.Channel {
	t.Helper()
	ch, err := pagerduty.New(channel(t, fmt.Sprintf("    url: %s\n    routing_key: %s\n%s", fake.URL, chattest.PagerDutyRoutingKey, extra)), notify.Env{Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestNewValidates(t *testing.T) {
	key := chattest.PagerDutyRoutingKey
	for _, tc := range []struct{ name, keys, want string }{
		{"missing key", "", "channels[0].routing_key: missing"},
		{"short key", "    routing_key: hunter2hunter2\n", "channels[0].routing_key: got 14 characters, want 32"},
		{"http url", "    routing_key: " + key + "\n    url: http://events.example.org/v2/enqueue\n", "channels[0].url: \"http://events.example.org/v2/enqueue\" is not an https URL"},
		{"no severities", "    routing_key: " + key + "\n    severities: []\n", "channels[0].severities: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pagerduty.New(channel(t, tc.keys), notify.Env{})
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the routing key", err)
			}
		})
	}
	if _, err := pagerduty.New(channel(t, "    routing_key: "+key+"\n"), notify.Env{}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// at returns the group's message at a level and state.
func at(level klaxon.Level, state klaxon.State) *notify.Message {
	m := notifytest.Cases()["group"]
	m.Level, m.LevelName, m.State = level, fmt.Sprintf("P%d", level), state
	return m
}

func TestActions(t *testing.T) {
	type step struct {
		msg    *notify.Message
		remind bool
		want   string // the action sent, "" for none
	}
	for _, tc := range []struct {
		name       string
		severities string
		steps      []step
		incident   string // PagerDuty's state at the end
	}{
		{"P0 pages, is acknowledged, resolved", "", []step{
			{at(0, klaxon.StateFiring), false, "trigger"},
			{at(0, klaxon.StateFiring), false, ""}, // new members, same action
			{at(0, klaxon.StateFiring), true, ""},  // a reminder
			{at(0, klaxon.StateAcknowledged), false, "acknowledge"},
			{at(0, klaxon.StateAcknowledged), true, ""},
			{at(0, klaxon.StateResolved), false, "resolve"},
			{at(0, klaxon.StateResolved), false, ""},
		}, pagerDutyResolved},
		{"P1 never pages", "", []step{
			{at(1, klaxon.StateFiring), false, ""},
			{at(1, klaxon.StateAcknowledged), false, ""},
			{at(1, klaxon.StateResolved), false, ""},
		}, ""},
		{"escalation into a paging level triggers", "", []step{
			{at(2, klaxon.StateFiring), false, ""},
			{at(0, klaxon.StateFiring), false, "trigger"},
			{at(0, klaxon.StateResolved), false, "resolve"},
		}, pagerDutyResolved},
		{"unacknowledged pages again", "", []step{
			{at(0, klaxon.StateFiring), false, "trigger"},
			{at(0, klaxon.StateAcknowledged), false, "acknowledge"},
			{at(0, klaxon.StateFiring), false, "trigger"},
		}, pagerDutyAcknowledged}, // PagerDuty keeps an acknowledged incident acknowledged
		{"acknowledged before it could page", "", []step{
			{at(0, klaxon.StateAcknowledged), false, ""},
			{at(0, klaxon.StateResolved), false, ""},
		}, ""},
		{"configured severities", "    severities: [P0, P1]\n", []step{
			{at(1, klaxon.StateFiring), false, "trigger"},
			{at(1, klaxon.StateResolved), false, "resolve"},
		}, pagerDutyResolved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewPagerDuty(t)
			ch := newChannel(t, fake, tc.severities)
			ref := ""
			for i, s := range tc.steps {
				before := len(fake.Events())
				var err error
				ref, err = ch.Send(context.Background(), notify.Delivery{ID: 1, Version: int64(i + 1), Remind: s.remind, Ref: ref, Message: s.msg})
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				events := fake.Events()
				got := ""
				if len(events) > before {
					got = events[len(events)-1].EventAction
				}
				if len(events) > before+1 {
					t.Errorf("step %d: sent %d events", i, len(events)-before)
				}
				if got != s.want {
					t.Errorf("step %d (%s, P%d, remind %v): sent %q, want %q", i, s.msg.State, s.msg.Level, s.remind, got, s.want)
				}
			}
			if got := fake.Incident("klaxon-group-9"); got != tc.incident {
				t.Errorf("incident: got %q, want %q", got, tc.incident)
			}
		})
	}
}

const (
	pagerDutyResolved     = chattest.PagerDutyResolved
	pagerDutyAcknowledged = chattest.PagerDutyAcknowledged
)

func TestAckAndResolveCarryOnlyTheKey(t *testing.T) {
	fake := chattest.NewPagerDuty(t)
	ch := newChannel(t, fake, "")
	ref, err := ch.Send(context.Background(), notify.Delivery{Message: at(0, klaxon.StateFiring)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(context.Background(), notify.Delivery{Ref: ref, Message: at(0, klaxon.StateResolved)}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(fake.Events()[1].Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"routing_key": chattest.PagerDutyRoutingKey, "event_action": "resolve", "dedup_key": "klaxon-group-9"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTriggerGolden(t *testing.T) {
	for _, name := range []string{"critical_firing", "group", "hostile"} {
		t.Run(name, func(t *testing.T) {
			fake := chattest.NewPagerDuty(t)
			ch := newChannel(t, fake, "")
			if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Message: notifytest.Cases()[name]}); err != nil {
				t.Fatal(err)
			}
			events := fake.Events()
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			var got bytes.Buffer
			if err := json.Indent(&got, events[0].Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got.Bytes(), *update)
			for _, l := range events[0].Links {
				if !strings.HasPrefix(l.Href, "https://") && !strings.HasPrefix(l.Href, "http://") {
					t.Errorf("link %q is not http(s)", l.Href)
				}
			}
		})
	}
}

func TestSummaryIsCut(t *testing.T) {
	fake := chattest.NewPagerDuty(t)
	ch := newChannel(t, fake, "")
	m := notifytest.Cases()["critical_firing"]
	m.Title = strings.Repeat("é", 2000)
	if _, err := ch.Send(context.Background(), notify.Delivery{Message: m}); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(fake.Events()[0].Payload.Summary)); n != 1024 {
		t.Errorf("got a summary of %d characters, want 1024", n)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
		contains   string
	}{
		{"throttled", http.StatusTooManyRequests, "", false, 0, "HTTP 429"},
		{"throttled with Retry-After", http.StatusTooManyRequests, "30", false, 30 * time.Second, "HTTP 429"},
		{"server error", http.StatusInternalServerError, "", false, 0, "HTTP 500"},
		{"unavailable", http.StatusServiceUnavailable, "", false, 0, "HTTP 503"},
		{"invalid event", http.StatusBadRequest, "", true, 0, "pagerduty trigger: HTTP 400: Event object is invalid: injected failure"},
		{"not found", http.StatusNotFound, "", true, 0, "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := chattest.NewPagerDuty(t)
			ch := newChannel(t, fake, "")
			fake.Fail(1, tc.status, tc.retryAfter)
			ref, err := ch.Send(context.Background(), notify.Delivery{Message: at(0, klaxon.StateFiring)})
			if err == nil {
				t.Fatal("got no error")
			}
			if ref != "" {
				t.Errorf("got ref %q after a failure", ref)
			}
			if got := notify.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent: got %v, want %v (%v)", got, tc.permanent, err)
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("got %T, want a *notify.DeliveryError", err)
			}
			if de.RetryAfter != tc.wait {
				t.Errorf("retry after: got %s, want %s", de.RetryAfter, tc.wait)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("got %q, want it to contain %q", err, tc.contains)
			}
			if strings.Contains(err.Error(), chattest.PagerDutyRoutingKey) {
				t.Errorf("error %q leaks the routing key", err)
			}
		})
	}
}

func TestTriggerWithoutMembers(t *testing.T) {
	fake := chattest.NewPagerDuty(t)
	ch := newChannel(t, fake, "")
	m := at(0, klaxon.StateFiring)
	m.Alerts, m.URL, m.Runbook = nil, "", nil // no primary alert, so no runbook either
	if _, err := ch.Send(context.Background(), notify.Delivery{Message: m}); err != nil {
		t.Fatal(err)
	}
	ev := fake.Events()[0]
	if ev.Payload.Source != "klaxon" || len(ev.Links) != 0 || ev.ClientURL != "" {
		t.Errorf("got source %q, links %v, client_url %q", ev.Payload.Source, ev.Links, ev.ClientURL)
	}
}

func TestUnreachable(t *testing.T) {
	ch, err := pagerduty.New(channel(t, "    url: http://127.0.0.1:1/v2/enqueue\n    routing_key: "+chattest.PagerDutyRoutingKey+"\n"), notify.Env{Client: notify.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), notify.Delivery{Message: at(0, klaxon.StateFiring)})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), chattest.PagerDutyRoutingKey) {
		t.Errorf("error %q leaks the routing key", err)
	}
}
