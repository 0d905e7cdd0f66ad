package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/config"
)

func newConfig(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file; errors name the key and line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0], app.Check)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s is valid: %d API token(s), %d integration(s), %d heartbeat(s), %d channel(s), database %s\n",
				args[0], len(cfg.APITokens), len(cfg.Integrations), len(cfg.Heartbeats), len(cfg.Channels), databaseKind(cfg.Database))
			return nil
		},
	})
	var path string
	token := &cobra.Command{
		Use:   "token NAME",
		Short: "Print the token of an API token or integration (for scripts: export KLAXON_TOKEN=$(klaxon config token cli))",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			t, ok := cfg.Token(args[0])
			if !ok {
				return fmt.Errorf("%s has no API token or integration named %q", path, args[0])
			}
			fmt.Fprintln(g.stdout, t)
			return nil
		},
	}
	token.Flags().StringVar(&path, "config", envOr("KLAXON_CONFIG", filepath.Join(config.DefaultDataDir, "klaxon.yaml")), "configuration file")
	cmd.AddCommand(token)
	return cmd
}

func databaseKind(url string) string {
	kind, _, _ := config.ParseDatabase(url)
	return kind
}
