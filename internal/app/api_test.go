package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

type response struct {
	status int
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// post sends body to path with the given headers (k, v pairs).
func post(t *testing.T, url string, body []byte, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, b}
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alerts(t *testing.T, s *klaxonServer, state string) []httpapi.Alert {
	t.Helper()
	list, err := s.Client.Alerts(context.Background(), state, 1000)
	if err != nil {
		t.Fatalf("list alerts: %v", err)
	}
	return list.Alerts
}

func TestAlertmanagerFixtures(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	ingest := s.URL + "/api/v1/ingest/alertmanager"
	for _, f := range []string{"am-webhook-v4-firing.json", "am-webhook-v4-firing-warning.json", "am-webhook-v4-firing-amtool.json", "am-webhook-v4-firing.json"} {
		if r := post(t, ingest, fixture(t, f), bearer(amToken)...); r.status != http.StatusOK {
			t.Fatalf("%s: got %d %s, want 200", f, r.status, r.body)
		}
	}
	open := alerts(t, s, "open")
	if len(open) != 4 {
		t.Fatalf("got %d open alerts, want 4 (2 crash-looping pods, 1 warning, 1 amtool)", len(open))
	}
	byKey := map[string]httpapi.Alert{}
	for _, a := range open {
		byKey[a.Key] = a
	}
	crash := byKey["c17da6d1a7af8f8b"]
	if crash.Count != 2 || crash.Priority != "P0" || crash.Where() != "payments/payments-api-7d9f8b6c5-q8w4z" || crash.Summary != "Pod is crash looping." || crash.Integration != "prod-alertmanager" {
		t.Errorf("crash-looping alert: got %+v", crash)
	}

	// The resolved notifications resolve exactly the alerts they name.
	for _, f := range []string{"am-webhook-v4-resolved.json", "am-webhook-v4-resolved-amtool.json"} {
		if r := post(t, ingest, fixture(t, f), bearer(amToken)...); r.status != http.StatusOK {
			t.Fatalf("%s: got %d %s", f, r.status, r.body)
		}
	}
	resolved := alerts(t, s, "resolved")
	var resolvedKeys []string
	for _, a := range resolved {
		if a.ResolvedBy != "prod-alertmanager" {
			t.Errorf("alert %d resolved by %q, want prod-alertmanager", a.ID, a.ResolvedBy)
		}
		resolvedKeys = append(resolvedKeys, a.Key)
	}
	stillOpen := alerts(t, s, "open")
	if len(resolved) != 3 || len(stillOpen) != 1 || stillOpen[0].Key != "a46b1f2178ddf7da" {
		t.Errorf("resolved %v; want the three alerts the resolved fixtures name, only the warning still open", resolvedKeys)
	}
}

func TestWatchdogIsACheckIn(t *testing.T) {
	s := startKlaxon(t, serverOptions{extraYAML: "heartbeats:\n  - name: am-watchdog\n    alertname: Watchdog\n    timeout: 5m\n"})
	r := post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing-watchdog.json"), bearer(amToken)...)
	var res httpapi.IngestResult
	r.json(t, &res)
	if r.status != http.StatusOK || res.Alerts[0].Outcome != klaxon.OutcomeCheckIn {
		t.Fatalf("got %d %s, want 200 with a checkin outcome", r.status, r.body)
	}
	if got := alerts(t, s, "all"); len(got) != 0 {
		t.Errorf("Watchdog stored as %d alert(s), want none", len(got))
	}
}

func TestWrongTokenStoresNothing(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	body := fixture(t, "am-webhook-v4-firing.json")
	tests := []struct {
		name    string
		url     string
		headers []string
	}{
		{"no token", "/api/v1/ingest/alertmanager", nil},
		{"unknown bearer", "/api/v1/ingest/alertmanager", bearer("not-a-token-at-all-xx")},
		{"another integration type's token", "/api/v1/ingest/alertmanager", bearer(genericToken)},
		{"an API token", "/api/v1/ingest/alertmanager", bearer(cliToken)},
		{"unknown query token", "/api/v1/ingest/alertmanager?token=nope-nope-nope-nope", nil},
		{"wrong basic-auth password", "/api/v1/ingest/alertmanager", []string{"Authorization", "Basic a2xheG9uOndyb25n"}},
		{"generic with alertmanager token", "/api/v1/ingest/generic", bearer(amToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s.URL+tt.url, body, tt.headers...)
			if r.status != http.StatusUnauthorized {
				t.Errorf("got %d %s, want 401", r.status, r.body)
			}
		})
	}
	if got := alerts(t, s, "all"); len(got) != 0 {
		t.Errorf("%d alerts stored by unauthenticated requests", len(got))
	}
	// The same body with each accepted form of the right token works.
	for _, url := range []string{"/api/v1/ingest/alertmanager?token=" + amToken} {
		if r := post(t, s.URL+url, body); r.status != http.StatusOK {
			t.Errorf("?token=: got %d %s", r.status, r.body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/ingest/alertmanager", bytes.NewReader(body))
	req.SetBasicAuth("alertmanager", amToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("basic auth: got %v %v, want 200", resp.Status, err)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	ingest := s.URL + "/api/v1/ingest/alertmanager"
	if r := post(t, ingest, fixture(t, "am-webhook-v4-firing.json"), bearer(amToken)...); r.status != http.StatusOK {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	before := alerts(t, s, "all")

	valid := string(fixture(t, "am-webhook-v4-firing.json"))
	// A valid first alert followed by a broken second one: all or nothing.
	halfBroken := strings.Replace(valid, `"fingerprint":"687b761e8c8e0e1f"`, `"fingerprint":""`, 1)
	// Changes the first (already stored) alert, then breaks: nothing applies.
	changedThenBroken := strings.Replace(strings.Replace(valid, `"summary":"Pod is crash looping."}`, `"summary":"CHANGED"}`, 1),
		`"status":"firing","labels":{"alertname":"KubePodCrashLooping","cluster":"am-fire","namespace":"payments","pod":"payments-api-7d9f8b6c5-x2x7k"`,
		`"status":"bogus","labels":{"alertname":"KubePodCrashLooping","cluster":"am-fire","namespace":"payments","pod":"payments-api-7d9f8b6c5-x2x7k"`, 1)
	tests := []struct {
		name     string
		body     string
		wantText string
	}{
		{"empty", "", "body is empty"},
		{"not JSON", "{not json", "not valid JSON"},
		{"trailing data", valid + "{}", "data after the JSON value"},
		{"wrong type", `{"version":"4","alerts":[{"labels":5}]}`, "alerts.labels"},
		{"wrong version", strings.Replace(valid, `"version":"4"`, `"version":"3"`, 1), "version"},
		{"missing alerts", `{"version":"4","status":"firing"}`, "alerts: missing"},
		{"second alert broken", halfBroken, "alerts[1].fingerprint"},
		{"change then broken", changedThenBroken, "alerts[1].status"},
		{"NUL character", strings.Replace(valid, "Pod is crash looping.", `Pod\u0000`, 1), "NUL"},
		{"oversized", `{"version":"4","alerts":[],"pad":"` + strings.Repeat("x", 5<<20) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, ingest, []byte(tt.body), bearer(amToken)...)
			var e struct{ Error string }
			json.Unmarshal(r.body, &e)
			if r.status != http.StatusBadRequest || !strings.Contains(e.Error, tt.wantText) {
				t.Errorf("got %d %q, want 400 naming %q", r.status, e.Error, tt.wantText)
			}
		})
	}
	after := alerts(t, s, "all")
	if len(after) != len(before) {
		t.Fatalf("got %d alerts after bad input, want %d", len(after), len(before))
	}
	for i := range after {
		if after[i].Count != before[i].Count || after[i].Summary != before[i].Summary || after[i].State != before[i].State {
			t.Errorf("alert %d changed by bad input: %+v → %+v", after[i].ID, *before[i].Alert, *after[i].Alert)
		}
	}
}

func TestEventsV2SpeaksPagerDuty(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	enqueue := s.URL + "/v2/enqueue"
	type pdResponse struct {
		Status   string   `json:"status"`
		Message  string   `json:"message"`
		DedupKey string   `json:"dedup_key"`
		Errors   []string `json:"errors"`
	}
	send := func(body []byte) (int, pdResponse) {
		r := post(t, enqueue, body)
		var out pdResponse
		r.json(t, &out)
		return r.status, out
	}

	// Trigger without dedup_key: one is generated and returned.
	status, got := send(fixture(t, "go-pagerduty-v2-trigger.json"))
	if status != http.StatusAccepted || got.Status != "success" || got.Message != "Event processed" || len(got.DedupKey) != 32 {
		t.Fatalf("trigger: got %d %+v", status, got)
	}
	// Alertmanager's own pagerduty receiver payload.
	if status, amGot := send(fixture(t, "am-pagerduty-v2-trigger.json")); status != http.StatusAccepted ||
		amGot.DedupKey != "60249a47b443e521d84f3db5375fd5bfa8307b1b41e2f4f5c6d2e7f5c58c4779" {
		t.Fatalf("Alertmanager trigger: got %d %+v", status, amGot)
	}
	// Acknowledge and resolve by the returned dedup key.
	for _, action := range []string{"acknowledge", "resolve"} {
		body := `{"routing_key":"` + pdToken + `","event_action":"` + action + `","dedup_key":"` + got.DedupKey + `"}`
		if status, r := send([]byte(body)); status != http.StatusAccepted || r.DedupKey != got.DedupKey {
			t.Fatalf("%s: got %d %+v", action, status, r)
		}
	}
	var disk httpapi.Alert
	for _, a := range alerts(t, s, "all") {
		if a.Key == got.DedupKey {
			disk = a
		}
	}
	if disk.Alert == nil || disk.State != klaxon.StateResolved || disk.AckedBy != "grafana" || disk.Summary != "DISK at 99% on db-1" || disk.Priority != "P0" {
		t.Fatalf("disk alert: got %+v", disk.Alert)
	}
	detail, err := s.Client.Alert(context.Background(), disk.ID)
	if err != nil || len(detail.Events) != 3 {
		t.Errorf("history: got %d events, want fired, acknowledged, resolved (err %v)", len(detail.Events), err)
	}

	status, inv := send([]byte(`{"routing_key":"` + pdToken + `","event_action":"trigger","payload":{"severity":"bad"}}`))
	if status != http.StatusBadRequest || inv.Status != "invalid event" || inv.Message != "Event object is invalid" || len(inv.Errors) != 3 {
		t.Errorf("invalid event: got %d %+v, want 400 with 3 errors (summary, source, severity)", status, inv)
	}
	status, unauth := send([]byte(strings.Replace(string(fixture(t, "go-pagerduty-v2-trigger.json")), pdToken, "RWRONGWRONGWRONGWRONGWRONGWRONG00", 1)))
	if status != http.StatusUnauthorized || unauth.Status != "invalid event" {
		t.Errorf("wrong routing key: got %d %+v, want 401", status, unauth)
	}
}

func TestGenericIngest(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	body := `[{"key":"backup-db1","summary":"Nightly backup failed","severity":"critical","labels":{"alertname":"BackupFailed","host":"db1"}},
	          {"summary":"Queue is backing up","labels":{"alertname":"QueueBacklog","queue":"emails","severity":"warning"}}]`
	r := post(t, s.URL+"/api/v1/ingest/generic", []byte(body), bearer(genericToken)...)
	var res httpapi.IngestResult
	r.json(t, &res)
	if r.status != http.StatusOK || res.Accepted != 2 || res.Alerts[0].Key != "backup-db1" || res.Alerts[1].Key == "" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	r = post(t, s.URL+"/api/v1/ingest/generic", []byte(`{"summary":"x","labels":{"a":"b"},"severty":"critical"}`), bearer(genericToken)...)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "severty") {
		t.Errorf("unknown field: got %d %s, want 400 naming it", r.status, r.body)
	}
}

func TestAPIErrors(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	ctx := context.Background()
	noToken := &httpapi.Client{BaseURL: s.URL}
	if _, err := noToken.Alerts(ctx, "", 0); klaxon.ErrorCode(err) != klaxon.EUNAUTHORIZED {
		t.Errorf("no token: got %v, want unauthorized", err)
	}
	integrationToken := &httpapi.Client{BaseURL: s.URL, Token: amToken}
	if _, err := integrationToken.Alerts(ctx, "", 0); klaxon.ErrorCode(err) != klaxon.EUNAUTHORIZED {
		t.Errorf("integration token on the API: got %v, want unauthorized", err)
	}
	if _, err := s.Client.Alert(ctx, 999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND || !strings.Contains(err.Error(), "999") {
		t.Errorf("unknown alert: got %v, want not found naming 999", err)
	}
	if _, err := s.Client.Change(ctx, 999, "ack"); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("ack unknown alert: got %v", err)
	}
	if _, err := s.Client.Alerts(ctx, "sleeping", 0); klaxon.ErrorCode(err) != klaxon.EINVALID {
		t.Errorf("bad state filter: got %v, want invalid", err)
	}
	post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing-amtool.json"), bearer(amToken)...)
	id := alerts(t, s, "open")[0].ID
	if _, err := s.Client.Change(ctx, id, "unack"); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
		t.Errorf("unack of firing alert: got %v, want conflict", err)
	}
	a, err := s.Client.Change(ctx, id, "ack")
	if err != nil || a.AckedBy != "ops-cli" {
		t.Errorf("ack: got %+v, %v; want acked by the token's name", a, err)
	}
}
