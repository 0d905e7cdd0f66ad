package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon/internal/loadgen"
)

func newBench(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Load-test a Klaxon server"}
	cmd.AddCommand(newBenchIngest(g))
	return cmd
}

func newBenchIngest(g *globals) *cobra.Command {
	var (
		o        loadgen.Options
		progress bool
	)
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Send alerts as fast as the server takes them and report throughput and latency",
		Long: `Send alerts as fast as the server takes them and report throughput and latency.

Every alert is distinct (a new fingerprint), so each one creates an alert:
run it against a test server, not production. All request bodies are
generated before the clock starts. --token is the token of an integration of
the --format's type (klaxon config token alertmanager), not the API token.

--verify checks afterwards that every accepted alert was committed: through
the server's klaxon_alerts_received_total{outcome="created"} counter and,
with --api-token, by reading the alerts back from the store.

Several --url (replicas sharing one database) share the workers out, each
worker keeping to one replica; the report and --verify add up their
counters.`,
		Example: `  klaxon bench ingest --url http://127.0.0.1:8080 --token "$(klaxon config token alertmanager)" \
      --alerts 200000 --batch 50 --concurrency 16 --verify --api-token "$(klaxon config token cli)"

  # three replicas on one database: the workers are dealt out over them
  klaxon bench ingest --url http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083 --alerts 300000 --verify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.URLs) == 0 {
				o.URLs = []string{g.server}
			}
			if o.Token == "" {
				return errors.New("--token: give the token of an " + o.Format + " integration (env KLAXON_INGEST_TOKEN)")
			}
			if o.Verify && o.APIToken == "" {
				fmt.Fprintln(g.stderr, "bench: no --api-token (env KLAXON_TOKEN): verifying by the server's counter only")
			}
			if progress && !g.json() {
				o.Progress = func(p loadgen.Progress) {
					fmt.Fprintf(g.stderr, "  %6.1fs  %9d alerts accepted  %8.0f alerts/s  %d failed requests\n",
						p.Elapsed.Seconds(), p.AlertsAccepted, p.AlertsPerSec, p.Failed)
				}
			}
			rep, err := loadgen.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if g.json() {
				err = g.printJSON(rep)
			} else {
				err = rep.WriteText(g.stdout)
			}
			if err != nil {
				return err
			}
			switch {
			case rep.Verify != nil && !rep.Verify.OK:
				return errors.New("verification failed: not every accepted alert was committed")
			case rep.Requests > 0 && rep.RequestsOK == 0:
				return fmt.Errorf("every request failed (%s)", rep.Errors[0].What)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.URLs, "url", nil, "server URL (default --server); the format's ingest path is added unless the URL has a path; repeat it or separate with commas for replicas")
	// Shadows the global --token: ingest takes an integration token.
	f.StringVar(&o.Token, "token", os.Getenv("KLAXON_INGEST_TOKEN"), "token of an integration of --format's type (env KLAXON_INGEST_TOKEN)")
	f.StringVar(&o.Format, "format", loadgen.FormatAlertmanager, "payload format: alertmanager (webhook v4) or generic")
	f.IntVar(&o.Alerts, "alerts", 100000, "alerts to send in all, every one distinct")
	f.IntVar(&o.Batch, "batch", 50, "alerts per request")
	f.IntVar(&o.Concurrency, "concurrency", 16, "concurrent workers, each on its own keep-alive connection")
	f.DurationVar(&o.Duration, "duration", 0, "stop sending after this long even if alerts remain (0: send them all)")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "timeout of one request")
	f.StringVar(&o.Client, "client", loadgen.ClientRaw, "HTTP client: raw (lean HTTP/1.1 keep-alive, leaves the server more CPU on a shared machine) or std (net/http)")
	f.BoolVar(&o.Verify, "verify", false, "after the run, check that every accepted alert was committed")
	f.StringVar(&o.APIToken, "api-token", os.Getenv("KLAXON_TOKEN"), "API token, for --verify to read the alerts back (env KLAXON_TOKEN)")
	f.BoolVar(&progress, "progress", false, "print the rate every second on stderr")
	return cmd
}
