package cli

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/config"
)

func newServe(g *globals) *cobra.Command {
	var (
		configPath, dataDir, listen, logFormat, logLevel string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Klaxon server",
		Long: `Run the Klaxon server.

With no --config (and no KLAXON_CONFIG), Klaxon uses <data-dir>/klaxon.yaml,
writing it on first start with fresh random tokens and a SQLite database in
the same directory: a first look needs no other setup.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("GOGC") == "" {
				// Klaxon's live heap is a few MB and ingest allocates fast:
				// at Go's default (100) the collector runs a hundred times a
				// second. 400 costs about 12 MB of RSS and buys 20% or more
				// throughput (docs/benchmarks.md). GOGC overrides it.
				debug.SetGCPercent(400)
			}
			log, err := newLogger(g, logFormat, logLevel)
			if err != nil {
				return err
			}
			if configPath == "" {
				configPath = filepath.Join(dataDir, "klaxon.yaml")
				wrote, err := config.WriteStarter(configPath, orDefault(listen, config.DefaultListen), filepath.Join(dataDir, "klaxon.db"))
				if err != nil {
					return err
				}
				if wrote {
					log.Info("first start: wrote a starter configuration with fresh tokens", "path", configPath)
				}
			}
			cfg, err := config.Load(configPath, app.Check)
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Listen = listen
			}
			a, err := app.New(cmd.Context(), app.Options{Config: cfg, Logger: log, ConfigPath: configPath})
			if err != nil {
				return err
			}
			log.Info("klaxon starting", "version", Version, "config", configPath, "integrations", len(cfg.Integrations))
			return a.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", os.Getenv("KLAXON_CONFIG"), "configuration file (env KLAXON_CONFIG)")
	f.StringVar(&dataDir, "data-dir", config.DefaultDataDir, "directory for the starter config and SQLite database when --config is not given")
	f.StringVar(&listen, "listen", "", "listen address, overriding the config's listen")
	f.StringVar(&logFormat, "log-format", "auto", "log format: text, json, or auto (text on a terminal, JSON otherwise)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newLogger(g *globals, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "auto" {
		format = "json"
		if f, ok := g.stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: got %q, want text, json or auto", format)
}
