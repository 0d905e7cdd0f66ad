package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/klaxon-oss/klaxon"
)

const (
	idpClientID     = "klaxon"
	idpClientSecret = "klaxon-client-secret"
	klaxonURL       = "https://klaxon.example.org"
)

// fakeIdP is an OpenID provider with one client, which signs in whoever
// the test says.
type fakeIdP struct {
	t     *testing.T
	srv   *httptest.Server
	key   *rsa.PrivateKey
	clock *clock

	mu     sync.Mutex
	down   bool
	claims map[string]any              // of the next ID token; iss, aud, exp, iat, nonce are added unless set
	codes  map[string]url.Values       // code → the /authorize request
	tweak  func(claims map[string]any) // changes the next ID token after the defaults
}

// idpKey signs every fake provider's ID tokens; one key, as making RSA
// keys is slow.
var idpKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newFakeIdP(t *testing.T, c *clock) *fakeIdP {
	key, err := idpKey()
	if err != nil {
		t.Fatal(err)
	}
	idp := &fakeIdP{t: t, key: key, clock: c, codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", idp.discovery)
	mux.HandleFunc("GET /jwks", idp.jwks)
	mux.HandleFunc("GET /authorize", idp.authorize)
	mux.HandleFunc("POST /token", idp.token)
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

// as makes the next sign-in be this person.
func (idp *fakeIdP) as(sub, username string, groups ...string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.claims = map[string]any{"sub": sub, "preferred_username": username, "email": username + "@example.org", "name": strings.ToUpper(username[:1]) + username[1:], "groups": groups}
	idp.tweak = nil
}

func (idp *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	idp.mu.Lock()
	down := idp.down
	idp.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                idp.srv.URL,
		"authorization_endpoint":                idp.srv.URL + "/authorize",
		"token_endpoint":                        idp.srv.URL + "/token",
		"jwks_uri":                              idp.srv.URL + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (idp *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &idp.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (idp *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != idpClientID, q.Get("response_type") != "code",
		q.Get("redirect_uri") != klaxonURL+OIDCCallbackPath,
		q.Get("code_challenge_method") != "S256", q.Get("code_challenge") == "",
		q.Get("nonce") == "", q.Get("state") == "",
		!strings.Contains(" "+q.Get("scope")+" ", " openid "):
		idp.t.Errorf("authorize: bad request %v", q)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code := newSecret()
	idp.mu.Lock()
	idp.codes[code] = q
	idp.mu.Unlock()
	back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back, http.StatusFound)
}

func (idp *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	if id == "" {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	idp.mu.Lock()
	req, ok := idp.codes[r.PostFormValue("code")]
	delete(idp.codes, r.PostFormValue("code"))
	claims, tweak := map[string]any{}, idp.tweak
	for k, v := range idp.claims {
		claims[k] = v
	}
	idp.mu.Unlock()
	verifier := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != idpClientID || secret != idpClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !ok || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != req.Get("redirect_uri"):
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	case base64.RawURLEncoding.EncodeToString(verifier[:]) != req.Get("code_challenge"):
		http.Error(w, `{"error":"invalid_grant","error_description":"PKCE verifier does not match"}`, http.StatusBadRequest)
		return
	}
	now := idp.clock.now()
	claims["iss"] = idp.srv.URL
	claims["aud"] = idpClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(5 * time.Minute).Unix()
	claims["nonce"] = req.Get("nonce")
	if tweak != nil {
		tweak(claims)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at-" + newSecret(), "token_type": "Bearer", "expires_in": 300, "id_token": idp.sign(claims),
	})
}

func (idp *fakeIdP) sign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: idp.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		idp.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		idp.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		idp.t.Fatal(err)
	}
	return s
}

type ssoFixture struct {
	*fixture
	idp *fakeIdP
}

