package app

import (
	"log/slog"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// newAuth builds who-is-calling from the configuration: its API tokens,
// session length and single sign-on.
func newAuth(cfg *config.Config, store klaxon.Store, now func() time.Time, log *slog.Logger) (*auth.Service, error) {
	opts := auth.Options{
		BaseURL:        cfg.URL,
		SessionTTL:     cfg.Auth.SessionTTL,
		TrustedProxies: cfg.Auth.Prefixes(),
		Now:            now,
		Logger:         log.With("component", "auth"),
	}
	for _, t := range cfg.APITokens {
		opts.ConfigTokens = append(opts.ConfigTokens, auth.ConfigToken{Name: t.Name, Token: string(t.Token), Role: t.Role})
	}
	if o := cfg.Auth.OIDC; o != nil {
		opts.OIDC = &auth.OIDC{
			Issuer:          o.Issuer,
			ClientID:        o.ClientID,
			ClientSecret:    string(o.ClientSecret),
			Scopes:          o.Scopes,
			UsernameClaim:   o.UsernameClaim,
			GroupsClaim:     o.GroupsClaim,
			AdminGroups:     o.AdminGroups,
			ResponderGroups: o.ResponderGroups,
			DefaultRole:     o.DefaultRole,
		}
	}
	return auth.New(store, opts)
}
