package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

func newAlerts(g *globals) *cobra.Command {
	var (
		state string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List alerts (open ones by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := g.client().Alerts(cmd.Context(), state, limit)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			return printAlertTable(g, list.Alerts, time.Now())
		},
	}
	cmd.Flags().StringVar(&state, "state", "open", "firing, acknowledged, resolved, open (firing and acknowledged) or all; comma-separated")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many alerts, newest first")
	return cmd
}

const summaryWidth = 60

func printAlertTable(g *globals, alerts []httpapi.Alert, now time.Time) error {
	if len(alerts) == 0 {
		fmt.Fprintln(g.stdout, "No alerts.")
		return nil
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSEV\tSTATE\tALERTNAME\tWHERE\tSUMMARY\tAGE\tCOUNT")
	for _, a := range alerts {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.ID, a.Priority, a.State, dash(a.Name()), dash(a.Where()),
			dash(clip(a.Summary, summaryWidth)), age(now.Sub(a.StartsAt)), a.Count)
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// age is a duration as people say it at a glance: 45s, 12m, 3h05m, 2d4h.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%q is not an alert ID (a number, as in `klaxon ack 12`)", s)
	}
	return id, nil
}

func newAlert(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "alert ID",
		Short: "Show one alert: labels, annotations, links and history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			d, err := g.client().Alert(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(d)
			}
			printAlert(g, d, time.Now())
			return nil
		},
	}
}

func printAlert(g *globals, d *httpapi.AlertDetail, now time.Time) {
	a := d.Alert
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	ts := func(t time.Time) string {
		return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + age(now.Sub(t)) + " ago)"
	}
	fmt.Fprintf(w, "Alert %d\t%s %s, %s\n", a.ID, a.Priority, dash(a.Severity), strings.ToUpper(string(a.State)))
	fmt.Fprintf(w, "Name:\t%s\n", dash(a.Name()))
	fmt.Fprintf(w, "Where:\t%s\n", dash(a.Where()))
	fmt.Fprintf(w, "Summary:\t%s\n", dash(a.Summary))
	fmt.Fprintf(w, "Source:\t%s (key %s)\n", a.Integration, a.Key)
	fmt.Fprintf(w, "Started:\t%s\n", ts(a.StartsAt))
	fmt.Fprintf(w, "Last seen:\t%s, %d notification(s)\n", ts(a.LastSeen), a.Count)
	if a.AckedBy != "" {
		fmt.Fprintf(w, "Acked:\tby %s at %s\n", a.AckedBy, ts(a.AckedAt))
	}
	if a.ResolvedBy != "" {
		fmt.Fprintf(w, "Resolved:\tby %s at %s\n", a.ResolvedBy, ts(a.ResolvedAt))
	}
	if a.PreviousID != 0 {
		fmt.Fprintf(w, "Previous:\talert %d (an earlier occurrence)\n", a.PreviousID)
	}
	if a.SourceURL != "" {
		fmt.Fprintf(w, "Source URL:\t%s\n", a.SourceURL)
	}
	w.Flush()
	printMap(g, "Labels", a.Labels, "=")
	printMap(g, "Annotations", a.Annotations, ": ")
	if len(a.Links) > 0 {
		fmt.Fprintln(g.stdout, "\nLinks:")
		for _, l := range a.Links {
			fmt.Fprintf(g.stdout, "  %s %s\n", l.Href, l.Text)
		}
	}
	if len(a.Details) > 0 {
		fmt.Fprintf(g.stdout, "\nDetails:\n  %s\n", clip(string(a.Details), 400))
	}
	printRunbookAndDiagnostics(g, d)
	if len(d.Messages) > 0 {
		fmt.Fprintln(g.stdout, "\nMessages:")
		w = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		for _, m := range d.Messages {
			status := "not sent yet"
			if m.Sends > 0 {
				status = fmt.Sprintf("sent %d time(s), last %s", m.Sends, m.SentAt.UTC().Format("2006-01-02 15:04:05 UTC"))
			}
			if m.LastError != "" {
				status += "; FAILED " + m.FailedAt.UTC().Format("2006-01-02 15:04:05 UTC") + ": " + m.LastError
			}
			fmt.Fprintf(w, "  %s\tgroup %d\t%s\n", m.Channel, m.GroupID, status)
		}
		w.Flush()
	}
	fmt.Fprintln(g.stdout, "\nHistory:")
	w = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	for _, e := range d.Events {
		fmt.Fprintf(w, "  %s\t%s\tby %s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05 UTC"), e.Kind, e.Actor, e.Message)
	}
	w.Flush()
}

func printMap(g *globals, title string, m map[string]string, sep string) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(g.stdout, "\n%s:\n", title)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(g.stdout, "  %s%s%s\n", k, sep, m[k])
	}
}

// newChange makes ack, unack and resolve: each takes one or more IDs and
// reports every failure, exiting non-zero if any.
func newChange(g *globals, action, short, done string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " ID...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				changed []httpapi.Alert
				failed  int
			)
			for _, arg := range args {
				id, err := parseID(arg)
				if err == nil {
					var a *httpapi.Alert
					if a, err = g.client().Change(cmd.Context(), id, action); err == nil {
						changed = append(changed, *a)
						if !g.json() {
							fmt.Fprintf(g.stdout, "Alert %d %s: %s\n", a.ID, done, clip(a.Summary, summaryWidth))
						}
						continue
					}
				}
				failed++
				fmt.Fprintf(g.stderr, "klaxon: %s %s: %s\n", action, arg, message(err))
			}
			if g.json() {
				if err := g.printJSON(changed); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d failed", failed, len(args))
			}
			return nil
		},
	}
}
