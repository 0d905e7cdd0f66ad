// Package auth signs people in and says who is calling: local accounts
// with argon2id passwords, OIDC single sign-on, browser sessions with CSRF
// tokens, personal API tokens and the configured API tokens. Roles are
// checked by the callers (httpapi, webui) with Principal.Role.
package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Principal is who is calling and what they may do.
type Principal struct {
	Name      string      // actor name: the account's username or the config token's name
	Role      klaxon.Role //
	AccountID int64       // 0 for a configured API token
	// CSRF is the token every form and unsafe request of this browser
	// session must carry; "" for bearer tokens.
	CSRF string
}

// ConfigToken is an API token from the configuration (api_tokens).
type ConfigToken struct {
	Name  string
	Token string
	Role  klaxon.Role
}

// OIDC configures single sign-on (see config.OIDC).
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// UsernameClaim names the claim that becomes the username
	// (default preferred_username, then email).
	UsernameClaim string
	GroupsClaim   string // default "groups"
	AdminGroups   []string
	// ResponderGroups; anyone else gets DefaultRole (0: refused).
	ResponderGroups []string
	DefaultRole     klaxon.Role
}

// Options configures a Service.
type Options struct {
	ConfigTokens []ConfigToken
	// BaseURL is where people reach Klaxon: the OIDC redirect is
	// BaseURL/login/oidc/callback, and cookies are Secure when it is https.
	BaseURL    string
	SessionTTL time.Duration // default 12h
	OIDC       *OIDC         // nil: password sign-in only
	// TrustedProxies may say who the client is (X-Forwarded-For); see
	// ClientAddr.
	TrustedProxies []netip.Prefix
	Now            func() time.Time
	Logger         *slog.Logger
}

// NewAccount is what creating an account takes.
type NewAccount struct {
	Username string
	Name     string
	Email    string
	Role     klaxon.Role
	Password string // "" : single sign-on only
}

// AccountChange changes an account; nil fields stay as they are.
type AccountChange struct {
	Name     *string
	Role     *klaxon.Role
	Password *string
	Disabled *bool
}

// DefaultSessionTTL is how long a browser stays signed in.
const DefaultSessionTTL = 12 * time.Hour

// Service authenticates requests and manages accounts and tokens.
type Service struct {
	store        klaxon.Store
	configTokens map[[sha256.Size]byte]ConfigToken
	baseURL      string
	// secure marks cookies Secure: Klaxon is reached over https.
	secure     bool
	sessionTTL time.Duration
	now        func() time.Time
	log        *slog.Logger
	failures   *loginLimiter
	oidc       *oidcClient // nil: no single sign-on
	proxies    []netip.Prefix
}

// New returns a Service. OIDC discovery happens on first use, so a down
// identity provider does not stop Klaxon from starting.
func New(store klaxon.Store, opts Options) (*Service, error) {
	s := &Service{
		store:        store,
		configTokens: map[[sha256.Size]byte]ConfigToken{},
		baseURL:      strings.TrimSuffix(opts.BaseURL, "/"),
		secure:       strings.HasPrefix(opts.BaseURL, "https://"),
		sessionTTL:   opts.SessionTTL,
		now:          opts.Now,
		log:          opts.Logger,
		failures:     newLoginLimiter(),
		proxies:      opts.TrustedProxies,
	}
	if s.sessionTTL == 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Made now, so the first sign-in as an unknown username is not the
	// slow one.
	dummyHash()
	for _, t := range opts.ConfigTokens {
		if !validRole(t.Role) {
			return nil, fmt.Errorf("api token %s: no role", t.Name)
		}
		s.configTokens[sha256.Sum256([]byte(t.Token))] = t
	}
	if opts.OIDC != nil {
		if _, err := url.Parse(s.baseURL); err != nil || s.baseURL == "" {
			return nil, fmt.Errorf("single sign-on needs the URL people reach Klaxon at (got %q)", opts.BaseURL)
		}
		s.oidc = newOIDCClient(*opts.OIDC, s.baseURL+OIDCCallbackPath)
	}
	return s, nil
}

func validRole(r klaxon.Role) bool { return r >= klaxon.RoleViewer && r <= klaxon.RoleAdmin }

// configTokenName reports whether name is a configured API token's: an
// account by that name would be indistinguishable from it in history.
func (s *Service) configTokenName(name string) bool {
	for _, t := range s.configTokens {
		if strings.EqualFold(t.Name, name) {
			return true
		}
	}
	return false
}

// Account returns one account, or an ENOTFOUND error.
func (s *Service) Account(ctx context.Context, id int64) (*klaxon.Account, error) {
	return s.store.AccountByID(ctx, id)
}
