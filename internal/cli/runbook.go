package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

func newRunbook(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Show, lint and check the coverage of runbooks",
	}
	cmd.AddCommand(newRunbookShow(g), newRunbookLint(g), newRunbookCoverage(g))
	return cmd
}

func newRunbookShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ALERT-ID|NAME",
		Short: "Show an alert's runbook with its steps filled in, or a runbook by name or alert name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64); err == nil {
				d, err := g.client().Alert(cmd.Context(), id)
				if err != nil {
					return err
				}
				if d.Runbook == nil {
					return klaxon.Errorf(klaxon.ENOTFOUND, "no runbook matches alert %d (%s)", id, d.Alert.Name())
				}
				if g.json() {
					return g.printJSON(d.Runbook)
				}
				fmt.Fprintf(g.stdout, "%s\n%s\n", d.Runbook.Title, d.Runbook.URL)
				printSteps(g, d.Runbook.Steps)
				return nil
			}
			rb, err := g.client().Runbook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(rb)
			}
			fmt.Fprintf(g.stdout, "%s\n%s\nFile: %s\nAlerts: %s\n", rb.Title, rb.URL, rb.File, strings.Join(rb.Alerts, ", "))
			if len(rb.Matchers) > 0 {
				fmt.Fprintf(g.stdout, "Matchers: %s\n", strings.Join(rb.Matchers, ", "))
			}
			if rb.Owner != "" {
				fmt.Fprintf(g.stdout, "Owner: %s\n", rb.Owner)
			}
			steps := make([]string, len(rb.Steps))
			for i, s := range rb.Steps {
				steps[i] = s.Text
			}
			printSteps(g, steps)
			return nil
		},
	}
}

func printSteps(g *globals, steps []string) {
	if len(steps) == 0 {
		fmt.Fprintln(g.stdout, "\nNo diagnose steps.")
		return
	}
	fmt.Fprintln(g.stdout, "\nDiagnose:")
	for i, s := range steps {
		fmt.Fprintf(g.stdout, "\n%d.\n", i+1)
		for _, line := range strings.Split(s, "\n") {
			fmt.Fprintf(g.stdout, "    %s\n", line)
		}
	}
}

func newRunbookLint(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "lint DIR",
		Short: "Check every runbook in DIR: front matter, patterns, sections, placeholders, conflicts",
		Long: `Check every runbook in DIR and print each problem as file:line: message.
Exits non-zero if any problem is an error (warnings alone pass).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			problems, err := runbook.Lint(args[0])
			if err != nil {
				return err
			}
			errs := 0
			for _, p := range problems {
				if !p.Warning {
					errs++
				}
			}
			if g.json() {
				if problems == nil {
					problems = []runbook.Problem{}
				}
				if err := g.printJSON(problems); err != nil {
					return err
				}
			} else {
				for _, p := range problems {
					fmt.Fprintln(g.stdout, p.String())
				}
			}
			if errs > 0 {
				return fmt.Errorf("%d problem(s) in %s", errs, args[0])
			}
			if !g.json() {
				set, err := runbook.Load(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%d runbook(s) OK\n", len(set.All()))
			}
			return nil
		},
	}
}

func newRunbookCoverage(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "coverage DIR RULES...",
		Short: "Report alert rules without a runbook, runbooks without a rule, and runbook_url annotations that disagree",
		Long: `Read Prometheus rule files and Kubernetes PrometheusRule manifests (files or
directories of YAML, several documents per file) and compare their alert
rules with the runbooks in DIR. Exits non-zero if a rule has no runbook or
its runbook_url points elsewhere; runbooks that match no rule are reported
but pass (they may serve alerts from other sources). Use -o json in CI.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := runbook.Load(args[0])
			if err != nil {
				return err
			}
			rules, problems := runbook.LoadRules(args[1:]...)
			for _, p := range append(set.Problems(), problems...) {
				fmt.Fprintln(g.stderr, p.String())
			}
			if len(problems) > 0 {
				return fmt.Errorf("%d rule file problem(s)", len(problems))
			}
			report := runbook.Coverage(set, rules)
			if g.json() {
				err = g.printJSON(report)
			} else {
				err = report.WriteText(g.stdout)
			}
			if err != nil {
				return err
			}
			if report.Failed() {
				return errors.New("coverage check failed")
			}
			return nil
		},
	}
}

func newDiagnose(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "diagnose ID",
		Short: "Run an alert's runbook diagnostics again; see the output with `klaxon alert ID`",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			res, err := g.client().Diagnose(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(res)
			}
			fmt.Fprintf(g.stdout, "Queued %d diagnostic command(s) for alert %d; see `klaxon alert %d` in a few seconds.\n", res.Commands, id, id)
			return nil
		},
	}
}

// printRunbookAndDiagnostics adds an alert's runbook and its newest
// diagnostics run to `klaxon alert`; older runs are counted.
func printRunbookAndDiagnostics(g *globals, d *httpapi.AlertDetail) {
	if rb := d.Runbook; rb != nil {
		fmt.Fprintf(g.stdout, "\nRunbook: %s\n  %s\n", rb.Title, rb.URL)
		for _, s := range rb.Steps {
			for _, line := range strings.Split(s, "\n") {
				fmt.Fprintf(g.stdout, "    %s\n", line)
			}
		}
	}
	if len(d.Diagnostics) == 0 {
		return
	}
	run := d.Diagnostics[0]
	by := "when it fired"
	if run.RequestedBy != "" {
		by = "asked by " + run.RequestedBy
	}
	fmt.Fprintf(g.stdout, "\nDiagnostics (%s, %s, runbook %s):\n", run.FinishedAt.UTC().Format("2006-01-02 15:04:05 UTC"), by, run.Runbook)
	for _, r := range run.Results {
		fmt.Fprintf(g.stdout, "  $ %s\n    [%s]\n", r.Command, notify.ResultStatus(r))
		for _, line := range strings.Split(strings.TrimRight(r.Output, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(g.stdout, "    | %s\n", line)
			}
		}
		if r.Truncated {
			fmt.Fprintln(g.stdout, "    | … (output cut at the limit)")
		}
	}
	if n := len(d.Diagnostics) - 1; n > 0 {
		fmt.Fprintf(g.stdout, "  (%d earlier run(s): klaxon alert %d -o json)\n", n, run.AlertID)
	}
}
