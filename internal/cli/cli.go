// Package cli is the klaxon command: `serve` runs the server, the other
// commands are clients of its HTTP API.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// globals are the flags every client command shares.
type globals struct {
	server string
	token  string
	output string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// client calls the server with the first token found: --token, then
// KLAXON_TOKEN, then the one `klaxon login` saved for --server.
func (g *globals) client() *httpapi.Client {
	token := g.token
	if token == "" {
		creds, err := loadCredentials()
		if err != nil {
			fmt.Fprintf(g.stderr, "klaxon: warning: %v\n", err)
		}
		token = creds.Servers[serverKey(g.server)].Token
	}
	return &httpapi.Client{BaseURL: g.server, Token: token}
}

func (g *globals) json() bool { return g.output == "json" }

func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return ExecuteWithInput(ctx, args, os.Stdin, stdout, stderr)
}

// ExecuteWithInput is Execute with stdin, where `klaxon login` reads a
// password or token.
func ExecuteWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "klaxon: %s\n", message(err))
		return 1
	}
	return 0
}

// message prints a server's coded error as its message, with every problem.
func message(err error) string {
	if e, ok := err.(*klaxon.Error); ok && len(e.Problems) > 1 {
		s := e.Code + ":"
		for _, p := range e.Problems {
			s += "\n  " + p
		}
		return s
	}
	return err.Error()
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "klaxon",
		Short:         "Runbook-driven incident response for Prometheus and Alertmanager teams",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", envOr("KLAXON_URL", "http://127.0.0.1:8080"), "Klaxon server URL (env KLAXON_URL)")
	pf.StringVar(&g.token, "token", os.Getenv("KLAXON_TOKEN"), "API token (env KLAXON_TOKEN; default: the one `klaxon login` saved)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	var asJSON bool
	pf.BoolVar(&asJSON, "json", false, "same as -o json")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if asJSON {
			g.output = "json"
		}
		if g.output != "table" && g.output != "json" {
			return fmt.Errorf("--output: got %q, want table or json", g.output)
		}
		return nil
	}
	root.AddCommand(
		newServe(g),
		newAlerts(g),
		newAlert(g),
		newChange(g, "ack", "Acknowledge alerts: you are on it", "acknowledged"),
		newChange(g, "unack", "Return acknowledged alerts to firing", "unacknowledged"),
		newChange(g, "resolve", "Resolve alerts by hand", "resolved"),
		newRunbook(g),
		newDiagnose(g),
		newOnCall(g),
		newShifts(g),
		newOverride(g),
		newIncident(g),
		newPostmortem(g),
		newActions(g),
		newAction(g),
		newStatus(g),
		newInsights(g),
		newConfig(g),
		newBench(g),
		newLogin(g),
		newLogout(g),
		newWhoami(g),
		newUser(g),
		newToken(g),
	)
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
