package auth

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/klaxon-oss/klaxon"
)

// OIDCCallbackPath is where the identity provider sends the browser back,
// under Options.BaseURL.
const OIDCCallbackPath = "/login/oidc/callback"

const (
	// oidcCookie carries a sign-in in progress from OIDCStart to
	// OIDCFinish: its state, nonce and PKCE verifier.
	oidcCookie = "klaxon_oidc"
	// oidcFlowTTL is how long a person may take at the identity provider.
	oidcFlowTTL = 10 * time.Minute
	// oidcTimeout bounds each call to the identity provider.
	oidcTimeout = 10 * time.Second
)

var errNoOIDC = klaxon.Errorf(klaxon.ENOTFOUND, "single sign-on is not configured on this server")

// oidcClient talks to the identity provider.
type oidcClient struct {
	cfg         OIDC
	redirectURL string
	http        *http.Client
	// flowKey signs the sign-in cookie. It is derived from the client
	// secret, so every replica can check a flow another one started.
	flowKey []byte

	mu       sync.Mutex
	provider *oidc.Provider // nil until discovered
}

func newOIDCClient(cfg OIDC, redirectURL string) *oidcClient {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	key := sha256.Sum256([]byte("klaxon oidc flow\x00" + cfg.ClientSecret))
	return &oidcClient{
		cfg:         cfg,
		redirectURL: redirectURL,
		http:        &http.Client{Timeout: oidcTimeout},
		flowKey:     key[:],
	}
}

// discover fetches the provider's configuration the first time it is
// needed; a failure is tried again on the next sign-in.
func (c *oidcClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.http), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover identity provider %s: %w", c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *oidcClient) oauth(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	for _, sc := range c.cfg.Scopes {
		if sc != oidc.ScopeOpenID {
			scopes = append(scopes, sc)
		}
	}
	return &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  c.redirectURL,
		Scopes:       scopes,
	}
}

// oidcFlow is a sign-in in progress, kept in the browser's cookie.
type oidcFlow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"` // PKCE
	Next     string `json:"next"`
	Expires  int64  `json:"exp"` // Unix seconds
}

// seal encodes and signs f.
func (c *oidcClient) seal(f oidcFlow) string {
	b, _ := json.Marshal(f)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + c.sign(payload)
}

// open checks the signature and expiry of a sealed flow.
func (c *oidcClient) open(sealed string, now time.Time) (oidcFlow, bool) {
	var f oidcFlow
	payload, sig, ok := strings.Cut(sealed, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.sign(payload))) {
		return f, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &f) != nil || now.Unix() >= f.Expires {
		return f, false
	}
	return f, true
}

