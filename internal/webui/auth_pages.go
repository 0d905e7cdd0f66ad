package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

func (u *UI) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", u.loginPage)
	mux.HandleFunc("POST /login", u.login)
	mux.HandleFunc("POST /logout", u.logout)
	mux.HandleFunc("GET /login/oidc", u.oidcStart)
	mux.HandleFunc("GET /login/oidc/callback", u.oidcFinish)
	u.accountRoutes(mux)
	u.userRoutes(mux)
}

// loginCookie holds the sign-in form's own CSRF token (double submit):
// there is no session yet whose token it could carry, and without one a
// page elsewhere could sign a browser into an attacker's account.
const loginCookie = "klaxon_login"

// loginForm is the sign-in page's content.
type loginForm struct {
	Next     string
	Username string
	Token    string // the form's CSRF token
	OIDC     bool
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	next := nextPath(r.URL.Query().Get("next"))
	if _, err := u.Auth.FromSession(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r, http.StatusOK, loginForm{Next: next}, "")
}

// renderLogin shows the sign-in form, with problem above it if not "".
func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, f loginForm, problem string) {
	f.Token = loginToken(w, r)
	f.OIDC = u.Auth.OIDCEnabled()
	u.render(w, r, status, "login.html", view{Title: "Sign in", Error: problem, Data: f})
}

// loginToken returns the browser's sign-in form token, setting a new one
// if it has none (one per browser, so two open sign-in tabs both work).
func loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: "/login", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return token
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	f := loginForm{Next: nextPath(r.PostFormValue("next")), Username: strings.TrimSpace(r.PostFormValue("username"))}
	password := r.PostFormValue("password")
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		u.renderLogin(w, r, http.StatusForbidden, f, "This sign-in form has expired. Please sign in again.")
		return
	}
	if f.Username == "" || password == "" {
		u.renderLogin(w, r, http.StatusBadRequest, f, "Enter your username and password.")
		return
	}
	a, err := u.Auth.Login(r.Context(), f.Username, password, u.Auth.ClientAddr(r))
	if err == nil {
		err = u.Auth.StartSession(r.Context(), w, a)
	}
	switch klaxon.ErrorCode(err) {
	case "":
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1})
		http.Redirect(w, r, f.Next, http.StatusSeeOther)
	case klaxon.EUNAUTHORIZED, klaxon.ERATELIMITED:
		u.renderLogin(w, r, statusByCode[klaxon.ErrorCode(err)], f, klaxon.ErrorMessage(err))
	default:
		u.fail(w, r, nil, err)
	}
}

// nextPath is where to go after signing in: next if it is a path on this
// server, else Now.
func nextPath(next string) string {
	if !localPath(next) {
		return "/"
	}
	return next
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	p, err := u.Auth.FromSession(r)
	if err != nil { // signed out already
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err := u.Auth.CheckCSRF(r, p); err != nil {
		u.fail(w, r, p, err)
		return
	}
	if err := u.Auth.EndSession(r.Context(), w, r); err != nil {
		u.fail(w, r, p, err)
		return
	}
	u.done(w, r, "/login", "Signed out.")
}

func (u *UI) oidcStart(w http.ResponseWriter, r *http.Request) {
	next := nextPath(r.URL.Query().Get("next"))
	if err := u.Auth.OIDCStart(w, r, next); err != nil {
		u.renderLogin(w, r, statusByCode[klaxon.ErrorCode(err)], loginForm{Next: next}, u.signOnProblem(r, err))
	}
}

func (u *UI) oidcFinish(w http.ResponseWriter, r *http.Request) {
	next, err := u.Auth.OIDCFinish(w, r)
	if err != nil {
		u.renderLogin(w, r, statusByCode[klaxon.ErrorCode(err)], loginForm{Next: "/"}, u.signOnProblem(r, err))
		return
	}
	http.Redirect(w, r, nextPath(next), http.StatusSeeOther)
}

// signOnProblem words a failed single sign-on for the sign-in page,
// logging what the person is not told.
func (u *UI) signOnProblem(r *http.Request, err error) string {
	if klaxon.ErrorCode(err) == klaxon.EINTERNAL {
		u.Logger.Error("single sign-on failed", "path", r.URL.Path, "err", err)
		return "Single sign-on failed. Try again, or sign in with a password."
	}
	return klaxon.ErrorMessage(err)
}

// me is the signed-in person's account.
func (u *UI) me(r *http.Request, p *auth.Principal) (*klaxon.Account, error) {
	accounts, err := u.Auth.Accounts(r.Context())
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if a.ID == p.AccountID {
			return a, nil
		}
	}
	return nil, klaxon.Errorf(klaxon.ENOTFOUND, "%s has no account: sign in with one to see this page", p.Name)
}
