// Package auth signs people in and says who is calling: local accounts
// with argon2id passwords, OIDC single sign-on, browser sessions with CSRF
// tokens, personal API tokens and the configured API tokens. Roles are
// checked by the callers (httpapi, webui) with Principal.Role.
package auth

import (
	"context"
	"log/slog"
	"net/http"
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
	Now        func() time.Time
	Logger     *slog.Logger
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

// Service authenticates requests and manages accounts and tokens.
type Service struct{}

// New returns a Service. OIDC discovery happens on first use, so a down
// identity provider does not stop Klaxon from starting.
func New(store klaxon.Store, opts Options) (*Service, error) { panic("unimplemented") }

// Login checks a username and password. Failures are rate-limited per
// username and per remote address (ERATELIMITED); a wrong username and a
// wrong password get the same EUNAUTHORIZED answer.
func (s *Service) Login(ctx context.Context, username, password, remote string) (*klaxon.Account, error) {
	panic("unimplemented")
}

// StartSession signs a into this browser: a new session cookie.
func (s *Service) StartSession(ctx context.Context, w http.ResponseWriter, a *klaxon.Account) error {
	panic("unimplemented")
}

// EndSession signs this browser out.
func (s *Service) EndSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	panic("unimplemented")
}

// FromSession returns who the session cookie belongs to, or an
// EUNAUTHORIZED error (no cookie, expired, account disabled).
func (s *Service) FromSession(r *http.Request) (*Principal, error) { panic("unimplemented") }

// FromBearer returns who an API token (configured or personal) belongs to,
// or an EUNAUTHORIZED error.
func (s *Service) FromBearer(ctx context.Context, token string) (*Principal, error) {
	panic("unimplemented")
}

// CheckCSRF refuses (EFORBIDDEN) an unsafe request of a browser session
// that lacks the session's CSRF token (form field "csrf" or header
// X-CSRF-Token) or comes from another origin.
func (s *Service) CheckCSRF(r *http.Request, p *Principal) error { panic("unimplemented") }

// OIDCEnabled reports whether single sign-on is configured.
func (s *Service) OIDCEnabled() bool { panic("unimplemented") }

// OIDCStart redirects the browser to the identity provider; next is where
// to go after signing in (a local path).
func (s *Service) OIDCStart(w http.ResponseWriter, r *http.Request, next string) error {
	panic("unimplemented")
}

// OIDCFinish handles the provider's redirect back: verifies the ID token,
// finds or creates the account, starts a session, and returns next.
func (s *Service) OIDCFinish(w http.ResponseWriter, r *http.Request) (string, error) {
	panic("unimplemented")
}

// AddAccount creates an account.
func (s *Service) AddAccount(ctx context.Context, n NewAccount) (*klaxon.Account, error) {
	panic("unimplemented")
}

// Accounts lists every account.
func (s *Service) Accounts(ctx context.Context) ([]*klaxon.Account, error) { panic("unimplemented") }

// UpdateAccount changes an account. Disabling it or changing its password
// signs it out everywhere.
func (s *Service) UpdateAccount(ctx context.Context, username string, c AccountChange) (*klaxon.Account, error) {
	panic("unimplemented")
}

// CreateToken makes a personal API token for an account and returns it:
// the only time the token itself is seen. ttl 0: never expires.
func (s *Service) CreateToken(ctx context.Context, accountID int64, name string, ttl time.Duration) (string, *klaxon.APIToken, error) {
	panic("unimplemented")
}

// Tokens lists an account's tokens (0: everyone's).
func (s *Service) Tokens(ctx context.Context, accountID int64) ([]*klaxon.APIToken, error) {
	panic("unimplemented")
}

// RevokeToken deletes a token: p's own, or anyone's if p is an admin.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id int64) error {
	panic("unimplemented")
}
