package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// Tokens of the ingest server's integrations; the events-v2 one is the
// routing key of the go-pagerduty payload in testdata.
const (
	ingestAMToken      = "am-token-0123456789abcdef"
	ingestGenericToken = "generic-token-0123456789"
	ingestEventsToken  = "R0123456789ABCDEF0123456789ABCDE"
)

// manualClock is a time tests move by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type ingestServer struct {
	URL    string
	clock  *manualClock
	alerts *alerting.Service
}

// startIngest serves ingest for three integrations, "am", "generic" and
// "events", each with limit, and the API token without one. Time stands
// still until the test moves the clock.
func startIngest(t *testing.T, limit config.RateLimit) *ingestServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &manualClock{now: testNow}
	alerts := alerting.New(store, alerting.Options{
		Now:        c.Now,
		Heartbeats: []alerting.HeartbeatConfig{{Name: "cron", Timeout: time.Hour, Severity: "critical"}},
	})
	t.Cleanup(alerts.Close)
	tokens := httpapi.NewTokens()
	tokens.Add(apiToken, httpapi.Credential{Name: "ops-cli"})
	tokens.Add(ingestAMToken, httpapi.Credential{Name: "am", Type: config.TypeAlertmanager, Limit: limit})
	tokens.Add(ingestGenericToken, httpapi.Credential{Name: "generic", Type: config.TypeGeneric, Limit: limit})
	tokens.Add(ingestEventsToken, httpapi.Credential{Name: "events", Type: config.TypeEventsV2, Limit: limit})
	srv := &httpapi.Server{Alerts: alerts, Tokens: tokens, Auth: testAuth(t, store), Now: c.Now}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &ingestServer{URL: ts.URL, clock: c, alerts: alerts}
}