func newSSOFixture(t *testing.T, defaultRole klaxon.Role) *ssoFixture {
	f := newFixture(t, Options{BaseURL: klaxonURL})
	idp := newFakeIdP(t, f.clock)
	svc, err := New(f.store, Options{
		BaseURL: klaxonURL,
		Now:     f.clock.now,
		OIDC: &OIDC{
			Issuer:          idp.srv.URL,
			ClientID:        idpClientID,
			ClientSecret:    idpClientSecret,
			Scopes:          []string{"openid", "profile", "email"},
			AdminGroups:     []string{"sre-leads"},
			ResponderGroups: []string{"sre", "oncall"},
			DefaultRole:     defaultRole,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return &ssoFixture{fixture: f, idp: idp}
}

// signIn runs the browser's part: start at Klaxon, go to the provider,
// come back to the callback with the flow cookie. It returns what
// OIDCFinish returned and the session cookie it set.
func (f *ssoFixture) signIn(t *testing.T, next string) (string, *http.Cookie, error) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := f.svc.OIDCStart(rec, httptest.NewRequest("GET", klaxonURL+"/login/oidc", nil), next); err != nil {
		return "", nil, err
	}
	flow := rec.Result().Cookies()
	if rec.Code != http.StatusFound || len(flow) != 1 || !flow[0].HttpOnly || flow[0].Path != OIDCCallbackPath {
		t.Fatalf("OIDCStart: %d with cookies %v, want a redirect and one HttpOnly cookie for the callback", rec.Code, flow)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back := httptest.NewRequest("GET", resp.Header.Get("Location"), nil)
	back.AddCookie(&http.Cookie{Name: flow[0].Name, Value: flow[0].Value})
	rec = httptest.NewRecorder()
	got, err := f.svc.OIDCFinish(rec, back)
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return got, c, err
		}
	}
	return got, nil, err
}

func TestOIDCSignIn(t *testing.T) {
	f := newSSOFixture(t, 0)
	ctx := context.Background()
	f.idp.as("u-1", "alice", "sre-leads", "everyone")
	next, session, err := f.signIn(t, "/incidents/4?tab=timeline")
	if err != nil {
		t.Fatal(err)
	}
	if next != "/incidents/4?tab=timeline" || session == nil {
		t.Errorf("OIDCFinish: next %q, session %v; want back to the incident, signed in", next, session)
	}
	p, err := f.svc.FromSession(requestWith("GET", session))
	if err != nil || p.Name != "alice" || p.Role != klaxon.RoleAdmin {
		t.Fatalf("session: %+v, %v; want alice the admin", p, err)
	}
	a, _ := f.store.Account(ctx, "alice")
	if a.OIDCSubject != f.idp.srv.URL+" u-1" || a.PasswordHash != "" || a.Email != "alice@example.org" || a.Name != "Alice" || !a.LastLoginAt.Equal(t0) {
		t.Errorf("account: %+v, want alice made from her ID token", a)
	}

	// Out of the admin group: the next sign-in says so. Renamed at the
	// provider: still the same account, found by subject.
	f.clock.advance(time.Hour)
	f.idp.as("u-1", "alice.l", "oncall")
	if _, session, err = f.signIn(t, "https://evil.example.com/"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.FromSession(requestWith("GET", session))
	if p.Name != "alice" || p.Role != klaxon.RoleResponder {
		t.Errorf("second sign-in: %+v, want alice, now a responder", p)
	}
	if list, _ := f.svc.Accounts(ctx); len(list) != 1 {
		t.Errorf("accounts: %d, want alice's only", len(list))
	}
}

func TestOIDCNextStaysLocal(t *testing.T) {
	f := newSSOFixture(t, klaxon.RoleViewer)
	for _, next := range []string{"https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", ""} {
		f.idp.as("u-1", "alice")
		got, _, err := f.signIn(t, next)
		if err != nil || got != "/" {
			t.Errorf("next %q: got %q, %v; want /", next, got, err)
		}
	}
}

func TestOIDCRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(claims map[string]any)
		code  string
		says  string
	}{
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "someone else's" }, klaxon.EUNAUTHORIZED, "nonce"},
		{"wrong audience", func(c map[string]any) { c["aud"] = "another-app" }, klaxon.EUNAUTHORIZED, "audience"},
		{"wrong issuer", func(c map[string]any) { c["iss"] = "https://evil.example.com" }, klaxon.EUNAUTHORIZED, "different provider"},
		{"expired", func(c map[string]any) { c["exp"] = t0.Add(-time.Minute).Unix() }, klaxon.EUNAUTHORIZED, "expired"},
		{"unmapped group", func(c map[string]any) { c["groups"] = []string{"marketing"} }, klaxon.EFORBIDDEN, "none of your groups"},
		{"no username", func(c map[string]any) { delete(c, "preferred_username"); delete(c, "email") }, klaxon.EUNAUTHORIZED, "nothing to name you by"},
		{"unusable username", func(c map[string]any) { c["preferred_username"] = "Alice Liddell" }, klaxon.EUNAUTHORIZED, "not a usable username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSSOFixture(t, 0)
			f.idp.as("u-1", "alice", "sre")
			f.idp.tweak = tc.tweak
			_, session, err := f.signIn(t, "/")
			wantCode(t, tc.name, err, tc.code)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: got %v, want it to say %q", tc.name, err, tc.says)
			}
			if session != nil {
				t.Errorf("%s: a session was started", tc.name)
			}
			if list, _ := f.svc.Accounts(context.Background()); len(list) != 0 {
				t.Errorf("%s: %d accounts made, want none", tc.name, len(list))
			}
		})
	}
}

