// Package app wires Klaxon together and runs it: the only package that
// imports every adapter. End-to-end tests run it in-process on 127.0.0.1:0.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/diagnose"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/jobs"
	"github.com/klaxon-oss/klaxon/internal/leader"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/runbook"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
	"github.com/klaxon-oss/klaxon/internal/statuspage"
	"github.com/klaxon-oss/klaxon/internal/webui"
)

// Options configures an App.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Listener, if set, is used instead of listening on Config.Listen
	// (tests pass one on 127.0.0.1:0).
	Listener net.Listener
	Now      func() time.Time
	// JobPollInterval is how often SQLite job workers look for due jobs.
	JobPollInterval time.Duration
	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration
	// ConfigPath, if set, is re-read on SIGHUP: users, schedules,
	// escalation policies and ack deadlines take effect at once. A file
	// that fails to load leaves the running configuration as it is.
	ConfigPath string
	// LeaseTTL is how long the replicas wait for a leader that died
	// without handing over (default 10s).
	LeaseTTL time.Duration
}

// App is a running Klaxon.
type App struct {
	opts      Options
	log       *slog.Logger
	store     klaxon.Store
	alerts    *alerting.Service
	notifier  *notify.Service
	runbooks  *runbook.Catalog
	diag      *diagnose.Service // nil when diagnostics are off
	oncall    *oncall.Service
	incidents *incident.Service
	channels  map[string]notify.Channel
	commands  notify.Commander
	auth      *auth.Service
	server    *http.Server
	listener  net.Listener
}