func (c *oidcClient) sign(payload string) string {
	m := hmac.New(sha256.New, c.flowKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// OIDCEnabled reports whether single sign-on is configured.
func (s *Service) OIDCEnabled() bool { return s.oidc != nil }

// OIDCStart redirects the browser to the identity provider; next is where
// to go after signing in (a local path).
func (s *Service) OIDCStart(w http.ResponseWriter, r *http.Request, next string) error {
	if s.oidc == nil {
		return errNoOIDC
	}
	p, err := s.provider(r.Context())
	if err != nil {
		return err
	}
	if !localPath(next) {
		next = "/"
	}
	f := oidcFlow{
		State:    newSecret(),
		Nonce:    newSecret(),
		Verifier: oauth2.GenerateVerifier(),
		Next:     next,
		Expires:  s.now().Add(oidcFlowTTL).Unix(),
	}
	http.SetCookie(w, s.cookie(oidcCookie, s.oidc.seal(f), OIDCCallbackPath, int(oidcFlowTTL.Seconds())))
	to := s.oidc.oauth(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

// provider is the discovered identity provider, or an error people can
// read (the detail goes to the log).
func (s *Service) provider(ctx context.Context) (*oidc.Provider, error) {
	p, err := s.oidc.discover(ctx)
	if err != nil {
		s.log.Error("single sign-on unavailable", "err", err)
		return nil, klaxon.Errorf(klaxon.EINTERNAL, "single sign-on is unavailable: the identity provider did not answer; try again later")
	}
	return p, nil
}

// OIDCFinish handles the provider's redirect back: verifies the ID token,
// finds or creates the account, starts a session, and returns next.
func (s *Service) OIDCFinish(w http.ResponseWriter, r *http.Request) (string, error) {
	if s.oidc == nil {
		return "", errNoOIDC
	}
	ctx := r.Context()
	c, err := r.Cookie(oidcCookie)
	http.SetCookie(w, s.cookie(oidcCookie, "", OIDCCallbackPath, -1))
	if err != nil {
		return "", klaxon.Errorf(klaxon.EUNAUTHORIZED, "this sign-in was not started here, or cookies are off; sign in again")
	}
	f, ok := s.oidc.open(c.Value, s.now())
	if !ok {
		return "", klaxon.Errorf(klaxon.EUNAUTHORIZED, "this sign-in took too long or was tampered with; sign in again")
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return "", klaxon.Errorf(klaxon.EUNAUTHORIZED, "this sign-in's state does not match the one started in this browser; sign in again")
	}
	p, err := s.provider(ctx)
	if err != nil {
		return "", err
	}
	id, err := s.identify(ctx, p, q.Get("code"), f)
	if err != nil {
		return "", err
	}
	a, err := s.oidcAccount(ctx, id)
	if err != nil {
		return "", err
	}
	if err := s.StartSession(ctx, w, a); err != nil {
		return "", err
	}
	return f.Next, nil
}

// identity is who the identity provider says signed in.
type identity struct {
	subject  string // "iss sub": unique and stable
	username string
	name     string
	email    string
	groups   []string
}

// identify trades the code for tokens and verifies the ID token: its
// signature, issuer, audience, expiry and nonce.
func (s *Service) identify(ctx context.Context, p *oidc.Provider, code string, f oidcFlow) (*identity, error) {
	if code == "" {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider sent no code back; sign in again")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.oidc.http), oidcTimeout)
	defer cancel()
	tok, err := s.oidc.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.log.Warn("single sign-on code exchange failed", "err", err)
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider did not accept this sign-in's code; sign in again")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider sent no ID token (is the openid scope allowed for this client?)")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.oidc.cfg.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		s.log.Warn("single sign-on ID token refused", "err", err)
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider's ID token was refused: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the ID token's nonce does not match this sign-in; sign in again")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("read ID token claims: %w", err)
	}
	id := &identity{
		subject: idt.Issuer + " " + idt.Subject,
		name:    stringClaim(claims, "name"),
		email:   stringClaim(claims, "email"),
		groups:  listClaim(claims, s.oidc.cfg.GroupsClaim),
	}
	if c := s.oidc.cfg.UsernameClaim; c != "" {
		id.username = stringClaim(claims, c)
	} else if id.username = stringClaim(claims, "preferred_username"); id.username == "" {
		id.username = id.email
	}
	if id.username == "" {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider said nothing to name you by (no %s claim)", cmp.Or(s.oidc.cfg.UsernameClaim, "preferred_username or email"))
	}
	return id, nil
}

func stringClaim(claims map[string]any, name string) string {
	v, _ := claims[name].(string)
	return strings.TrimSpace(v)
}

// listClaim reads a claim that is a list of strings, or one string.
func listClaim(claims map[string]any, name string) []string {
	switch v := claims[name].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// role is what the identity's groups give, else DefaultRole (0: none).
func (c *oidcClient) role(groups []string) klaxon.Role {
	in := func(names []string) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(names, g) })
	}
	switch {
	case in(c.cfg.AdminGroups):
		return klaxon.RoleAdmin
	case in(c.cfg.ResponderGroups):
		return klaxon.RoleResponder
	}
	return c.cfg.DefaultRole
}

// oidcAccount finds the account of id, or makes one. The identity
// provider's groups decide the role at every sign-in, so taking someone
// out of a group takes their access away. An existing account is linked by
// username only if it was made for single sign-on (no password, no other
// identity): preferred_username is not unique at every provider, and must
// not open a password account to whoever claims its name.
func (s *Service) oidcAccount(ctx context.Context, id *identity) (*klaxon.Account, error) {
	role := s.oidc.role(id.groups)
	if role == 0 {
		return nil, klaxon.Errorf(klaxon.EFORBIDDEN, "you signed in as %s, but none of your groups gives access to Klaxon; ask an admin", id.username)
	}
	a, err := s.store.AccountBySubject(ctx, id.subject)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		a, err = s.store.Account(ctx, id.username)
		switch {
		case klaxon.ErrorCode(err) == klaxon.ENOTFOUND:
			return s.addOIDCAccount(ctx, id, role)
		case err == nil && (a.OIDCSubject != "" || a.PasswordHash != ""):
			return nil, klaxon.Errorf(klaxon.ECONFLICT, "an account named %s already exists and is not yours to sign in to; ask an admin", a.Username)
		case err == nil:
			a.OIDCSubject = id.subject
		}
	}
	if err != nil {
		return nil, fmt.Errorf("single sign-on of %s: %w", id.username, err)
	}
	if a.Disabled() {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "account %s is disabled", a.Username)
	}
	a.Role = role
	if id.name != "" {
		a.Name = id.name
	}
	if id.email != "" {
		a.Email = id.email
	}
	if err := s.signedIn(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Service) addOIDCAccount(ctx context.Context, id *identity, role klaxon.Role) (*klaxon.Account, error) {
	if err := checkUsername(id.username); err != nil {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "the identity provider's name for you is not a usable username: %s", klaxon.ErrorMessage(err))
	}
	if s.configTokenName(id.username) {
		return nil, klaxon.Errorf(klaxon.ECONFLICT, "your username %s is taken by a configured API token; ask an admin", id.username)
	}
	now := s.now()
	a := &klaxon.Account{
		Username:    id.username,
		Name:        id.name,
		Email:       id.email,
		Role:        role,
		OIDCSubject: id.subject,
		CreatedAt:   now,
		LastLoginAt: now,
	}
	if err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAccount(ctx, a) }); err != nil {
		return nil, fmt.Errorf("add account %s from single sign-on: %w", id.username, err)
	}
	s.log.Info("account created by single sign-on", "username", a.Username, "role", a.Role.String())
	return a, nil
}

// localPath reports whether next is a path on this server, not a URL that
// would send the browser elsewhere after signing in.
func localPath(next string) bool {
	return strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\")
}
