package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// outageStore fails every write as a store does while its database is
// unavailable, for as long as down is set.
type outageStore struct {
	klaxon.Store
	down atomic.Bool
}

func (s *outageStore) Update(ctx context.Context, fn func(klaxon.Tx) error) error {
	if s.down.Load() {
		return klaxon.Errorf(klaxon.EUNAVAILABLE, "database unavailable: disk full")
	}
	return s.Store.Update(ctx, fn)
}

// logBuffer collects a server's log lines; the server writes them from its
// own goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.Lines(b.buf.String()) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// While the database is unavailable, ingest answers 503 with Retry-After
// and says why, the log says so without a line per request, and the same
// request succeeds once the database is back.
func TestIngestWhileDatabaseUnavailable(t *testing.T) {
	const (
		alertmanagerToken = "am-token-0123456789abcdef"
		routingKey        = "R0123456789ABCDEF0123456789ABCDE"

		amPayload = `{"version":"4","status":"firing","receiver":"klaxon","alerts":[{"status":"firing",
			"labels":{"alertname":"DiskFull","instance":"db-1"},"annotations":{"summary":"Disk full on db-1"},
			"startsAt":"2026-03-10T11:59:00Z","fingerprint":"0123456789abcdef"}]}`
		eventsV2Payload = `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"db-1-disk",
			"payload":{"summary":"Disk full on db-1","source":"db-1","severity":"critical"}}`
		unavailableLog = `msg="database unavailable"`
	)
	sqliteStore, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqliteStore.Close() })
	store := &outageStore{Store: sqliteStore}
	var elapsed atomic.Int64 // seconds since testNow
	now := func() time.Time { return testNow.Add(time.Duration(elapsed.Load()) * time.Second) }
	tokens := httpapi.NewTokens()
	tokens.Add(alertmanagerToken, httpapi.Credential{Name: "am", Type: config.TypeAlertmanager})
	tokens.Add(routingKey, httpapi.Credential{Name: "pd", Type: config.TypeEventsV2})
	var logs logBuffer
	srv := &httpapi.Server{
		Alerts: alerting.New(store, alerting.Options{Now: now}),
		Tokens: tokens,
		Auth:   testAuth(t, store),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    now,
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	post := func(path, token, body string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String(), resp.Header
	}
	store.down.Store(true)
	for range 2 {
		status, body, header := post("/api/v1/ingest/alertmanager", alertmanagerToken, amPayload)
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
			t.Errorf("alertmanager: got %d, Retry-After %q; want 503 with Retry-After", status, header.Get("Retry-After"))
		}
		var e struct{ Error, Code string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != "database unavailable: disk full" || e.Code != klaxon.EUNAVAILABLE {
			t.Errorf("alertmanager: got body %s, want the error and code unavailable", body)
		}
	}
	status, body, header := post("/v2/enqueue", "", eventsV2Payload)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Errorf("events v2: got %d, Retry-After %q; want 503 with Retry-After", status, header.Get("Retry-After"))
	}
	if want := `{"status":"error","message":"database unavailable: disk full, retry"}`; strings.TrimSpace(body) != want {
		t.Errorf("events v2: got body %s, want %s", body, want)
	}
	lines := logs.lines(unavailableLog)
	if len(lines) != 1 || !strings.Contains(lines[0], "database unavailable: disk full") {
		t.Fatalf("got log lines %q, want one naming the cause for three failures in a second", lines)
	}

	elapsed.Store(10)
	post("/api/v1/ingest/alertmanager", alertmanagerToken, amPayload)
	if lines := logs.lines(unavailableLog); len(lines) != 2 || !strings.Contains(lines[1], "unlogged_failures=2") {
		t.Errorf("got log lines %q, want a second one 10s later counting the 2 not logged", lines)
	}

	store.down.Store(false)
	status, body, _ = post("/api/v1/ingest/alertmanager", alertmanagerToken, amPayload)
	var res httpapi.IngestResult
	if err := json.Unmarshal([]byte(body), &res); status != http.StatusOK || err != nil || len(res.Alerts) != 1 || res.Alerts[0].ID == 0 {
		t.Errorf("alertmanager after the database is back: got %d %s, want 200 and the alert stored", status, body)
	}
}
