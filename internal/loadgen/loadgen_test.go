package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/ingest/alertmanager"
	"github.com/klaxon-oss/klaxon/internal/ingest/generic"
	"github.com/klaxon-oss/klaxon/internal/loadgen"
)

const token = "ingest-token-0123456789"

// fakeServer decodes every request with Klaxon's own decoders, refuses the
// requests fail says to, and remembers every key it accepted.
type fakeServer struct {
	t      *testing.T
	decode func([]byte) ([]klaxon.Signal, error)
	fail   func(keys []string) bool
	delay  time.Duration

	mu        sync.Mutex
	keys      map[string]int
	requests  int
	conns     atomic.Int64
	badAuth   int
	userAgent string
}

func newFake(t *testing.T, format string) (*fakeServer, *httptest.Server) {
	f := &fakeServer{t: t, keys: map[string]int{}, fail: func([]string) bool { return false }}
	switch format {
	case loadgen.FormatGeneric:
		f.decode = generic.Decode
	default:
		f.decode = func(b []byte) ([]klaxon.Signal, error) {
			_, s, err := alertmanager.Decode(b)
			return s, err
		}
	}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost { // GET /metrics: this server has none
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests++
	f.userAgent = r.UserAgent()
	if r.Header.Get("Authorization") != "Bearer "+token {
		f.badAuth++
	}
	f.mu.Unlock()
	time.Sleep(f.delay)
	signals, err := f.decode(body)
	if err != nil {
		f.t.Errorf("%s: body does not decode: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	keys := make([]string, len(signals))
	for i, s := range signals {
		keys[i] = s.Key
	}
	if f.fail(keys) {
		http.Error(w, `{"error":"internal error","code":"internal"}`, http.StatusInternalServerError)
		return
	}
	f.mu.Lock()
	for _, k := range keys {
		f.keys[k]++
	}
	f.mu.Unlock()
	fmt.Fprintf(w, `{"accepted":%d}`, len(signals))
}

var clients = []string{loadgen.ClientRaw, loadgen.ClientStd}

func TestRunCountsAcceptedAndFailed(t *testing.T) {
	for _, tc := range []struct{ format, client string }{
		{loadgen.FormatAlertmanager, loadgen.ClientRaw},
		{loadgen.FormatAlertmanager, loadgen.ClientStd},
		{loadgen.FormatGeneric, loadgen.ClientRaw},
	} {
		format := tc.format
		t.Run(format+"/"+tc.client, func(t *testing.T) {
			f, srv := newFake(t, format)
			const run = 0xabc
			// Every request whose first alert is a multiple of 7 batches fails.
			f.fail = func(keys []string) bool {
				var seq int
				fmt.Sscanf(keys[0][8:], "%x", &seq)
				return (seq/10)%7 == 0
			}
			rep, err := loadgen.Run(context.Background(), loadgen.Options{
				URLs: []string{srv.URL}, Token: token, Format: format, Run: run, Client: tc.client,
				Alerts: 1005, Batch: 10, Concurrency: 4,
			})
			if err != nil {
				t.Fatal(err)
			}
			// 101 requests (the last of 5 alerts); requests 0, 7, … 98 fail.
			const failedRequests = 15
			if rep.Requests != 101 || rep.RequestsFailed != failedRequests || rep.RequestsOK != 101-failedRequests {
				t.Errorf("requests: got %d sent, %d ok, %d failed; want 101, %d, %d",
					rep.Requests, rep.RequestsOK, rep.RequestsFailed, 101-failedRequests, failedRequests)
			}
			if rep.AlertsSent != 1005 || rep.AlertsFailed != failedRequests*10 || rep.AlertsAccepted != 1005-failedRequests*10 {
				t.Errorf("alerts: got %d sent, %d accepted, %d failed", rep.AlertsSent, rep.AlertsAccepted, rep.AlertsFailed)
			}
			if len(rep.Errors) != 1 || rep.Errors[0].What != "HTTP 500 Internal Server Error" ||
				rep.Errors[0].Requests != failedRequests || !strings.Contains(rep.Errors[0].Sample, "internal error") {
				t.Errorf("errors: got %+v", rep.Errors)
			}
			if len(f.keys) != rep.AlertsAccepted {
				t.Errorf("server stored %d keys, report says %d accepted", len(f.keys), rep.AlertsAccepted)
			}
			for k, n := range f.keys {
				if n != 1 || !strings.HasPrefix(k, "00000abc") || len(k) != 16 {
					t.Errorf("key %q sent %d times; want every key once, of the run", k, n)
				}
			}
			if f.badAuth > 0 {
				t.Errorf("%d requests without the bearer token", f.badAuth)
			}
			if rep.AlertsPerSec <= 0 || rep.RequestsPerSec <= 0 || rep.Latency.Max <= 0 || rep.Latency.P50 > rep.Latency.P99 {
				t.Errorf("rates and latency: %+v %+v", rep, rep.Latency)
			}
			if wantPath := "/api/v1/ingest/" + format; len(rep.Targets) != 1 || !strings.HasSuffix(rep.Targets[0], wantPath) {
				t.Errorf("targets: got %v, want one, …%s", rep.Targets, wantPath)
			}
		})
	}
}

func TestRunReusesConnections(t *testing.T) {
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			f, srv := newFake(t, loadgen.FormatAlertmanager)
			rep, err := loadgen.Run(context.Background(), loadgen.Options{
				URLs: []string{srv.URL}, Token: token, Alerts: 2000, Batch: 1, Concurrency: 4, Client: client,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.RequestsOK != 2000 {
				t.Fatalf("got %d ok requests, want 2000", rep.RequestsOK)
			}
			// The std client may reuse the connection of the /metrics read.
			if n := f.conns.Load(); n > 5 {
				t.Errorf("opened %d connections for 4 workers: keep-alive is not working", n)
			}
			if f.userAgent != "klaxon-bench" {
				t.Errorf("user agent: got %q", f.userAgent)
			}
		})
	}
}

// The raw client must read chunked answers (Klaxon's answer to a large
// batch is chunked) and redial when the server closes the connection.
func TestRawClientChunkedAndConnectionClose(t *testing.T) {
	var n, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		for range 100 { // beyond net/http's buffer: chunked
			io.WriteString(w, strings.Repeat("x", 100))
			w.(http.Flusher).Flush()
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{srv.URL}, Token: token, Alerts: 30, Batch: 1, Concurrency: 1, Client: loadgen.ClientRaw,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RequestsOK != 30 || rep.RequestsFailed != 0 {
		t.Errorf("got %d ok, %d failed: %+v", rep.RequestsOK, rep.RequestsFailed, rep.Errors)
	}
	// Every third answer closes: 10 connections for the 30 requests, plus
	// the /metrics reads' own.
	if c := conns.Load(); c < 10 || c > 12 {
		t.Errorf("%d connections, want about 10", c)
	}
}

func TestRunCancel(t *testing.T) {
	f, srv := newFake(t, loadgen.FormatAlertmanager)
	f.delay = time.Second // far beyond the cancel
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			rep, err := loadgen.Run(ctx, loadgen.Options{
				URLs: []string{srv.URL}, Token: token, Alerts: 10, Batch: 1, Concurrency: 2, Client: client,
			})
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("cancelled run took %s", time.Since(start))
			}
			if rep.RequestsOK != 0 || rep.RequestsFailed != 2 || len(rep.Errors) != 1 || rep.Errors[0].What != "canceled" {
				t.Errorf("got %d ok, %d failed, errors %+v", rep.RequestsOK, rep.RequestsFailed, rep.Errors)
			}
		})
	}
}

