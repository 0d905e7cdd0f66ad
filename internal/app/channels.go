package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/channel/googlechat"
	"github.com/klaxon-oss/klaxon/internal/channel/matrix"
	"github.com/klaxon-oss/klaxon/internal/channel/pagerduty"
	"github.com/klaxon-oss/klaxon/internal/channel/slack"
	"github.com/klaxon-oss/klaxon/internal/channel/webhook"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// platforms are the channel types, by the name config's `type` uses. A new
// platform is one package and one line here.
var platforms = map[string]notify.Factory{
	"matrix":     matrix.New,
	"slack":      slack.New,
	"googlechat": googlechat.New,
	"pagerduty":  pagerduty.New,
	"webhook":    webhook.New,
}

// Check validates what the config package cannot alone: each channel's own
// settings. Every problem is reported, each with its key and line.
func Check(cfg *config.Config) error {
	_, err := buildChannels(cfg, slog.New(slog.DiscardHandler))
	return err
}

// buildChannels makes every configured channel, without network calls.
func buildChannels(cfg *config.Config, log *slog.Logger) (map[string]notify.Channel, error) {
	channels := make(map[string]notify.Channel, len(cfg.Channels))
	var problems *config.Error
	for _, c := range cfg.Channels {
		factory, ok := platforms[c.Type]
		var ch notify.Channel
		var err error
		if !ok {
			err = c.Errorf("type", "unknown channel type %q; want one of %s", c.Type, strings.Join(slices.Sorted(maps.Keys(platforms)), ", "))
		} else {
			ch, err = factory(c, notify.Env{BaseURL: cfg.URL, Logger: log.With("channel", c.Name), Client: notify.NewHTTPClient()})
		}
		var ce *config.Error
		switch {
		case err == nil:
			channels[c.Name] = ch
		case errors.As(err, &ce):
			if problems == nil {
				problems = &config.Error{File: ce.File}
			}
			problems.Problems = append(problems.Problems, ce.Problems...)
		default:
			return nil, fmt.Errorf("channel %s: %w", c.Name, err)
		}
	}
	if problems != nil {
		return nil, problems
	}
	return channels, nil
}

// storeCursor keeps a listener's position in the store.
type storeCursor struct {
	store klaxon.Store
	name  string
}

func (c storeCursor) Load(ctx context.Context) (string, error) { return c.store.Cursor(ctx, c.name) }

func (c storeCursor) Save(ctx context.Context, v string) error {
	return c.store.Update(ctx, func(tx klaxon.Tx) error { return tx.SetCursor(ctx, c.name, v) })
}

// jobMux hands each durable job to the service that owns its kind.
type jobMux map[string]klaxon.JobHandler

func (m jobMux) HandleJob(ctx context.Context, job klaxon.Job) error {
	h, ok := m[job.Kind()]
	if !ok {
		return fmt.Errorf("no handler for job kind %q", job.Kind())
	}
	return h.HandleJob(ctx, job)
}