// post sends body to path with token as a bearer token.
func (s *ingestServer) post(t *testing.T, path, token, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (s *ingestServer) alertCount(t *testing.T) int {
	t.Helper()
	list, err := s.alerts.Alerts(context.Background(), klaxon.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func testdataPayload(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func genericAlert(key string) string {
	return `{"key":"` + key + `","summary":"backup failed","severity":"critical"}`
}

// throttledCount reads klaxon_ingest_throttled_total{integration}.
func throttledCount(t *testing.T, integration string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(httpapi.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "klaxon_ingest_throttled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == integration {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestIngestRateLimit: within the limit every request is stored; the
// first over it is a 429 that says which integration, what limit and
// when to retry, and nothing of it is stored; once the bucket refills
// requests pass again.
func TestIngestRateLimit(t *testing.T) {
	twoPerSecond := config.RateLimit{Requests: 2, Per: time.Second}
	tests := []struct {
		name, path, token, integration string
		body                           func(i int) string
		wantStored                     int // alerts stored by each accepted request
	}{
		{"alertmanager", "/api/v1/ingest/alertmanager", ingestAMToken, "am", func(i int) string {
			// A new fingerprint each time: a new alert to store.
			return strings.Replace(testdataPayload(t, "alertmanager/testdata/am-webhook-v4-firing-warning.json"), "a46b1f2178ddf7da", fmt.Sprintf("a46b1f2178ddf7%02x", i), 1)
		}, 1},
		{"generic", "/api/v1/ingest/generic", ingestGenericToken, "generic",
			func(i int) string { return genericAlert(fmt.Sprint("backup-", i)) }, 1},
		{"heartbeat with an integration's token", "/api/v1/heartbeat/cron", ingestGenericToken, "generic",
			func(int) string { return "" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startIngest(t, twoPerSecond)
			for i := range 2 {
				if status, body, _ := s.post(t, tt.path, tt.token, tt.body(i)); status != http.StatusOK {
					t.Fatalf("request %d within the limit: got %d %s, want 200", i+1, status, body)
				}
			}
			stored := s.alertCount(t)
			before := throttledCount(t, tt.integration)

			status, body, header := s.post(t, tt.path, tt.token, tt.body(2))
			var got struct{ Error, Code string }
			json.Unmarshal([]byte(body), &got)
			wantError := `integration "` + tt.integration + `" is over its rate limit of 2 requests/s; retry after 1s`
			if status != http.StatusTooManyRequests || got.Code != klaxon.ERATELIMITED || got.Error != wantError {
				t.Errorf("3rd request: got %d %s, want 429 {error: %q, code: rate_limited}", status, body, wantError)
			}
			if ra := header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After: got %q, want 1 (half a second, rounded up)", ra)
			}
			if n := s.alertCount(t); n != stored {
				t.Errorf("alerts after the throttled request: got %d, want %d (nothing stored)", n, stored)
			}
			if d := throttledCount(t, tt.integration) - before; d != 1 {
				t.Errorf("klaxon_ingest_throttled_total{integration=%q}: went up by %v, want 1", tt.integration, d)
			}

			s.clock.Advance(500 * time.Millisecond) // one request's share of a second
			if status, body, _ := s.post(t, tt.path, tt.token, tt.body(3)); status != http.StatusOK {
				t.Errorf("after 500ms: got %d %s, want 200", status, body)
			}
			if status, _, _ := s.post(t, tt.path, tt.token, tt.body(4)); status != http.StatusTooManyRequests {
				t.Errorf("a second request after 500ms: got %d, want 429", status)
			}
			if n, want := s.alertCount(t), 3*tt.wantStored; n != want {
				t.Errorf("alerts stored: got %d, want %d", n, want)
			}
		})
	}
}

// TestRateLimitIsPerIntegration: one integration over its limit leaves the
// others, and API tokens, alone.
func TestRateLimitIsPerIntegration(t *testing.T) {
	s := startIngest(t, config.RateLimit{Requests: 1, Per: time.Minute})
	s.post(t, "/api/v1/ingest/generic", ingestGenericToken, genericAlert("a"))
	if status, _, _ := s.post(t, "/api/v1/ingest/generic", ingestGenericToken, genericAlert("b")); status != http.StatusTooManyRequests {
		t.Fatalf("generic's 2nd request: got %d, want 429", status)
	}
	if status, body, _ := s.post(t, "/api/v1/ingest/alertmanager", ingestAMToken, testdataPayload(t, "alertmanager/testdata/am-webhook-v4-firing.json")); status != http.StatusOK {
		t.Errorf("alertmanager's 1st request: got %d %s, want 200", status, body)
	}
	for i := range 3 {
		if status, body, _ := s.post(t, "/api/v1/heartbeat/cron", apiToken, ""); status != http.StatusOK {
			t.Errorf("heartbeat %d with an API token: got %d %s, want 200 (API tokens have no limit)", i+1, status, body)
		}
	}
}

// TestRateLimitOff: the zero limit lets every request through.
func TestRateLimitOff(t *testing.T) {
	s := startIngest(t, config.RateLimit{})
	for i := range 50 {
		if status, body, _ := s.post(t, "/api/v1/ingest/generic", ingestGenericToken, genericAlert("k")); status != http.StatusOK {
			t.Fatalf("request %d: got %d %s, want 200", i+1, status, body)
		}
	}
}

// TestRateLimitWrongTokenFirst: an unknown token is refused as before and
// spends nobody's limit.
func TestRateLimitWrongTokenFirst(t *testing.T) {
	s := startIngest(t, config.RateLimit{Requests: 1, Per: time.Minute})
	if status, _, _ := s.post(t, "/api/v1/ingest/generic", "not-a-token-0123456789", genericAlert("a")); status != http.StatusUnauthorized {
		t.Errorf("unknown token: got %d, want 401", status)
	}
	if status, body, _ := s.post(t, "/api/v1/ingest/generic", ingestGenericToken, genericAlert("a")); status != http.StatusOK {
		t.Errorf("the integration's 1st request: got %d %s, want 200", status, body)
	}
}

// TestEventsV2RateLimit: /v2/enqueue answers a throttled event in
// PagerDuty's shape, which its clients retry, and stores nothing of it.
func TestEventsV2RateLimit(t *testing.T) {
	s := startIngest(t, config.RateLimit{Requests: 1, Per: time.Minute})
	event := testdataPayload(t, "eventsv2/testdata/go-pagerduty-v2-trigger.json")
	if status, body, _ := s.post(t, "/v2/enqueue", "", event); status != http.StatusAccepted {
		t.Fatalf("1st event: got %d %s, want 202", status, body)
	}
	status, body, header := s.post(t, "/v2/enqueue", "", strings.Replace(event, "DISK at 99%", "DISK at 100%", 1))
	var got struct {
		Status, Message string
		Errors          []string
	}
	json.Unmarshal([]byte(body), &got)
	wantError := `integration "events" is over its rate limit of 1 request/min; retry after 60s`
	if status != http.StatusTooManyRequests || got.Status != "throttle exceeded" || got.Message == "" || len(got.Errors) != 1 || got.Errors[0] != wantError {
		t.Errorf("2nd event: got %d %s, want 429 {status: throttle exceeded, message, errors: [%q]}", status, body, wantError)
	}
	if ra := header.Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After: got %q, want 60", ra)
	}
	list, err := s.alerts.Alerts(context.Background(), klaxon.AlertFilter{})
	if err != nil || len(list) != 1 || list[0].Summary != "DISK at 99% on db-1" {
		t.Errorf("alerts: got %d (%v), want only the 1st event's", len(list), err)
	}
}
