package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

func (u *UI) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /account", u.need(klaxon.RoleViewer, u.account))
	mux.HandleFunc("POST /account/tokens", u.need(klaxon.RoleViewer, u.createToken))
	mux.HandleFunc("POST /account/tokens/{id}/revoke", u.need(klaxon.RoleViewer, u.revokeToken))
	mux.HandleFunc("POST /account/password", u.need(klaxon.RoleViewer, u.changePassword))
}

// tokenLifetime is an expiry choice for a new API token.
type tokenLifetime struct {
	Value string // the form's value
	Label string
	TTL   time.Duration // 0: never expires
}

// tokenLifetimes are the choices, in the order the form offers them.
var tokenLifetimes = []tokenLifetime{
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"365d", "1 year", 365 * 24 * time.Hour},
	{"never", "Never", 0},
}

// accountData is the account page's content.
type accountData struct {
	Account   *klaxon.Account
	Tokens    []*klaxon.APIToken
	Lifetimes []tokenLifetime
	// NewToken is the token just created: the only time it is shown.
	NewToken     string
	NewTokenName string
}

func (u *UI) account(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	u.renderAccount(w, r, p, nil)
}

// renderAccount shows the account page; created is a token just made.
func (u *UI) renderAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal, created *createdToken) {
	a, err := u.me(r, p)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	tokens, err := u.Auth.Tokens(r.Context(), a.ID)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	d := accountData{Account: a, Tokens: tokens, Lifetimes: tokenLifetimes}
	if created != nil {
		d.NewToken, d.NewTokenName = created.token, created.name
	}
	u.render(w, r, http.StatusOK, "account.html", view{Title: "Your account", Nav: "account", User: p, Data: d})
}

type createdToken struct{ token, name string }

func (u *UI) createToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		u.back(w, r, p, "/account", klaxon.Errorf(klaxon.EINVALID, "Name the token after what will use it, e.g. “laptop CLI”."))
		return
	}
	ttl, ok := time.Duration(0), false
	for _, l := range tokenLifetimes {
		if l.Value == r.PostFormValue("expires") {
			ttl, ok = l.TTL, true
		}
	}
	if !ok {
		u.back(w, r, p, "/account", klaxon.Errorf(klaxon.EINVALID, "Choose when the token expires."))
		return
	}
	token, _, err := u.Auth.CreateToken(r.Context(), p.AccountID, name, ttl)
	if err != nil {
		u.back(w, r, p, "/account", err)
		return
	}
	// Shown in the answer itself, never stored where it could be read
	// back: a reload asks to submit the form again rather than show it.
	u.renderAccount(w, r, p, &createdToken{token: token, name: name})
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	next := nextPath(r.PostFormValue("next"))
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		u.back(w, r, p, next, klaxon.Errorf(klaxon.EINVALID, "token ID: got %q, want a number", r.PathValue("id")))
		return
	}
	if err := u.Auth.RevokeToken(r.Context(), p, id); err != nil {
		u.back(w, r, p, next, err)
		return
	}
	u.done(w, r, next, "Revoked the token. Anything still using it is refused from now on.")
}

func (u *UI) changePassword(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	current, password := r.PostFormValue("current"), r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		u.back(w, r, p, "/account", klaxon.Errorf(klaxon.EINVALID, "The new password and its confirmation differ."))
		return
	}
	// The current password proves it is the person, not someone at their
	// unlocked screen; Login also rate-limits guesses.
	a, err := u.Auth.Login(r.Context(), p.Name, current, u.Auth.ClientAddr(r))
	if klaxon.ErrorCode(err) == klaxon.EUNAUTHORIZED {
		err = klaxon.Errorf(klaxon.EINVALID, "Your current password is not right.")
	}
	if err != nil {
		u.back(w, r, p, "/account", err)
		return
	}
	if a, err = u.Auth.UpdateAccount(r.Context(), a.Username, auth.AccountChange{Password: &password}); err != nil {
		u.back(w, r, p, "/account", err)
		return
	}
	// The change signed the account out everywhere, this browser too.
	if err := u.Auth.StartSession(r.Context(), w, a); err != nil {
		u.fail(w, r, p, err)
		return
	}
	u.done(w, r, "/account", "Changed your password. Your other browsers are signed out.")
}
