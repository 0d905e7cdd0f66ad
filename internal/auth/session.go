package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// SessionCookie holds a signed-in browser's session secret.
const SessionCookie = "klaxon_session"

// csrfLabel is what a session's CSRF token is the HMAC of, keyed by the
// session secret: forms can carry it, and a page on another site, which
// cannot read the cookie, cannot make it.
const csrfLabel = "klaxon csrf v1"

// CSRFField and CSRFHeader carry the CSRF token of an unsafe request.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// newSecret returns 32 random bytes, URL-safe.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// StartSession signs a into this browser: a new session cookie.
func (s *Service) StartSession(ctx context.Context, w http.ResponseWriter, a *klaxon.Account) error {
	secret := newSecret()
	now := s.now()
	sess := &klaxon.Session{Hash: hashSecret(secret), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL)}
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		// Sweeping here keeps the table to the sessions still alive.
		if err := tx.DeleteSessions(ctx, nil, now); err != nil {
			return err
		}
		return tx.InsertSession(ctx, sess)
	})
	if err != nil {
		return fmt.Errorf("start session for %s: %w", a.Username, err)
	}
	http.SetCookie(w, s.cookie(SessionCookie, secret, "/", int(s.sessionTTL.Seconds())))
	return nil
}

// EndSession signs this browser out.
func (s *Service) EndSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, s.cookie(SessionCookie, "", "/", -1))
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	err = s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.DeleteSessions(ctx, hashSecret(c.Value), s.now()) })
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// errNoSession is the answer to a browser that is not signed in.
var errNoSession = klaxon.Errorf(klaxon.EUNAUTHORIZED, "not signed in")

// FromSession returns who the session cookie belongs to, or an
// EUNAUTHORIZED error (no cookie, expired, account disabled).
func (s *Service) FromSession(r *http.Request) (*Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	ctx := r.Context()
	sess, err := s.store.SessionByHash(ctx, hashSecret(c.Value))
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) {
		err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.DeleteSessions(ctx, sess.Hash, now) })
		if err != nil {
			s.log.Warn("delete expired session", "err", err)
		}
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "your session expired; sign in again")
	}
	a, err := s.store.AccountByID(ctx, sess.AccountID)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if a.Disabled() {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "account %s is disabled", a.Username)
	}
	return &Principal{Name: a.Username, Role: a.Role, AccountID: a.ID, CSRF: csrfToken(c.Value)}, nil
}

// CheckCSRF refuses (EFORBIDDEN) an unsafe request of a browser session
// that lacks the session's CSRF token (form field "csrf" or header
// X-CSRF-Token) or comes from another origin. A bearer token's principal
// has no CSRF token and passes: another site cannot make a browser send an
// Authorization header.
func (s *Service) CheckCSRF(r *http.Request, p *Principal) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if p.CSRF == "" {
		return nil
	}
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if !hmac.Equal([]byte(got), []byte(p.CSRF)) {
		return klaxon.Errorf(klaxon.EFORBIDDEN, "this form is stale or came from another site (missing or wrong CSRF token); reload the page and try again")
	}
	return nil
}

// checkOrigin refuses a request whose Origin, or else Referer, names
// another host than the one it was sent to or Klaxon's URL.
func (s *Service) checkOrigin(r *http.Request) error {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Referer()
	}
	if from == "" {
		return nil
	}
	u, err := url.Parse(from)
	if err == nil && u.Host != "" && (strings.EqualFold(u.Host, r.Host) || strings.EqualFold(u.Host, s.host())) {
		return nil
	}
	return klaxon.Errorf(klaxon.EFORBIDDEN, "refused a request from another site (%s)", from)
}

// host is the host:port of Klaxon's URL ("" if none).
func (s *Service) host() string {
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// cookie makes one of Klaxon's cookies: HttpOnly, SameSite=Lax (sent on
// links followed from elsewhere, not on their forms), Secure over https.
// maxAge < 0 deletes it.
func (s *Service) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}