func TestRunMeasuresLatency(t *testing.T) {
	f, srv := newFake(t, loadgen.FormatAlertmanager)
	f.delay = 20 * time.Millisecond
	called := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{srv.URL}, Token: token, Alerts: 40, Batch: 2, Concurrency: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if returned := time.Now(); rep.Start.Before(called) || rep.Start.Add(time.Duration(rep.Elapsed)).After(returned) {
		t.Errorf("clock started at %s and ran %s; want within the call, %s to %s",
			rep.Start, time.Duration(rep.Elapsed), called, returned)
	}
	l := rep.Latency
	if l.P50 < f.delay || l.Max < l.P99 || l.P99 < l.P90 || l.P90 < l.P50 || l.P50 > time.Second {
		t.Errorf("latency with a 20ms server: %+v", l)
	}
	// 20 requests of 20ms on 5 workers take at least 80ms.
	if e := time.Duration(rep.Elapsed); e < 80*time.Millisecond {
		t.Errorf("elapsed %s, want at least 80ms", e)
	}
}

func TestRunStopsAfterDuration(t *testing.T) {
	f, srv := newFake(t, loadgen.FormatAlertmanager)
	f.delay = 10 * time.Millisecond
	start := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{srv.URL}, Token: token, Alerts: 20000, Batch: 1, Concurrency: 2, Duration: 150 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Requests > 100 || rep.RequestsFailed != 0 {
		t.Errorf("in 150ms of 10ms requests on 2 workers: %d requests, %d failed", rep.Requests, rep.RequestsFailed)
	}
	if rep.Planned != 20000 || rep.AlertsSent != rep.Requests {
		t.Errorf("planned %d, sent %d", rep.Planned, rep.AlertsSent)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %s", d)
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every request is refused
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{"http://" + addr}, Token: token, Alerts: 10, Batch: 5, Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RequestsOK != 0 || rep.RequestsFailed != 2 || rep.AlertsFailed != 10 {
		t.Errorf("got %d ok, %d failed requests, %d failed alerts", rep.RequestsOK, rep.RequestsFailed, rep.AlertsFailed)
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].What, "refused") {
		t.Errorf("errors: %+v", rep.Errors)
	}
}

