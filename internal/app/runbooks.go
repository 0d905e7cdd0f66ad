package app

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/diagnose"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// newRunner builds the diagnostics runner from config: the output is
// scrubbed of every credential the config holds, besides the patterns.
func newRunner(cfg *config.Config) (*diagnose.Runner, error) {
	d := cfg.Diagnostics
	return diagnose.NewRunner(diagnose.Options{
		Allow:       d.AllowList(),
		Timeout:     d.Timeout,
		MaxOutput:   d.MaxOutput,
		Concurrency: d.Concurrency,
		Redact:      d.RedactPatterns(),
		Secrets:     cfg.Secrets(),
		Env:         d.Env,
	})
}

// watchRunbooks re-reads the runbooks when their directory changes, until
// ctx ends. A broken file is logged by the catalog and left out; the
// others keep being served.
func (a *App) watchRunbooks(ctx context.Context) {
	if err := a.runbooks.Watch(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("not watching the runbooks directory; send SIGHUP to reload", "err", err)
	}
}

// reloadOnHangup re-reads the configuration and the runbooks on SIGHUP,
// until ctx ends.
func (a *App) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if a.opts.ConfigPath != "" {
				if err := a.Reload(ctx); err != nil {
					a.log.Error("configuration not reloaded; the running one stays in effect", "path", a.opts.ConfigPath, "err", err)
				}
			}
			if err := a.runbooks.Reload(); err != nil {
				a.log.Error("reload runbooks", "err", err)
			} else {
				a.log.Info("runbooks reloaded", "runbooks", len(a.runbooks.Current().All()))
			}
		}
	}
}

// Reload re-reads the configuration file and applies its on-call part:
// users, schedules, overrides, escalation policies and ack deadlines. A
// file with any problem changes nothing. Other sections (channels,
// routes, integrations) take effect at the next start.
func (a *App) Reload(ctx context.Context) error {
	cfg, err := config.Load(a.opts.ConfigPath, Check)
	if err != nil {
		return err
	}
	dir, err := oncall.Compile(cfg, severityPolicy(cfg.Severity).Names)
	if err != nil {
		return err
	}
	a.oncall.Swap(dir)
	queueHandoffs(ctx, a.notifier, a.log)
	a.log.Info("configuration reloaded: users, schedules and escalation policies (other changes apply at restart)",
		"users", len(dir.Users), "schedules", len(dir.Schedules), "policies", len(dir.Policies))
	return nil
}

// queueHandoffs queues the schedules' next hand-off notices; a failure is
// logged, as the next start or override queues them again.
func queueHandoffs(ctx context.Context, n *notify.Service, log *slog.Logger) {
	if err := n.QueueHandoffs(ctx); err != nil {
		log.Error("queue hand-off notices", "err", err)
	}
}

// diagnosticsOff drops diagnostics jobs queued while diagnostics were on.
type diagnosticsOff struct{ log *slog.Logger }

func (d diagnosticsOff) HandleJob(_ context.Context, job klaxon.Job) error {
	d.log.Info("diagnostics are off; dropping a queued run", "job", job.Kind())
	return nil
}
