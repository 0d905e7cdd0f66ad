package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

// LoginRequest is the body of POST /api/v1/login: a password sign-in that
// makes a personal API token (what `klaxon login` does).
type LoginRequest struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	TokenName string `json:"token_name"`
	// ExpiresIn is how long the token lasts: "90d", "720h"; "": forever.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name      string `json:"name"`
	ExpiresIn string `json:"expires_in,omitempty"` // as in LoginRequest
}

// NewToken is a personal API token just made: the only answer that holds
// the token itself.
type NewToken struct {
	Token     string      `json:"token"`
	ID        int64       `json:"id"`
	Hint      string      `json:"hint"`
	Name      string      `json:"name"`
	ExpiresAt time.Time   `json:"expires_at,omitzero"`
	Username  string      `json:"username"`
	Role      klaxon.Role `json:"role"`
}

// Me is the answer to GET /api/v1/me: who the token belongs to.
type Me struct {
	Name    string          `json:"name"`
	Role    klaxon.Role     `json:"role"`
	Account *klaxon.Account `json:"account,omitempty"` // nil for a configured API token
}

// Token is a personal API token as listed, with its owner's username.
type Token struct {
	klaxon.APIToken
	Username string `json:"username"`
}

// TokenList is the answer to GET /api/v1/tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// UserRequest is the body of POST /api/v1/users. Without a password the
// account can only sign in through single sign-on.
type UserRequest struct {
	Username string      `json:"username"`
	Name     string      `json:"name,omitempty"`
	Email    string      `json:"email,omitempty"`
	Role     klaxon.Role `json:"role"`
	Password string      `json:"password,omitempty"`
}

// UserChange is the body of PATCH /api/v1/users/{username}; absent fields
// stay as they are.
type UserChange struct {
	Role     *klaxon.Role `json:"role,omitempty"`
	Name     *string      `json:"name,omitempty"`
	Password *string      `json:"password,omitempty"`
	Disabled *bool        `json:"disabled,omitempty"`
}

// User is an account as admins see it: how it signs in, never its
// secrets.
type User struct {
	*klaxon.Account
	Password     bool `json:"password"`       // may sign in with a password
	SingleSignOn bool `json:"single_sign_on"` // is linked to an identity provider's user
}

func userOf(a *klaxon.Account) User {
	return User{Account: a, Password: a.PasswordHash != "", SingleSignOn: a.OIDCSubject != ""}
}

// UserList is the answer to GET /api/v1/users.
type UserList struct {
	Users []User `json:"users"`
}

func (s *Server) accountRoutes(mux *http.ServeMux) {
	// Sign-in takes no token: the password is the credential, and
	// failures are rate-limited.
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("GET /api/v1/me", s.person(s.me))
	mux.HandleFunc("GET /api/v1/tokens", s.person(s.listTokens))
	mux.HandleFunc("POST /api/v1/tokens", s.person(s.createToken))
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.person(s.revokeToken))
	mux.HandleFunc("GET /api/v1/users", s.person(s.listUsers))
	mux.HandleFunc("POST /api/v1/users", s.person(s.addUser))
	mux.HandleFunc("PATCH /api/v1/users/{username}", s.person(s.changeUser))
}

// errConfigToken answers a configured API token asking for its personal
// tokens.
var errConfigToken = klaxon.Errorf(klaxon.EINVALID, "configured tokens have no personal tokens; sign in as a person (klaxon login)")

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := s.decodeBody(w, r, &req, "username, password, token_name and expires_in"); err != nil {
		writeError(w, err)
		return
	}
	ttl, err := parseExpiresIn(req.ExpiresIn)
	if err == nil && strings.TrimSpace(req.TokenName) == "" {
		err = klaxon.Errorf(klaxon.EINVALID, "token_name: missing (names the token in `klaxon token list`)")
	}
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Auth.Login(r.Context(), req.Username, req.Password, s.Auth.ClientAddr(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.issueToken(w, r, a, req.TokenName, ttl)
}

// issueToken makes a token for a and answers with it.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, a *klaxon.Account, name string, ttl time.Duration) {
	token, t, err := s.Auth.CreateToken(r.Context(), a.ID, name, ttl)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewToken{
		Token: token, ID: t.ID, Hint: t.Hint, Name: t.Name, ExpiresAt: t.ExpiresAt, Username: a.Username, Role: a.Role,
	})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	me := Me{Name: p.Name, Role: p.Role}
	if p.AccountID != 0 {
		a, err := s.Auth.Account(r.Context(), p.AccountID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		me.Account = a
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principal(ctx)
	all, err := boolParam(r.URL.Query(), "all")
	switch {
	case err != nil:
	case all && !p.Role.Allows(klaxon.RoleAdmin):
		err = klaxon.Errorf(klaxon.EFORBIDDEN, "listing everyone's tokens needs the admin role")
	case !all && p.AccountID == 0:
		err = errConfigToken
	}
	if err != nil {
		writeError(w, err)
		return
	}
	owner, owners := p.AccountID, map[int64]string{p.AccountID: p.Name}
	if all {
		owner = 0
		accounts, err := s.Auth.Accounts(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range accounts {
			owners[a.ID] = a.Username
		}
	}
	tokens, err := s.Auth.Tokens(ctx, owner)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := TokenList{Tokens: []Token{}}
	for _, t := range tokens {
		out.Tokens = append(out.Tokens, Token{APIToken: *t, Username: owners[t.AccountID]})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if p.AccountID == 0 {
		writeError(w, errConfigToken)
		return
	}
	var req TokenRequest
	if err := s.decodeBody(w, r, &req, "name and expires_in"); err != nil {
		writeError(w, err)
		return
	}
	ttl, err := parseExpiresIn(req.ExpiresIn)
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Auth.Account(r.Context(), p.AccountID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.issueToken(w, r, a, req.Name, ttl)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if p.AccountID == 0 && !p.Role.Allows(klaxon.RoleAdmin) {
		writeError(w, errConfigToken)
		return
	}
	id, err := pathID(r, "id", "token ID")
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.Auth.RevokeToken(r.Context(), p, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	accounts, err := s.Auth.Accounts(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := UserList{Users: []User{}}
	for _, a := range accounts {
		out.Users = append(out.Users, userOf(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	if err := s.decodeBody(w, r, &req, "username, name, email, role (viewer, responder or admin) and password"); err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Auth.AddAccount(r.Context(), auth.NewAccount{
		Username: req.Username, Name: req.Name, Email: req.Email, Role: req.Role, Password: req.Password,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, userOf(a))
}

func (s *Server) changeUser(w http.ResponseWriter, r *http.Request) {
	var req UserChange
	if err := s.decodeBody(w, r, &req, "role, name, password or disabled"); err != nil {
		writeError(w, err)
		return
	}
	if req == (UserChange{}) {
		writeError(w, klaxon.Errorf(klaxon.EINVALID, "body: nothing to change; give role, name, password or disabled"))
		return
	}
	a, err := s.Auth.UpdateAccount(r.Context(), r.PathValue("username"), auth.AccountChange{
		Role: req.Role, Name: req.Name, Password: req.Password, Disabled: req.Disabled,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userOf(a))
}

// parseExpiresIn reads how long a token lasts: a Go duration (720h) or
// whole days (90d); "" is forever.
func parseExpiresIn(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(v)
	}
	if err != nil || d <= 0 {
		return 0, klaxon.Errorf(klaxon.EINVALID, "expires_in: got %q, want a positive duration such as 90d or 720h", v)
	}
	return d, nil
}