// TestRunSpreadsWorkersOverURLs: with replicas, every one gets its share of
// the workers, each alert goes to one of them once, and verification adds
// up their created counters.
func TestRunSpreadsWorkersOverURLs(t *testing.T) {
	var (
		urls  []string
		fakes []*fakeServer
	)
	for range 3 {
		f, _ := newFake(t, loadgen.FormatAlertmanager)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				f.ServeHTTP(w, r)
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			fmt.Fprintf(w, "klaxon_alerts_received_total{integration=\"am\",outcome=\"created\"} %d\n", len(f.keys))
		}))
		t.Cleanup(srv.Close)
		urls, fakes = append(urls, srv.URL), append(fakes, f)
	}
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: urls, Token: token, Alerts: 600, Batch: 10, Concurrency: 6, Verify: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for i, f := range fakes {
		if f.requests == 0 {
			t.Errorf("server %d got no request", i)
		}
		for k, n := range f.keys {
			keys[k] += n
		}
	}
	if len(keys) != 600 || rep.AlertsAccepted != 600 {
		t.Errorf("servers stored %d distinct keys, report says %d accepted; want 600", len(keys), rep.AlertsAccepted)
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("key %s stored %d times, want once", k, n)
		}
	}
	if v := rep.Verify; v == nil || !v.OK || v.CreatedDelta != 600 {
		t.Errorf("verification over 3 servers: %+v", v)
	}
	if len(rep.Targets) != 3 {
		t.Errorf("targets: got %v, want the 3 servers", rep.Targets)
	}
}

func TestRunNeedsAWorkerPerURL(t *testing.T) {
	_, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, Token: token, Alerts: 10, Batch: 1, Concurrency: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "a worker per URL") {
		t.Errorf("got %v, want an error asking for a worker per URL", err)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(ds)
	want := loadgen.Latency{P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond,
		Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond}
	if got != want {
		t.Errorf("1..100ms: got %+v, want %+v", got, want)
	}
	// Nearest rank: with 10 values, p99 is the largest and p50 the 5th.
	ten := []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	if got := loadgen.Summarize(ten); got.P50 != 5 || got.P90 != 9 || got.P99 != 10 || got.Max != 10 {
		t.Errorf("1..10: got %+v", got)
	}
	if got := loadgen.Summarize([]time.Duration{7}); got.P50 != 7 || got.P99 != 7 || got.Max != 7 || got.Mean != 7 {
		t.Errorf("one value: got %+v", got)
	}
	if got := loadgen.Summarize(nil); got != (loadgen.Latency{}) {
		t.Errorf("no values: got %+v", got)
	}
}

