package alertmanager_test

import (
	"testing"

	"github.com/klaxon-oss/klaxon/internal/ingest/alertmanager"
	"github.com/klaxon-oss/klaxon/internal/loadgen"
)

// BenchmarkDecode decodes a 50-alert webhook v4 notification, the same
// payload `klaxon bench ingest` sends (Kubernetes-style labels, summary,
// description and runbook annotations).
func BenchmarkDecode(b *testing.B) {
	const alerts = 50
	w, err := loadgen.Generate(1, loadgen.FormatAlertmanager, alerts, alerts)
	if err != nil {
		b.Fatal(err)
	}
	body := w.Bodies[0]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, signals, err := alertmanager.Decode(body)
		if err != nil {
			b.Fatal(err)
		}
		if len(signals) != alerts {
			b.Fatalf("got %d signals, want %d", len(signals), alerts)
		}
	}
	b.ReportMetric(float64(b.N*alerts)/b.Elapsed().Seconds(), "alerts/s")
}
