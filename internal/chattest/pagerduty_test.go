package chattest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

func pagerDutySend(t *testing.T, p *chattest.PagerDuty, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(p.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer
}

const pagerDutyTrigger = `{"routing_key":"` + chattest.PagerDutyRoutingKey + `","event_action":"trigger","dedup_key":"g1",
	"payload":{"summary":"disk full","source":"db-1","severity":"critical"}}`

func TestPagerDutyIncidents(t *testing.T) {
	p := chattest.NewPagerDuty(t)
	action := func(a string) string {
		return `{"routing_key":"` + chattest.PagerDutyRoutingKey + `","event_action":"` + a + `","dedup_key":"g1"}`
	}
	for _, step := range []struct{ body, want string }{
		{action("acknowledge"), ""}, // nothing open: ignored
		{pagerDutyTrigger, chattest.PagerDutyTriggered},
		{action("acknowledge"), chattest.PagerDutyAcknowledged},
		{pagerDutyTrigger, chattest.PagerDutyAcknowledged},
		{action("resolve"), chattest.PagerDutyResolved},
		{action("acknowledge"), chattest.PagerDutyResolved},
	} {
		code, answer := pagerDutySend(t, p, step.body)
		if code != http.StatusAccepted || answer["status"] != "success" || answer["dedup_key"] != "g1" {
			t.Fatalf("got %d %v", code, answer)
		}
		if got := p.Incident("g1"); got != step.want {
			t.Errorf("after %s: got %q, want %q", step.body, got, step.want)
		}
	}
	if n := len(p.Events()); n != 6 {
		t.Errorf("got %d events, want 6", n)
	}
}

func TestPagerDutyRefuses(t *testing.T) {
	p := chattest.NewPagerDuty(t)
	for _, tc := range []struct{ name, body, want string }{
		{"no routing key", `{"event_action":"resolve","dedup_key":"g1"}`, "'routing_key' is missing"},
		{"short routing key", `{"routing_key":"abc","event_action":"resolve","dedup_key":"g1"}`, "Length of 'routing_key' is incorrect"},
		{"ack without dedup key", `{"routing_key":"` + chattest.PagerDutyRoutingKey + `","event_action":"acknowledge"}`, "'dedup_key' is required"},
		{"bad action", `{"routing_key":"` + chattest.PagerDutyRoutingKey + `","event_action":"page"}`, "'event_action' is invalid"},
		{"bad severity", strings.Replace(pagerDutyTrigger, "critical", "P0", 1), "'payload.severity' is invalid"},
		{"no source", strings.Replace(pagerDutyTrigger, `"db-1"`, `""`, 1), "'payload.source' is missing"},
		{"long summary", strings.Replace(pagerDutyTrigger, "disk full", strings.Repeat("x", 1025), 1), "'payload.summary' is too long"},
		{"unknown field", strings.Replace(pagerDutyTrigger, `"dedup_key"`, `"incident_key"`, 1), "Malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, answer := pagerDutySend(t, p, tc.body)
			errs, _ := json.Marshal(answer["errors"])
			if code != http.StatusBadRequest || answer["status"] != "invalid event" || !strings.Contains(string(errs), tc.want) {
				t.Errorf("got %d %v, want 400 saying %q", code, answer, tc.want)
			}
		})
	}
	if len(p.Events()) != 0 {
		t.Errorf("refused events were kept")
	}
	p.Fail(1, http.StatusTooManyRequests, "")
	if code, answer := pagerDutySend(t, p, pagerDutyTrigger); code != http.StatusTooManyRequests || answer["status"] != "throttle event" {
		t.Errorf("got %d %v", code, answer)
	}
	if p.Requests() != 9 {
		t.Errorf("got %d requests, want 9", p.Requests())
	}
}