func TestGenerateIsRealisticAndDistinct(t *testing.T) {
	w, err := loadgen.Generate(7, loadgen.FormatAlertmanager, 120, 50)
	if err != nil {
		t.Fatal(err)
	}
	if w.Requests() != 3 || w.RequestAlerts(2) != 20 {
		t.Fatalf("got %d requests, the last of %d alerts; want 3, 20", w.Requests(), w.RequestAlerts(2))
	}
	seen := map[string]bool{}
	for i, body := range w.Bodies {
		m, signals, err := alertmanager.Decode(body)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if m.GroupKey == "" || m.Receiver == "" || len(m.CommonLabels) == 0 {
			t.Errorf("request %d: envelope incomplete: %+v", i, m)
		}
		for j, s := range signals {
			if want := loadgen.Key(7, i*50+j); s.Key != want {
				t.Errorf("request %d alert %d: key %s, want %s", i, j, s.Key, want)
			}
			if seen[s.Key] {
				t.Errorf("key %s twice", s.Key)
			}
			seen[s.Key] = true
			for _, l := range []string{"alertname", "namespace", "pod", "severity"} {
				if s.Labels[l] == "" {
					t.Errorf("%s: no %s label", s.Key, l)
				}
			}
			if s.Annotations["summary"] == "" || s.Annotations["description"] == "" || s.Summary == "" {
				t.Errorf("%s: summary or description missing: %v", s.Key, s.Annotations)
			}
			if strings.Contains(s.Annotations["description"], "%!") {
				t.Errorf("%s: bad description %q", s.Key, s.Annotations["description"])
			}
		}
	}
}

// lyingServer answers 2xx but stores nothing.
func TestVerifyCatchesLostAlerts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			io.WriteString(w, "# TYPE klaxon_alerts_received_total counter\n"+
				`klaxon_alerts_received_total{integration="am",outcome="created"} 5`+"\n")
		case "/api/v1/alerts":
			io.WriteString(w, `{"alerts":[]}`)
		default:
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, `{}`)
		}
	}))
	defer srv.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: []string{srv.URL}, Token: token, Alerts: 20, Batch: 5, Concurrency: 2, Verify: true, APIToken: "api",
	})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verify
	if v == nil || v.OK || v.CreatedDelta != 0 || !v.StoreChecked || v.Missing != 20 || len(v.Problems) != 2 {
		t.Errorf("verification of a server that lost everything: %+v", v)
	}
}

// TestAgainstKlaxon runs the tool against a real Klaxon on SQLite: the
// payloads must be accepted, and verification must read every alert back.
func TestAgainstKlaxon(t *testing.T) {
	const apiToken = "api-token-0123456789"
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
database: sqlite://%s
api_tokens:
  - {name: cli, token: %s}
integrations:
  - {name: am, type: alertmanager, token: %s, rate_limit: off}
  - {name: scripts, type: generic, token: %s-generic, rate_limit: off}
`, filepath.Join(t.TempDir(), "klaxon.db"), apiToken, token, token)
	cfg, err := config.Parse("test.yaml", []byte(yaml), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, Listener: ln})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app.Run: %v", err)
		}
	})
	for _, tc := range []struct {
		format, token string
		batch         int
	}{
		{loadgen.FormatAlertmanager, token, 50},
		{loadgen.FormatAlertmanager, token, 1},
		{loadgen.FormatGeneric, token + "-generic", 20},
	} {
		t.Run(fmt.Sprintf("%s/batch=%d", tc.format, tc.batch), func(t *testing.T) {
			rep, err := loadgen.Run(context.Background(), loadgen.Options{
				URLs: []string{"http://" + a.Addr()}, Token: tc.token, Format: tc.format,
				Alerts: 1500, Batch: tc.batch, Concurrency: 8, Verify: true, APIToken: apiToken,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.AlertsAccepted != 1500 || rep.RequestsFailed != 0 {
				t.Errorf("accepted %d of 1500 alerts; errors %+v", rep.AlertsAccepted, rep.Errors)
			}
			v := rep.Verify
			if v == nil || !v.OK || v.CreatedDelta != 1500 || v.Stored != 1500 || v.Scanned != 1500 || len(v.Problems) > 0 {
				t.Errorf("verification: %+v", v)
			}
			if s := rep.Server; s == nil || s.Transactions < 1 || s.AlertsPerTransaction < 1 || s.TransactionSeconds <= 0 {
				t.Errorf("server stats from /metrics: %+v", s)
			}
			var text strings.Builder
			if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "verify      OK") {
				t.Errorf("report:\n%s", text.String())
			}
		})
	}
}
