package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// Configured tokens of each role; apiToken (ops-cli) is an admin.
const (
	viewerToken    = "viewer-token-0123456789"
	responderToken = "responder-token-0123456789"
)

// testAuth authenticates the test servers' callers: the configured
// tokens of each role, and accounts' tokens from store.
func testAuth(t *testing.T, store klaxon.Store) *auth.Service {
	t.Helper()
	svc, err := auth.New(store, auth.Options{
		ConfigTokens: []auth.ConfigToken{
			{Name: "ops-cli", Token: apiToken, Role: klaxon.RoleAdmin},
			{Name: "dashboard", Token: viewerToken, Role: klaxon.RoleViewer},
			{Name: "pager", Token: responderToken, Role: klaxon.RoleResponder},
		},
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

type accountServer struct {
	URL    string
	auth   *auth.Service
	alerts *alerting.Service
}

func startAccounts(t *testing.T) *accountServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := &httpapi.Server{
		Alerts: alerting.New(store, alerting.Options{}),
		Tokens: httpapi.NewTokens(),
		Auth:   testAuth(t, store),
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &accountServer{URL: ts.URL, auth: srv.Auth, alerts: srv.Alerts}
}

func (s *accountServer) client(token string) *httpapi.Client {
	return &httpapi.Client{BaseURL: s.URL, Token: token}
}

func (s *accountServer) fire(t *testing.T, key string) int64 {
	t.Helper()
	res, err := s.alerts.Ingest(context.Background(), "test", []klaxon.Signal{{
		Key: key, Action: klaxon.ActionTrigger, Severity: "critical", Summary: "disk full", Labels: map[string]string{"alertname": "DiskFull"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].AlertID
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := klaxon.ErrorCode(err); got != code {
		t.Errorf("%s: got %v (code %q), want code %q", what, err, got, code)
	}
}

func TestRoles(t *testing.T) {
	s := startAccounts(t)
	ctx := context.Background()
	viewer, responder, admin := s.client(viewerToken), s.client(responderToken), s.client(apiToken)
	id := s.fire(t, "disk")

	if _, err := viewer.Alerts(ctx, "", 0); err != nil {
		t.Errorf("viewer listing alerts: %v", err)
	}
	_, err := viewer.Change(ctx, id, "ack")
	wantCode(t, "viewer acking", err, klaxon.EFORBIDDEN)
	if err == nil || !strings.Contains(err.Error(), "needs the responder role; dashboard is a viewer") {
		t.Errorf("viewer acking: got %v, want it to say what is needed", err)
	}
	_, err = viewer.DeclareIncident(ctx, httpapi.DeclareRequest{Service: "db", Summary: "DB down"})
	wantCode(t, "viewer declaring an incident", err, klaxon.EFORBIDDEN)
	a, err := responder.Change(ctx, id, "ack")
	if err != nil || a.AckedBy != "pager" {
		t.Errorf("responder acking: got %+v, %v, want acked by pager", a, err)
	}

	_, err = responder.AddUser(ctx, httpapi.UserRequest{Username: "alice", Role: klaxon.RoleViewer})
	wantCode(t, "responder adding a user", err, klaxon.EFORBIDDEN)
	_, err = viewer.Users(ctx)
	wantCode(t, "viewer listing users", err, klaxon.EFORBIDDEN)
	if _, err := admin.AddUser(ctx, httpapi.UserRequest{Username: "alice", Role: klaxon.RoleViewer}); err != nil {
		t.Errorf("admin adding a user: %v", err)
	}

	_, err = s.client("").Alerts(ctx, "", 0)
	wantCode(t, "no token", err, klaxon.EUNAUTHORIZED)
	_, err = s.client("klx_nosuchtoken").Alerts(ctx, "", 0)
	wantCode(t, "unknown token", err, klaxon.EUNAUTHORIZED)
}

// TestSessionIsNotAnAPICredential: the API takes bearer tokens only, so a
// page elsewhere cannot ride a signed-in browser's cookie into it.
func TestSessionIsNotAnAPICredential(t *testing.T) {
	s := startAccounts(t)
	ctx := context.Background()
	a, err := s.auth.AddAccount(ctx, auth.NewAccount{Username: "alice", Role: klaxon.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := s.auth.StartSession(ctx, rec, a); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/me", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API call with a session cookie: got %d, want 401", resp.StatusCode)
	}
}

func TestLoginAPI(t *testing.T) {
	s := startAccounts(t)
	ctx := context.Background()
	admin := s.client(apiToken)
	if _, err := admin.AddUser(ctx, httpapi.UserRequest{Username: "alice", Name: "Alice", Role: klaxon.RoleResponder, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	anon := s.client("")
	tok, err := anon.Login(ctx, httpapi.LoginRequest{Username: "alice", Password: "correct horse battery", TokenName: "laptop", ExpiresIn: "90d"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, auth.TokenPrefix) || tok.Hint != tok.Token[:8] || tok.Username != "alice" || tok.Role != klaxon.RoleResponder || tok.ExpiresAt.IsZero() {
		t.Errorf("login: got %+v, want a klx_ token of alice the responder that expires", tok)
	}
	me, err := s.client(tok.Token).Me(ctx)
	if err != nil || me.Name != "alice" || me.Role != klaxon.RoleResponder || me.Account == nil || me.Account.Name != "Alice" {
		t.Errorf("me with the new token: got %+v, %v", me, err)
	}
	me, err = admin.Me(ctx)
	if err != nil || me.Name != "ops-cli" || me.Role != klaxon.RoleAdmin || me.Account != nil {
		t.Errorf("me with a configured token: got %+v, %v", me, err)
	}

	for _, tc := range []struct {
		name string
		req  httpapi.LoginRequest
		code string
	}{
		{"no token name", httpapi.LoginRequest{Username: "alice", Password: "correct horse battery"}, klaxon.EINVALID},
		{"bad expiry", httpapi.LoginRequest{Username: "alice", Password: "correct horse battery", TokenName: "x", ExpiresIn: "soon"}, klaxon.EINVALID},
		{"wrong password", httpapi.LoginRequest{Username: "alice", Password: "wrong", TokenName: "x"}, klaxon.EUNAUTHORIZED},
		{"unknown user", httpapi.LoginRequest{Username: "bob", Password: "wrong", TokenName: "x"}, klaxon.EUNAUTHORIZED},
	} {
		_, err := anon.Login(ctx, tc.req)
		wantCode(t, tc.name, err, tc.code)
	}
	status, body, _ := call(t, http.MethodPost, s.URL+"/api/v1/login", `{"username":"alice","password":"x","token_name":"x","remember":true}`)
	if status != http.StatusBadRequest || !strings.Contains(body, "remember") {
		t.Errorf("unknown field: got %d %s, want 400 naming it", status, body)
	}
}

func TestLoginAPIRateLimited(t *testing.T) {
	s := startAccounts(t)
	body := `{"username":"alice","password":"wrong password","token_name":"x"}`
	for range 5 {
		call(t, http.MethodPost, s.URL+"/api/v1/login", body)
	}
	status, resp, header := call(t, http.MethodPost, s.URL+"/api/v1/login", body)
	if status != http.StatusTooManyRequests || header.Get("Retry-After") != "900" || !strings.Contains(resp, "too many failed sign-ins") {
		t.Errorf("6th failure: got %d, Retry-After %q, %s; want 429 after 900s", status, header.Get("Retry-After"), resp)
	}
}

func TestTokensAPI(t *testing.T) {
	s := startAccounts(t)
	ctx := context.Background()
	admin := s.client(apiToken)
	login := func(username string, role klaxon.Role) *httpapi.Client {
		if _, err := admin.AddUser(ctx, httpapi.UserRequest{Username: username, Role: role, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		tok, err := s.client("").Login(ctx, httpapi.LoginRequest{Username: username, Password: "correct horse battery", TokenName: "login"})
		if err != nil {
			t.Fatal(err)
		}
		return s.client(tok.Token)
	}
	alice, bob := login("alice", klaxon.RoleViewer), login("bob", klaxon.RoleResponder)

	ci, err := alice.CreateToken(ctx, httpapi.TokenRequest{Name: "ci", ExpiresIn: "24h"})
	if err != nil || ci.Name != "ci" || ci.Username != "alice" {
		t.Fatalf("create: got %+v, %v", ci, err)
	}
	list, err := alice.Tokens(ctx, false)
	if err != nil || len(list.Tokens) != 2 || list.Tokens[1].Name != "ci" || list.Tokens[1].Username != "alice" || list.Tokens[1].Hint != ci.Hint {
		t.Errorf("alice's tokens: got %+v, %v, want login and ci", list, err)
	}
	_, err = alice.Tokens(ctx, true)
	wantCode(t, "a viewer listing everyone's tokens", err, klaxon.EFORBIDDEN)
	all, err := admin.Tokens(ctx, true)
	if err != nil || len(all.Tokens) != 3 || all.Tokens[2].Username != "alice" || all.Tokens[1].Username != "bob" {
		t.Errorf("everyone's tokens: got %+v, %v, want alice's two and bob's, with usernames", all, err)
	}

	wantCode(t, "bob revoking alice's token", bob.RevokeToken(ctx, ci.ID), klaxon.ENOTFOUND)
	if err := alice.RevokeToken(ctx, ci.ID); err != nil {
		t.Errorf("alice revoking her token: %v", err)
	}
	_, err = s.client(ci.Token).Me(ctx)
	wantCode(t, "revoked token", err, klaxon.EUNAUTHORIZED)
	if err := admin.RevokeToken(ctx, all.Tokens[1].ID); err != nil {
		t.Errorf("admin revoking bob's token: %v", err)
	}
	_, err = bob.Me(ctx)
	wantCode(t, "bob after his token was revoked", err, klaxon.EUNAUTHORIZED)

	for what, err := range map[string]error{
		"configured token listing its tokens": func() error { _, err := admin.Tokens(ctx, false); return err }(),
		"configured token making a token":     func() error { _, err := admin.CreateToken(ctx, httpapi.TokenRequest{Name: "x"}); return err }(),
		"configured viewer revoking a token":  s.client(viewerToken).RevokeToken(ctx, 1),
	} {
		wantCode(t, what, err, klaxon.EINVALID)
		if err == nil || !strings.Contains(err.Error(), "sign in as a person") {
			t.Errorf("%s: got %v, want it to say sign in as a person", what, err)
		}
	}
	_, err = alice.CreateToken(ctx, httpapi.TokenRequest{Name: ""})
	wantCode(t, "token without a name", err, klaxon.EINVALID)
}

func TestUsersAPI(t *testing.T) {
	s := startAccounts(t)
	ctx := context.Background()
	admin := s.client(apiToken)
	a, err := admin.AddUser(ctx, httpapi.UserRequest{Username: "alice", Name: "Alice", Email: "alice@example.org", Role: klaxon.RoleResponder, Password: "correct horse battery"})
	if err != nil || a.ID == 0 || a.Role != klaxon.RoleResponder {
		t.Fatalf("add: got %+v, %v", a, err)
	}
	tok, err := s.client("").Login(ctx, httpapi.LoginRequest{Username: "alice", Password: "correct horse battery", TokenName: "laptop"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, body, says string }{
		{"unknown role", `{"username":"bob","role":"boss"}`, "unknown role"},
		{"no role", `{"username":"bob"}`, "role: missing"},
		{"short password", `{"username":"bob","role":"viewer","password":"short"}`, "at least 12"},
		{"unknown field", `{"username":"bob","role":"viewer","groups":["x"]}`, "groups"},
		{"username taken", `{"username":"ALICE","role":"viewer"}`, "already taken"},
	} {
		status, body, _ := call(t, http.MethodPost, s.URL+"/api/v1/users", tc.body)
		if status/100 != 4 || !strings.Contains(body, tc.says) {
			t.Errorf("%s: got %d %s, want a 4xx saying %q", tc.name, status, body, tc.says)
		}
	}
	if status, body, _ := call(t, http.MethodPatch, s.URL+"/api/v1/users/alice", `{}`); status != http.StatusBadRequest || !strings.Contains(body, "nothing to change") {
		t.Errorf("empty change: got %d %s", status, body)
	}
	_, err = admin.ChangeUser(ctx, "mallory", httpapi.UserChange{Name: new("M")})
	wantCode(t, "changing an unknown user", err, klaxon.ENOTFOUND)

	role := klaxon.RoleAdmin
	if a, err = admin.ChangeUser(ctx, "alice", httpapi.UserChange{Role: &role}); err != nil || a.Role != klaxon.RoleAdmin {
		t.Errorf("promote: got %+v, %v", a, err)
	}
	if me, _ := s.client(tok.Token).Me(ctx); me == nil || me.Role != klaxon.RoleAdmin {
		t.Errorf("alice's token after her promotion: %+v, want admin at once", me)
	}
	if a, err = admin.ChangeUser(ctx, "alice", httpapi.UserChange{Disabled: new(true)}); err != nil || !a.Disabled() {
		t.Errorf("disable: got %+v, %v", a, err)
	}
	_, err = s.client(tok.Token).Me(ctx)
	wantCode(t, "disabled alice's token", err, klaxon.EUNAUTHORIZED)

	list, err := admin.Users(ctx)
	if err != nil || len(list.Users) != 1 || list.Users[0].Username != "alice" {
		t.Errorf("users: got %+v, %v", list, err)
	}
	if status, body, _ := call(t, http.MethodGet, s.URL+"/api/v1/users", ""); strings.Contains(body, "argon2") || status != http.StatusOK {
		t.Errorf("users: got %d %s; password hashes must never leave the server", status, body)
	}
}