func TestOIDCDefaultRole(t *testing.T) {
	f := newSSOFixture(t, klaxon.RoleViewer)
	f.idp.as("u-2", "bob", "marketing")
	_, session, err := f.signIn(t, "/")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := f.svc.FromSession(requestWith("GET", session)); p == nil || p.Role != klaxon.RoleViewer {
		t.Errorf("no mapped group, default viewer: got %+v", p)
	}
}

func TestOIDCCallbackChecks(t *testing.T) {
	f := newSSOFixture(t, klaxon.RoleViewer)
	rec := httptest.NewRecorder()
	if err := f.svc.OIDCStart(rec, httptest.NewRequest("GET", "/login/oidc", nil), "/"); err != nil {
		t.Fatal(err)
	}
	flow := rec.Result().Cookies()[0]
	finish := func(query string, c *http.Cookie) error {
		r := httptest.NewRequest("GET", klaxonURL+OIDCCallbackPath+"?"+query, nil)
		if c != nil {
			r.AddCookie(c)
		}
		_, err := f.svc.OIDCFinish(httptest.NewRecorder(), r)
		return err
	}
	tampered := *flow
	tampered.Value = strings.Replace(flow.Value, ".", "x.", 1)
	for _, tc := range []struct {
		name   string
		query  string
		cookie *http.Cookie
	}{
		{"no flow cookie", "code=c&state=s", nil},
		{"tampered flow cookie", "code=c&state=s", &tampered},
		{"another state", "code=c&state=s", flow},
		{"provider refused", "error=access_denied&error_description=no", flow},
	} {
		wantCode(t, tc.name, finish(tc.query, tc.cookie), klaxon.EUNAUTHORIZED)
	}
	f.clock.advance(oidcFlowTTL)
	wantCode(t, "flow too old", finish("code=c&state=s", flow), klaxon.EUNAUTHORIZED)
}

func TestOIDCLinksOnlyAccountsMadeForIt(t *testing.T) {
	f := newSSOFixture(t, klaxon.RoleViewer)
	ctx := context.Background()
	if _, err := f.svc.AddAccount(ctx, NewAccount{Username: "carol", Role: klaxon.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	f.add(t, "root", klaxon.RoleAdmin) // has a password

	f.idp.as("u-3", "carol", "sre")
	if _, _, err := f.signIn(t, "/"); err != nil {
		t.Fatalf("carol, made without a password for single sign-on: %v", err)
	}
	carol, _ := f.store.Account(ctx, "carol")
	if carol.OIDCSubject != f.idp.srv.URL+" u-3" || carol.Role != klaxon.RoleResponder {
		t.Errorf("carol: %+v, want linked to u-3, with her groups' role", carol)
	}

	f.idp.as("u-4", "root", "sre-leads")
	_, _, err := f.signIn(t, "/")
	wantCode(t, "a provider user named like a password account", err, klaxon.ECONFLICT)
	if root, _ := f.store.Account(ctx, "root"); root.OIDCSubject != "" {
		t.Errorf("root was linked to %q", root.OIDCSubject)
	}
}

func TestOIDCDiscoveryIsLazy(t *testing.T) {
	f := newSSOFixture(t, klaxon.RoleViewer)
	f.idp.mu.Lock()
	f.idp.down = true
	f.idp.mu.Unlock()
	if !f.svc.OIDCEnabled() {
		t.Fatal("OIDCEnabled: false")
	}
	err := f.svc.OIDCStart(httptest.NewRecorder(), httptest.NewRequest("GET", "/login/oidc", nil), "/")
	if err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("provider down: got %v, want single sign-on unavailable", err)
	}
	f.idp.mu.Lock()
	f.idp.down = false
	f.idp.mu.Unlock()
	f.idp.as("u-1", "alice")
	if _, _, err := f.signIn(t, "/"); err != nil {
		t.Errorf("provider back: %v", err)
	}

	off := newFixture(t, Options{})
	if off.svc.OIDCEnabled() {
		t.Error("OIDCEnabled without OIDC options")
	}
	wantCode(t, "OIDCStart without OIDC", off.svc.OIDCStart(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), "/"), klaxon.ENOTFOUND)
}
