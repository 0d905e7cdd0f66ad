package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
)

// TokenPrefix starts every personal API token, so a leaked one is easy to
// recognize (and to search for in code).
const TokenPrefix = "klx_"

// hintLen is how much of a token is kept to tell tokens apart.
const hintLen = 8

// touchEvery bounds how often a token's LastUsedAt is written: once an
// hour says enough about whether it is still in use.
const touchEvery = time.Hour

const maxTokenName = 100

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newToken returns klx_ and 32 random bytes in lowercase base32.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return TokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(b))
}

var errUnknownToken = klaxon.Errorf(klaxon.EUNAUTHORIZED, "unknown API token (make one with `klaxon login`, or see api_tokens in the configuration)")

// FromBearer returns who an API token (configured or personal) belongs to,
// or an EUNAUTHORIZED error.
func (s *Service) FromBearer(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "missing API token (send Authorization: Bearer <token>; `klaxon login` makes one)")
	}
	// A map keyed by the SHA-256: its timing says nothing about the
	// configured secrets.
	if t, ok := s.configTokens[sha256.Sum256([]byte(token))]; ok {
		return &Principal{Name: t.Name, Role: t.Role}, nil
	}
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, errUnknownToken
	}
	t, err := s.store.APITokenByHash(ctx, hashSecret(token))
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, errUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("read API token: %w", err)
	}
	now := s.now()
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "API token %s (%s) expired at %s; make a new one with `klaxon login`", t.Hint, t.Name, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	a, err := s.store.AccountByID(ctx, t.AccountID)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, errUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("read API token's account: %w", err)
	}
	if a.Disabled() {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "account %s is disabled", a.Username)
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.TouchAPIToken(ctx, t.ID, now) })
		if err != nil {
			s.log.Warn("record API token use", "token_id", t.ID, "err", err)
		}
	}
	return &Principal{Name: a.Username, Role: a.Role, AccountID: a.ID}, nil
}

// CreateToken makes a personal API token for an account and returns it:
// the only time the token itself is seen. ttl 0: never expires.
func (s *Service) CreateToken(ctx context.Context, accountID int64, name string, ttl time.Duration) (string, *klaxon.APIToken, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", nil, klaxon.Errorf(klaxon.EINVALID, "token name: missing (say what the token is for, e.g. laptop CLI)")
	case utf8.RuneCountInString(name) > maxTokenName:
		return "", nil, klaxon.Errorf(klaxon.EINVALID, "token name: longer than %d characters", maxTokenName)
	case ttl < 0:
		return "", nil, klaxon.Errorf(klaxon.EINVALID, "token expiry: negative (%s)", ttl)
	}
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	if a.Disabled() {
		return "", nil, klaxon.Errorf(klaxon.EINVALID, "account %s is disabled", a.Username)
	}
	token := newToken()
	now := s.now()
	t := &klaxon.APIToken{AccountID: a.ID, Name: name, Hash: hashSecret(token), Hint: token[:hintLen], CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAPIToken(ctx, t) }); err != nil {
		return "", nil, fmt.Errorf("create API token for %s: %w", a.Username, err)
	}
	return token, t, nil
}

// Tokens lists an account's tokens (0: everyone's).
func (s *Service) Tokens(ctx context.Context, accountID int64) ([]*klaxon.APIToken, error) {
	return s.store.APITokens(ctx, accountID)
}

// RevokeToken deletes a token: p's own, or anyone's if p is an admin.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id int64) error {
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		t, err := tx.DeleteAPIToken(ctx, id)
		if err == nil && t.AccountID != p.AccountID && !p.Role.Allows(klaxon.RoleAdmin) {
			// Rolled back; someone else's token is none of p's business.
			err = klaxon.Errorf(klaxon.ENOTFOUND, "API token %d not found", id)
		}
		return err
	})
}
