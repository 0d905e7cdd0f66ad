package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkNotifyLatency measures alert received → message accepted: a
// generic alert is posted to Klaxon at a steady 100 alerts/s, each its own
// group, and the clock stops when a local webhook receiver has the message.
// Run it as documented in docs/benchmarks.md:
//
//	go test ./internal/app -run '^$' -bench NotifyLatency -benchtime 3000x
func BenchmarkNotifyLatency(b *testing.B) {
	const rate = 100 // alerts per second
	var (
		mu       sync.Mutex
		sentAt   = map[string]time.Time{}
		latency  []time.Duration
		received = make(chan struct{}, 1<<16)
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var body struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil || len(body.Alerts) == 0 {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		seq := body.Alerts[0].Labels["seq"]
		mu.Lock()
		if t0, ok := sentAt[seq]; ok {
			latency = append(latency, at.Sub(t0))
			delete(sentAt, seq)
			received <- struct{}{}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	k := startKlaxon(b, serverOptions{extraYAML: fmt.Sprintf(`
channels:
  - name: bench
    type: webhook
    url: %s
    secret: bench-secret-0123456789
routes:
  receiver: bench
  group_by: ['...']
  repeat_interval: 0s
`, receiver.URL)})
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		seq := fmt.Sprint(i)
		body, _ := json.Marshal(map[string]any{
			"key": "bench-" + seq, "status": "firing", "summary": "benchmark alert", "severity": "critical",
			"labels": map[string]string{"alertname": "Bench", "seq": seq},
		})
		req, _ := http.NewRequest(http.MethodPost, k.URL+"/api/v1/ingest/generic", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+genericToken)
		req.Header.Set("Content-Type", "application/json")
		mu.Lock()
		sentAt[seq] = time.Now()
		mu.Unlock()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
			b.Fatalf("ingest: %s", resp.Status)
		}
	}
	deadline := time.After(30 * time.Second)
	for range b.N {
		select {
		case <-received:
		case <-deadline:
			b.Fatalf("only %d of %d messages arrived", len(latency), b.N)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latency)
	pct := func(p float64) float64 {
		return float64(latency[min(len(latency)-1, int(p*float64(len(latency))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(latency[len(latency)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(0, "ns/op") // the rate is fixed; time per op is meaningless
}
