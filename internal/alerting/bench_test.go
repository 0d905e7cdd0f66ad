package alerting_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// BenchmarkIngest measures Service.Ingest on a real store, group commit and
// all: many goroutines each ingest batches of new, distinct alerts, as
// concurrent Alertmanager notifications do. One op is one Ingest call;
// alerts/s is the throughput. SQLite runs on a file in b.TempDir() with its
// production pragmas (WAL, synchronous=FULL), so every commit is fsynced.
// The PostgreSQL cases run when KLAXON_TEST_POSTGRES_URL is set, with the
// four group-commit writers the server uses.
//
//	go test -run '^$' -bench Ingest -benchtime 20000x ./internal/alerting
func BenchmarkIngest(b *testing.B) {
	for _, batch := range []int{50, 1} {
		b.Run(fmt.Sprintf("sqlite/batch=%d", batch), func(b *testing.B) {
			store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "klaxon.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			benchIngest(b, store, 1, batch)
		})
	}
	for _, batch := range []int{50, 1} {
		b.Run(fmt.Sprintf("postgres/batch=%d", batch), func(b *testing.B) {
			store, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			benchIngest(b, store, 4, batch)
		})
	}
}

// benchParallelism × GOMAXPROCS goroutines ingest at once, like that many
// concurrent HTTP requests.
const benchParallelism = 16

func benchIngest(b *testing.B, store klaxon.Store, writers, batch int) {
	svc := alerting.New(store, alerting.Options{Writers: writers})
	b.Cleanup(func() {
		svc.Close()
		store.Close()
	})
	ctx := context.Background()
	startsAt := time.Now().UTC().Truncate(time.Millisecond)
	var next atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		sigs := make([]klaxon.Signal, batch)
		for pb.Next() {
			first := next.Add(int64(batch)) - int64(batch)
			for i := range sigs {
				sigs[i] = benchSignal(first+int64(i), startsAt)
			}
			if _, err := svc.Ingest(ctx, "alertmanager", sigs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N*batch)/s, "alerts/s")
	}
}

// benchSignal is a new firing alert with the labels and annotations of a
// typical Kubernetes alert, as the Alertmanager decoder produces it.
func benchSignal(seq int64, startsAt time.Time) klaxon.Signal {
	id := strconv.FormatInt(seq, 36)
	pod := "payments-api-7d9f8b6c5-" + id
	return klaxon.Signal{
		Key:     fmt.Sprintf("%016x", seq),
		Action:  klaxon.ActionTrigger,
		Summary: "Pod is crash looping.",
		Labels: map[string]string{
			"alertname": "KubePodCrashLooping", "cluster": "prod-eu1", "namespace": "payments",
			"pod": pod, "container": "payments-api", "severity": "critical", "job": "kube-state-metrics",
		},
		Annotations: map[string]string{
			"summary":     "Pod is crash looping.",
			"description": "Pod payments/" + pod + ` (payments-api) is in waiting state (reason: "CrashLoopBackOff").`,
			"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
		},
		SourceURL: "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=kube_pod_container_status_waiting_reason&g0.tab=1",
		StartsAt:  startsAt,
	}
}
