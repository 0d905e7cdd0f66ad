package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// waitFor polls cond every 50ms until it holds or 20s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHeartbeatSurvivesRestart proves the heartbeat timer is a durable job:
// armed by one process, it fires in the next one.
func TestHeartbeatSurvivesRestart(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "klaxon.db")
	hb := "heartbeats:\n  - name: nightly-backup\n    timeout: 2s\n"
	first := startKlaxon(t, serverOptions{database: db, extraYAML: hb})
	if r := post(t, first.URL+"/api/v1/heartbeat/nightly-backup", nil, bearer(genericToken)...); r.status != http.StatusOK {
		t.Fatalf("check-in: got %d %s", r.status, r.body)
	}
	first.stop() // before the deadline: the job is only in the database now

	second := startKlaxon(t, serverOptions{database: db, extraYAML: hb})
	var missed []int64
	waitFor(t, "the missed-heartbeat alert", func() bool {
		missed = nil
		for _, a := range alerts(t, second, "open") {
			if a.Name() == "HeartbeatMissed" && a.Labels["heartbeat"] == "nightly-backup" {
				missed = append(missed, a.ID)
			}
		}
		return len(missed) > 0
	})
	if len(missed) != 1 {
		t.Fatalf("got %d missed-heartbeat alerts, want exactly 1", len(missed))
	}
	if r := post(t, second.URL+"/api/v1/heartbeat/nightly-backup?token="+genericToken, nil); r.status != http.StatusOK {
		t.Fatalf("check-in: got %d %s", r.status, r.body)
	}
	a, err := second.Client.Alert(context.Background(), missed[0])
	if err != nil || a.Alert.State != klaxon.StateResolved {
		t.Errorf("after check-in: got %v, %v; want the alert resolved", a, err)
	}
	if r := post(t, second.URL+"/api/v1/heartbeat/unknown", nil, bearer(genericToken)...); r.status != http.StatusNotFound {
		t.Errorf("unknown heartbeat: got %d, want 404", r.status)
	}
	if r := post(t, second.URL+"/api/v1/heartbeat/nightly-backup", nil); r.status != http.StatusUnauthorized {
		t.Errorf("check-in without token: got %d, want 401", r.status)
	}
}

// TestGracefulShutdown starts a request, shuts the server down while its body
// is still arriving, and expects the request to finish and its alert stored.
func TestGracefulShutdown(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "klaxon.db")
	s := startKlaxon(t, serverOptions{database: db})
	body := fixture(t, "am-webhook-v4-firing-amtool.json")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/ingest/alertmanager", pr)
	req.Header.Set("Authorization", "Bearer "+amToken)
	var (
		resp *http.Response
		err  error
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() { defer wg.Done(); resp, err = http.DefaultClient.Do(req) }()
	pw.Write(body[:10])
	time.Sleep(100 * time.Millisecond) // let the server start reading
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	time.Sleep(200 * time.Millisecond) // shutdown is now waiting on the request
	pw.Write(body[10:])
	pw.Close()
	wg.Wait()
	<-stopped
	if err != nil {
		t.Fatalf("in-flight request failed: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request: got %s, want 200", resp.Status)
	}
	again := startKlaxon(t, serverOptions{database: db})
	if got := alerts(t, again, "all"); len(got) != 1 || got[0].Key != "2f9b38ff744935c4" {
		t.Errorf("after restart: got %d alerts, want the one from the in-flight request", len(got))
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationsEndpoints(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	s := startKlaxon(t, serverOptions{logs: lockedWriter{&mu, &logs}})
	// Metrics are per process and other tests ran before: compare deltas.
	created := `klaxon_alerts_received_total{integration="prod-alertmanager",outcome="created"}`
	_, before := get(t, s.URL+"/metrics")
	post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing.json"), bearer(amToken)...)
	post(t, s.URL+"/api/v1/ingest/alertmanager?token="+pdToken, fixture(t, "am-webhook-v4-firing.json"))
	post(t, s.URL+"/api/v1/ingest/alertmanager", []byte("{"), bearer(amToken)...)
	post(t, s.URL+"/api/v1/ingest/alertmanager?token="+amToken, []byte("{"))
	s.Client.Alerts(context.Background(), "", 0)

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, s.URL+path); code != http.StatusOK || body != "ok\n" {
			t.Errorf("%s: got %d %q", path, code, body)
		}
	}
	code, metrics := get(t, s.URL+"/metrics")
	if got, want := metricValue(metrics, created)-metricValue(before, created), 2.0; got != want {
		t.Errorf("%s grew by %v, want %v", created, got, want)
	}
	for _, want := range []string{
		`klaxon_http_request_duration_seconds_count{code="401",route="POST /api/v1/ingest/alertmanager"}`,
		`klaxon_http_request_duration_seconds_count{code="400",route="POST /api/v1/ingest/alertmanager"}`,
		`klaxon_store_duration_seconds_count{op="update",outcome="ok"}`,
		`klaxon_ingest_batch_alerts_count`,
		`go_goroutines`,
	} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	s.stop()
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() == 0 {
		t.Fatal("no logs captured")
	}
	for _, token := range []string{amToken, pdToken, cliToken, genericToken} {
		if strings.Contains(logs.String(), token) {
			t.Errorf("a token appears in the logs:\n%s", logs.String())
		}
	}
}

// metricValue reads one sample from Prometheus text exposition; 0 if absent.
func metricValue(exposition, series string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
