package httpapi

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// Credential is who a configured token belongs to.
type Credential struct {
	Name string // recorded as the actor
	// Integration type ("alertmanager", "events-v2", "generic"); empty for
	// an API token.
	Type string
	// Limit bounds how fast the token may ingest and check in; the zero
	// RateLimit is no limit.
	Limit config.RateLimit

	bucket *bucket // Limit's state, shared by every copy; nil: no limit
}

// Tokens maps secret tokens to who holds them. Lookups go through a SHA-256
// of the token, so the map's timing reveals nothing about the secrets.
type Tokens struct {
	byHash map[[32]byte]Credential
}

// NewTokens returns an empty token table.
func NewTokens() *Tokens { return &Tokens{byHash: map[[32]byte]Credential{}} }

// Add registers token for c. Its rate limit is counted per token, in this
// process's memory.
func (t *Tokens) Add(token string, c Credential) {
	if c.Limit.Requests > 0 {
		c.bucket = newBucket(c.Limit)
	}
	t.byHash[sha256.Sum256([]byte(token))] = c
}

// Lookup returns the credential for token.
func (t *Tokens) Lookup(token string) (Credential, bool) {
	if token == "" {
		return Credential{}, false
	}
	c, ok := t.byHash[sha256.Sum256([]byte(token))]
	return c, ok
}

// senderToken finds the token a sender presented: a bearer token, a basic
// auth password (what Alertmanager's basic_auth sends), or ?token= for
// senders that can set no header.
func senderToken(r *http.Request) string {
	if t, ok := bearer(r); ok {
		return t
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return r.URL.Query().Get("token")
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

type principalKey struct{}

// withPrincipal carries the acting identity: the only thing Klaxon puts
// in a context.
func withPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principal is who is calling, as person() found.
func principal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// actor is the name history records for the caller.
func actor(ctx context.Context) string {
	if p := principal(ctx); p != nil {
		return p.Name
	}
	return ""
}
