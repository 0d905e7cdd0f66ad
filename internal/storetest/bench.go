package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// BenchAlertsEnv sets how many alerts SeedAlerts stores (default 100,000).
const BenchAlertsEnv = "KLAXON_BENCH_ALERTS"

// BenchAlertCount reads BenchAlertsEnv.
func BenchAlertCount(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv(BenchAlertsEnv)
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		tb.Fatalf("%s=%q: want a number of alerts, at least 1000", BenchAlertsEnv, v)
	}
	return n
}

// Seeded history: one alert every 30 seconds (a million cover about
// eleven months), mostly resolved, with Kubernetes-style labels whose
// values repeat the way a real cluster's do.
const (
	seedInterval   = 30 * time.Second
	seedChunk      = 10_000 // alerts per transaction
	seedAlertNames = 50
	seedNamespaces = 20
)

// seedLevels spreads levels the way alert volume usually is: P0 5%, P1
// 15%, P2 50%, P3 30%.
var seedLevels = [20]klaxon.Level{0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3}

// seedEnd is when the newest seeded alert was first seen.
var seedEnd = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// seedAlert is the i-th of n seeded alerts, oldest first.
func seedAlert(i, n int) *klaxon.Alert {
	name := fmt.Sprintf("Alert%02d", i%seedAlertNames)
	summary := name + " fired on pod " + strconv.Itoa(i%1000)
	if i%50 == 7 { // 2% of summaries mention a full disk
		summary = "Disk almost full on node-" + strconv.Itoa(i%40)
	}
	seen := seedEnd.Add(-time.Duration(n-1-i) * seedInterval)
	a := &klaxon.Alert{
		Integration: "alertmanager",
		Key:         strconv.Itoa(i),
		State:       klaxon.StateResolved,
		Level:       seedLevels[i%len(seedLevels)],
		Severity:    "warning",
		Summary:     summary,
		Labels: map[string]string{
			"alertname": name,
			"namespace": fmt.Sprintf("ns-%02d", i%seedNamespaces),
			"pod":       fmt.Sprintf("%s-%d", name, i%1000),
			"cluster":   []string{"eu-1", "us-1", "ap-1"}[i%3],
			"severity":  "warning",
			"job":       "kube-state-metrics",
		},
		Annotations: map[string]string{"summary": summary, "runbook_url": "https://runbooks.example/" + name},
		StartsAt:    seen,
		FirstSeen:   seen,
		LastSeen:    seen.Add(5 * time.Minute),
		Count:       1,
		ResolvedBy:  "alertmanager",
		ResolvedAt:  seen.Add(10 * time.Minute),
	}
	switch {
	case i%100 == 0: // 1% still firing, spread over the whole history
		a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateFiring, "", time.Time{}
	case i%100 == 50:
		a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateAcknowledged, "", time.Time{}
		a.AckedBy, a.AckedAt = "alice", seen.Add(2*time.Minute)
	}
	if i%10_000 == 1 { // a rare label: 0.01% of alerts
		a.Labels["rare"] = "yes"
	}
	return a
}

// SeedAlerts stores n generated alerts in transactions of seedChunk, the
// quickest way through the Store contract, and returns their IDs, oldest
// first.
func SeedAlerts(tb testing.TB, s klaxon.Store, n int) []int64 {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, 0, n)
	for start := 0; start < n; start += seedChunk {
		err := s.Update(ctx, func(tx klaxon.Tx) error {
			for i := start; i < min(start+seedChunk, n); i++ {
				a := seedAlert(i, n)
				if err := tx.InsertAlert(ctx, a); err != nil {
					return err
				}
				ids = append(ids, a.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("seed alerts %d to %d: %v", start, min(start+seedChunk, n), err)
		}
	}
	return ids
}

// BenchAlertList measures the alert list's pages on a store that
// SeedAlerts filled with the alerts whose IDs are ids: the queries the web
// UI and the API make, 50 alerts a page.
func BenchAlertList(b *testing.B, s klaxon.Store, ids []int64) {
	const page = 50
	cases := []struct {
		name string
		f    klaxon.AlertFilter
	}{
		{"first page", klaxon.AlertFilter{}},
		{"state=firing", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}}},
		{"state=open", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring, klaxon.StateAcknowledged}}},
		{"level=P0", klaxon.AlertFilter{Levels: []klaxon.Level{0}}},
		{"label namespace=ns-07", klaxon.AlertFilter{Labels: map[string]string{"namespace": "ns-07"}}},
		{"labels alertname,namespace", klaxon.AlertFilter{Labels: map[string]string{"alertname": "Alert13", "namespace": "ns-13"}}},
		{"label rare=yes", klaxon.AlertFilter{Labels: map[string]string{"rare": "yes"}}},
		{"search disk", klaxon.AlertFilter{Search: "disk"}},
		{"search no match", klaxon.AlertFilter{Search: "no such words"}},
		// What one call of alerting.Service.Search asks for: a window of
		// 50,000 IDs below the newest.
		{"search no match, one window", klaxon.AlertFilter{Search: "no such words", After: ids[len(ids)-1] - 50_000}},
		{"label rare=yes, one window", klaxon.AlertFilter{Labels: map[string]string{"rare": "yes"}, After: ids[len(ids)-1] - 50_000}},
		{"since 24h", klaxon.AlertFilter{Since: seedEnd.Add(-24 * time.Hour)}},
		{"a day a month ago", klaxon.AlertFilter{Since: seedEnd.Add(-31 * 24 * time.Hour), Until: seedEnd.Add(-30 * 24 * time.Hour)}},
		{"deep page", klaxon.AlertFilter{Before: ids[len(ids)/2]}},
		{"deep page, state=firing", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}, Before: ids[len(ids)/2]}},
		{"deep page, label", klaxon.AlertFilter{Labels: map[string]string{"namespace": "ns-07"}, Before: ids[len(ids)/2]}},
	}
	ctx := context.Background()
	for _, c := range cases {
		c.f.Limit = page
		b.Run(c.name, func(b *testing.B) {
			var got int
			for b.Loop() {
				alerts, err := s.Alerts(ctx, c.f)
				if err != nil {
					b.Fatal(err)
				}
				got = len(alerts)
			}
			b.ReportMetric(float64(got), "alerts/page")
		})
	}
}