// New opens the store and builds the services. Nothing is served until Run.
func New(ctx context.Context, opts Options) (*App, error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, cs := range [][]prometheus.Collector{alerting.Collectors(), httpapi.Collectors(), jobs.Collectors(), leader.Collectors(), notify.Collectors(), runbook.Collectors(), diagnose.Collectors(), incident.Collectors(), {storeDuration}} {
		registry.MustRegister(cs...)
	}

	channels, err := buildChannels(cfg, log)
	if err != nil {
		return nil, err
	}
	routes, err := notify.CompileRoutes(cfg.Routes)
	if err != nil {
		return nil, err
	}
	runbooks := runbook.NewCatalog(cfg.Runbooks.Dir, log.With("component", "runbooks"))
	if err := runbooks.Reload(); err != nil {
		return nil, fmt.Errorf("runbooks: %w", err)
	}
	var runner *diagnose.Runner
	if cfg.Diagnostics.Enabled {
		if runner, err = newRunner(cfg); err != nil {
			return nil, err
		}
	}
	store, writers, err := openStore(ctx, cfg.Database, log, opts.JobPollInterval)
	if err != nil {
		return nil, err
	}
	store = instrumented{store}
	severity := severityPolicy(cfg.Severity)
	directory, err := oncall.Compile(cfg, severity.Names)
	if err != nil {
		store.Close()
		return nil, err
	}
	onCall := oncall.NewService(store, directory, oncall.Options{Now: opts.Now, Secret: []byte(cfg.Calendar.Secret)})
	notifier := notify.New(store, notify.Options{
		Routes:   routes,
		Channels: channels,
		Severity: severity,
		BaseURL:  cfg.URL,
		Logger:   log.With("component", "notify"),
		Now:      opts.Now,
		Runbooks: runbooks,
		OnCall:   onCall,
	})
	incidents := incident.New(store, incident.Options{
		Config:   cfg,
		Severity: severity,
		OnCall:   onCall,
		Channels: channels,
		BaseURL:  cfg.URL,
		Logger:   log.With("component", "incidents"),
		Now:      opts.Now,
	})
	status := statuspage.New(statuspage.Options{
		Store:       store,
		Title:       cfg.StatusPage.Title,
		BaseURL:     cfg.URL,
		Components:  cfg.StatusPage.Components,
		Maintenance: cfg.StatusPage.Maintenance,
		LevelNames:  cfg.Incidents.Names,
		Now:         opts.Now,
		Logger:      log.With("component", "statuspage"),
	})
	observers := klaxon.Observers{notifier}
	var diag *diagnose.Service
	commands := &notify.Commands{
		Severity: severity, BaseURL: cfg.URL, Runbooks: runbooks, OnCall: onCall, Incidents: incidents, Now: opts.Now,
	}
	if runner != nil {
		diag = diagnose.NewService(store, runner, runbooks, notifier, diagnose.ServiceOptions{
			MaxAutoRuns: cfg.Diagnostics.MaxRunsPerMinute,
			Logger:      log.With("component", "diagnostics"),
			Now:         opts.Now,
		})
		observers = append(observers, diag)
		commands.Diagnose = diag
	}
	alerts := alerting.New(store, alerting.Options{
		Severity:   severity,
		Heartbeats: heartbeats(cfg.Heartbeats),
		Writers:    writers,
		Now:        opts.Now,
		Logger:     log,
		Observer:   observers,
	})
	commands.Alerts = alerts
	chat := map[string]http.Handler{}
	for name, ch := range channels {
		if in, ok := ch.(notify.Inbound); ok {
			chat[name] = in.Handler(commands)
		}
	}
	if err := alerts.SyncHeartbeats(ctx); err != nil {
		alerts.Close()
		store.Close()
		return nil, err
	}
	authn, err := newAuth(cfg, store, opts.Now, log)
	if err != nil {
		alerts.Close()
		store.Close()
		return nil, err
	}
	ui := &webui.UI{
		Auth:      authn,
		Alerts:    alerts,
		Incidents: incidents,
		OnCall:    onCall,
		Runbooks:  runbooks,
		Insights:  newInsights(store, severity, onCall, opts.Now),
		Changes:   store.ChangeMark,
		Logger:    log.With("component", "webui"),
		Now:       opts.Now,
	}
	api := &httpapi.Server{
		Alerts:     alerts,
		Tokens:     tokens(cfg),
		Auth:       authn,
		Chat:       chat,
		Runbooks:   runbooks,
		OnCall:     onCall,
		Incidents:  incidents,
		StatusPage: status,
		Now:        opts.Now,
		Pages:      ui.Handler(),
		BaseURL:    cfg.URL,
		Ready:      store.Ping,
		Metrics:    promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Logger:     log,
		Insights:   ui.Insights,
	}
	if diag != nil {
		api.Diagnose = diag
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			alerts.Close()
			store.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	a := &App{
		opts:      opts,
		log:       log,
		store:     store,
		alerts:    alerts,
		notifier:  notifier,
		runbooks:  runbooks,
		diag:      diag,
		oncall:    onCall,
		incidents: incidents,
		channels:  channels,
		commands:  commands,
		auth:      authn,
		server: &http.Server{
			Handler:           api.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		listener: ln,
	}
	// Live pages hold their connection open: end them when shutdown
	// starts, or they would hold it up.
	a.server.RegisterOnShutdown(ui.Shutdown)
	return a, nil
}

func openStore(ctx context.Context, database string, log *slog.Logger, poll time.Duration) (klaxon.Store, int, error) {
	kind, target, err := config.ParseDatabase(database)
	if err != nil {
		return nil, 0, err
	}
	if kind == "postgres" {
		// PostgreSQL takes concurrent writers; a few group-commit writers
		// keep its connections busy.
		db, err := postgres.Open(ctx, target, postgres.Options{Logger: log, JobPollInterval: poll})
		return db, 4, err
	}
	db, err := sqlite.Open(ctx, target, sqlite.Options{Logger: log, JobPollInterval: poll})
	return db, 1, err
}

// Addr is the address the App listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully: in-flight requests
// finish, queued writes commit, job workers stop, the store closes.
func (a *App) Run(ctx context.Context) error {
	handlers := jobMux{
		klaxon.HeartbeatCheck{}.Kind(): a.alerts,
		klaxon.GroupReminder{}.Kind():  a.notifier,
		klaxon.PostNote{}.Kind():       a.notifier,
		klaxon.RunDiagnostics{}.Kind(): diagnosticsOff{a.log},
		klaxon.EscalationStep{}.Kind(): a.notifier,
		klaxon.Page{}.Kind():           a.notifier,
		klaxon.HandoffNotice{}.Kind():  a.notifier,
	}
	for _, j := range []klaxon.Job{klaxon.IncidentPost{}, klaxon.IncidentRoomOpen{}, klaxon.IncidentTopic{}, klaxon.UpdateDue{}, klaxon.DiagnosisTimeout{}, klaxon.PostmortemDue{}} {
		handlers[j.Kind()] = a.incidents
	}
	if a.diag != nil {
		handlers[klaxon.RunDiagnostics{}.Kind()] = a.diag
	}
	if err := a.store.StartJobs(ctx, handlers); err != nil {
		a.close()
		return err
	}
	// Senders and listeners outlive ctx until the server has drained, so a
	// change made by an in-flight request is still queued for delivery.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() {
		leader.Run(bg, a.store, leader.Options{TTL: a.opts.LeaseTTL, Logger: a.log.With("component", "leader")}, a.lead)
	})
	if a.opts.Config.Runbooks.Dir != "" {
		background.Go(func() { a.watchRunbooks(bg) })
	}
	if a.opts.Config.Runbooks.Dir != "" || a.opts.ConfigPath != "" {
		background.Go(func() { a.reloadOnHangup(bg) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.listener) }()
	a.log.Info("klaxon listening", "addr", a.Addr())

	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		a.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
		err = a.server.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	stopBackground()
	background.Wait()
	return errors.Join(err, a.close())
}

// lead does, on the elected replica only, what must happen once however
// many replicas share the database: send chat messages (one sender per
// channel keeps each room in order and posts nothing twice), listen to
// Matrix /sync, and queue the next hand-off notices. Durable jobs need no
// leader: each is claimed by one replica.
func (a *App) lead(ctx context.Context) {
	queueHandoffs(ctx, a.notifier, a.log)
	var wg sync.WaitGroup
	wg.Go(func() { a.notifier.Run(ctx) })
	for name, ch := range a.channels {
		if l, ok := ch.(notify.Listener); ok {
			wg.Go(func() {
				if err := l.Listen(ctx, a.commands, storeCursor{a.store, "listener:" + name}); err != nil && ctx.Err() == nil {
					a.log.Error("chat listener stopped", "channel", name, "err", err)
				}
			})
		}
	}
	wg.Wait()
}

func (a *App) close() error {
	a.alerts.Close()
	return a.store.Close()
}

// tokens are the configured tokens senders present: integrations' for
// ingest, API tokens' for heartbeats.
func tokens(cfg *config.Config) *httpapi.Tokens {
	t := httpapi.NewTokens()
	for _, at := range cfg.APITokens {
		t.Add(string(at.Token), httpapi.Credential{Name: at.Name})
	}
	for _, in := range cfg.Integrations {
		t.Add(string(in.Token), httpapi.Credential{Name: in.Name, Type: in.Type, Limit: in.RateLimit})
	}
	return t
}

func heartbeats(hbs []config.Heartbeat) []alerting.HeartbeatConfig {
	out := make([]alerting.HeartbeatConfig, len(hbs))
	for i, hb := range hbs {
		out[i] = alerting.HeartbeatConfig{Name: hb.Name, AlertName: hb.AlertName, Timeout: hb.Timeout, Severity: hb.Severity}
	}
	return out
}

// severityPolicy builds the domain policy from config: the default ladder
// unless the config names its own levels.
func severityPolicy(c config.Severity) klaxon.SeverityPolicy {
	p := klaxon.DefaultSeverityPolicy()
	p.Label = c.Label
	if len(c.Levels) > 0 {
		p.Names, p.Values = nil, nil
		for _, l := range c.Levels {
			vals := map[string]bool{}
			for _, v := range l.Values {
				vals[strings.ToLower(strings.TrimSpace(v))] = true
			}
			p.Names = append(p.Names, l.Name)
			p.Values = append(p.Values, vals)
		}
		p.Default = klaxon.Level(len(p.Names) - 1)
	}
	for i, n := range p.Names {
		if n == c.Default {
			p.Default = klaxon.Level(i)
		}
	}
	return p
}
