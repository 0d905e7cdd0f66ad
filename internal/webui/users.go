package webui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

func (u *UI) userRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users", u.need(klaxon.RoleAdmin, u.users))
	mux.HandleFunc("POST /admin/users", u.need(klaxon.RoleAdmin, u.addUser))
	mux.HandleFunc("POST /admin/users/{username}/role", u.need(klaxon.RoleAdmin, u.setRole))
	mux.HandleFunc("POST /admin/users/{username}/disable", u.need(klaxon.RoleAdmin, u.setDisabled(true)))
	mux.HandleFunc("POST /admin/users/{username}/enable", u.need(klaxon.RoleAdmin, u.setDisabled(false)))
	mux.HandleFunc("POST /admin/users/{username}/password", u.need(klaxon.RoleAdmin, u.resetPassword))
}

// roles are the roles an account can have, least first.
var roles = []klaxon.Role{klaxon.RoleViewer, klaxon.RoleResponder, klaxon.RoleAdmin}

// usersData is the users page's content.
type usersData struct {
	Accounts []*klaxon.Account
	Roles    []klaxon.Role
	Tokens   []ownedToken // everyone's API tokens
}

// ownedToken is an API token and whose it is.
type ownedToken struct {
	*klaxon.APIToken
	Owner string
}

func (u *UI) users(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	accounts, err := u.Auth.Accounts(r.Context())
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	tokens, err := u.Auth.Tokens(r.Context(), 0)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	names := make(map[int64]string, len(accounts))
	for _, a := range accounts {
		names[a.ID] = a.Username
	}
	d := usersData{Accounts: accounts, Roles: roles}
	for _, t := range tokens {
		d.Tokens = append(d.Tokens, ownedToken{APIToken: t, Owner: names[t.AccountID]})
	}
	u.render(w, r, http.StatusOK, "users.html", view{Title: "Users", Nav: "users", User: p, Data: d})
}

func (u *UI) addUser(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	role, err := klaxon.ParseRole(r.PostFormValue("role"))
	if err != nil {
		u.back(w, r, p, "/admin/users", err)
		return
	}
	a, err := u.Auth.AddAccount(r.Context(), auth.NewAccount{
		Username: strings.TrimSpace(r.PostFormValue("username")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Email:    strings.TrimSpace(r.PostFormValue("email")),
		Role:     role,
		Password: r.PostFormValue("password"),
	})
	if err != nil {
		u.back(w, r, p, "/admin/users", err)
		return
	}
	how := "with a password"
	if a.PasswordHash == "" {
		how = "for single sign-on"
	}
	u.done(w, r, "/admin/users", fmt.Sprintf("Added %s as a %s, %s.", a.Username, a.Role, how))
}

func (u *UI) setRole(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	username := r.PathValue("username")
	role, err := klaxon.ParseRole(r.PostFormValue("role"))
	if err == nil && strings.EqualFold(username, p.Name) && role != p.Role {
		// An admin who demotes themselves may leave nobody to undo it.
		err = klaxon.Errorf(klaxon.EINVALID, "You cannot change your own role; ask another admin.")
	}
	if err != nil {
		u.back(w, r, p, "/admin/users", err)
		return
	}
	a, err := u.Auth.UpdateAccount(r.Context(), username, auth.AccountChange{Role: &role})
	if err != nil {
		u.back(w, r, p, "/admin/users", err)
		return
	}
	u.done(w, r, "/admin/users", fmt.Sprintf("%s is now a %s.", a.Username, a.Role))
}

func (u *UI) setDisabled(disabled bool) page {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		username := r.PathValue("username")
		if disabled && strings.EqualFold(username, p.Name) {
			u.back(w, r, p, "/admin/users", klaxon.Errorf(klaxon.EINVALID, "You cannot disable your own account; ask another admin."))
			return
		}
		a, err := u.Auth.UpdateAccount(r.Context(), username, auth.AccountChange{Disabled: &disabled})
		if err != nil {
			u.back(w, r, p, "/admin/users", err)
			return
		}
		msg := fmt.Sprintf("Enabled %s: they can sign in again.", a.Username)
		if disabled {
			msg = fmt.Sprintf("Disabled %s: they are signed out and their API tokens no longer work.", a.Username)
		}
		u.done(w, r, "/admin/users", msg)
	}
}

func (u *UI) resetPassword(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	password := r.PostFormValue("password")
	if password == "" {
		u.back(w, r, p, "/admin/users", klaxon.Errorf(klaxon.EINVALID, "Type the new password to set."))
		return
	}
	a, err := u.Auth.UpdateAccount(r.Context(), r.PathValue("username"), auth.AccountChange{Password: &password})
	if err != nil {
		u.back(w, r, p, "/admin/users", err)
		return
	}
	u.done(w, r, "/admin/users", fmt.Sprintf("Set a new password for %s and signed them out everywhere. Tell them the password another way than chat.", a.Username))
}
