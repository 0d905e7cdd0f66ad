package cli

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/insights"
)

func newInsights(g *globals) *cobra.Command {
	var (
		since    string
		service  string
		severity string
	)
	cmd := &cobra.Command{
		Use:   "insights",
		Short: "Show MTTA, MTTR, the noisiest alert rules and the on-call load",
		Long: `Show the numbers of the last --since (30d by default): alerts, ack rate,
mean time to acknowledge and to resolve, alerts that resolved on their own
before anyone acked them, and flaps, per severity; the noisiest rules; and
how often each person was paged, and how often at night.

--service and --severity (names, comma-separated: P0,P1) narrow the alerts;
the on-call load is always everyone's. The web UI's Insights page draws the
same numbers over time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			span, err := parseSpan(since)
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			// Until is left to the server: its clock, not this one, says what "now" holds.
			q := httpapi.InsightsQuery{Since: time.Now().Add(-span), Service: service}
			if severity != "" {
				q.Levels = strings.Split(severity, ",")
			}
			r, err := g.client().Insights(cmd.Context(), q)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(r)
			}
			return printInsights(g.stdout, q, r)
		},
	}
	cmd.Flags().StringVar(&since, "since", "30d", "how far back: days (30d), weeks (2w) or a duration (12h)")
	cmd.Flags().StringVar(&service, "service", "", "only this service's alerts (its service, job or namespace label)")
	cmd.Flags().StringVar(&severity, "severity", "", "only these severities, comma-separated (P0,P1)")
	return cmd
}

// spanUnits are the units a span may have besides Go's (h, m, s).
var spanUnits = map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseSpan reads a span back from now: 30d, 2w, or a Go duration (12h).
func parseSpan(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	for suffix, unit := range spanUnits {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			var k int
			k, err = strconv.Atoi(n)
			d = time.Duration(k) * unit
		}
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("got %q, want a span such as 30d, 2w or 12h", s)
	}
	return d, nil
}

// printInsights writes the report on q as three tables: the numbers per
// severity and in all, the noisiest rules, and each person's pages.
func printInsights(out io.Writer, q httpapi.InsightsQuery, r *insights.Report) error {
	fmt.Fprintf(out, "From %s to %s", r.Since.UTC().Format("2006-01-02 15:04"), r.Until.UTC().Format("2006-01-02 15:04 UTC"))
	if q.Service != "" {
		fmt.Fprintf(out, ", service %s", q.Service)
	}
	fmt.Fprint(out, "\n\n")
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEVERITY\tALERTS\tACK RATE\tMTTA\tMTTR\tAUTO-RESOLVED UNACKED\tFLAPS")
	row := func(name string, s insights.Summary) {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%d\t%d\n", name, s.Alerts, ackRate(s), mean(s.MTTA, s.Acked), mean(s.MTTR, s.Resolved), s.AutoResolved, s.Flaps)
	}
	for _, l := range r.ByLevel {
		row(l.Name, l.Summary)
	}
	row("all", r.Total)
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprint(out, "\nNoisiest rules\n")
	if len(r.Noisiest) == 0 {
		fmt.Fprintln(out, "No alerts.")
	} else {
		w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "RULE\tSERVICE\tNOISE\tFIRED\tAUTO-RESOLVED UNACKED\tFLAPS\tACK RATE\tMTTA")
		for _, rule := range r.Noisiest {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", clip(cmp.Or(rule.Name, "(no alertname)"), summaryWidth), rule.Service, rule.Noise, rule.Alerts,
				rule.AutoResolved, rule.Flaps, ackRate(rule.Summary), mean(rule.MTTA, rule.Acked))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprint(out, "\nOn-call load (everyone's)\n")
	if len(r.Load) == 0 {
		fmt.Fprintln(out, "Nobody was paged.")
		return nil
	}
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PERSON\tPAGES\tAT NIGHT")
	for _, l := range r.Load {
		fmt.Fprintf(w, "%s\t%d\t%d\n", l.Person, l.Pages, l.NightPages)
	}
	return w.Flush()
}

// ackRate is a slice's ack rate in percent, "-" with no alerts.
func ackRate(s insights.Summary) string {
	if s.Alerts == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", s.AckRate*100)
}

// mean is a mean duration, "-" when it is over no alerts.
func mean(d time.Duration, over int) string {
	if over == 0 {
		return "-"
	}
	return age(d)
}
