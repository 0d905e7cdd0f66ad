package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// signIn starts a session for a and returns its cookie.
func (f *fixture) signIn(t *testing.T, a *klaxon.Account) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := f.svc.StartSession(context.Background(), rec, a); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != SessionCookie {
		t.Fatalf("StartSession set %v, want one %s cookie", cookies, SessionCookie)
	}
	return cookies[0]
}

func requestWith(method string, c *http.Cookie) *http.Request {
	r := httptest.NewRequest(method, "http://klaxon.example.org/alerts/1/ack", nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		baseURL string
		secure  bool
	}{
		{"https://klaxon.example.org", true},
		{"http://127.0.0.1:8080", false},
	} {
		f := newFixture(t, Options{BaseURL: tc.baseURL, SessionTTL: 2 * time.Hour})
		c := f.signIn(t, f.add(t, "alice", klaxon.RoleViewer))
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/" || c.MaxAge != 7200 {
			t.Errorf("%s: cookie %+v, want HttpOnly, SameSite=Lax, Secure=%v, Path=/, MaxAge=7200", tc.baseURL, c, tc.secure)
		}
		if len(c.Value) != 43 {
			t.Errorf("cookie value %q: want 32 random bytes in base64url (43 characters)", c.Value)
		}
		if _, err := f.store.SessionByHash(context.Background(), []byte(c.Value)); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			t.Errorf("the cookie's value itself is stored (err %v); only its hash should be", err)
		}
	}
}

func TestFromSession(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleResponder)
	c := f.signIn(t, alice)

	p, err := f.svc.FromSession(requestWith("GET", c))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" || p.Role != klaxon.RoleResponder || p.AccountID != alice.ID || len(p.CSRF) != 43 {
		t.Errorf("principal: got %+v, want alice, responder, her account, a CSRF token", p)
	}
	again, _ := f.svc.FromSession(requestWith("GET", c))
	other, _ := f.svc.FromSession(requestWith("GET", f.signIn(t, alice)))
	if again.CSRF != p.CSRF || other.CSRF == p.CSRF {
		t.Error("the CSRF token is not one per session")
	}

	for _, tc := range []struct {
		name string
		c    *http.Cookie
	}{
		{"no cookie", nil},
		{"empty cookie", &http.Cookie{Name: SessionCookie}},
		{"unknown cookie", &http.Cookie{Name: SessionCookie, Value: newSecret()}},
	} {
		_, err := f.svc.FromSession(requestWith("GET", tc.c))
		wantCode(t, tc.name, err, klaxon.EUNAUTHORIZED)
	}

	disabled := true
	if _, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FromSession(requestWith("GET", c))
	wantCode(t, "session of a disabled account", err, klaxon.EUNAUTHORIZED)
}

func TestSessionExpires(t *testing.T) {
	f := newFixture(t, Options{SessionTTL: time.Hour})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleViewer)
	old := f.signIn(t, alice)
	f.clock.advance(59 * time.Minute)
	if _, err := f.svc.FromSession(requestWith("GET", old)); err != nil {
		t.Errorf("59 minutes into an hour's session: %v", err)
	}
	f.clock.advance(time.Minute)
	_, err := f.svc.FromSession(requestWith("GET", old))
	wantCode(t, "expired session", err, klaxon.EUNAUTHORIZED)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired session: got %v, want it to say so", err)
	}
	if _, err := f.store.SessionByHash(ctx, hashSecret(old.Value)); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("expired session still stored (err %v)", err)
	}

	// Starting a session sweeps the expired ones nobody came back with.
	forgotten := f.signIn(t, alice)
	f.clock.advance(2 * time.Hour)
	f.signIn(t, alice)
	if _, err := f.store.SessionByHash(ctx, hashSecret(forgotten.Value)); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("an expired session survived a new sign-in (err %v)", err)
	}
}

func TestEndSessionAndSignOutEverywhere(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleViewer)
	c := f.signIn(t, alice)
	rec := httptest.NewRecorder()
	if err := f.svc.EndSession(ctx, rec, requestWith("POST", c)); err != nil {
		t.Fatal(err)
	}
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("EndSession set %v, want the session cookie deleted", cs)
	}
	_, err := f.svc.FromSession(requestWith("GET", c))
	wantCode(t, "ended session", err, klaxon.EUNAUTHORIZED)

	laptop, phone := f.signIn(t, alice), f.signIn(t, alice)
	password := "a new password for alice"
	if _, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Password: &password}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Cookie{laptop, phone} {
		_, err := f.svc.FromSession(requestWith("GET", c))
		wantCode(t, "session after a password change", err, klaxon.EUNAUTHORIZED)
	}
}

func TestCheckCSRF(t *testing.T) {
	f := newFixture(t, Options{BaseURL: "https://klaxon.example.org"})
	c := f.signIn(t, f.add(t, "alice", klaxon.RoleResponder))
	p, err := f.svc.FromSession(requestWith("GET", c))
	if err != nil {
		t.Fatal(err)
	}
	form := func(token string) *http.Request {
		r := httptest.NewRequest("POST", "http://klaxon.example.org/alerts/1/ack", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	withHeader := func(r *http.Request, k, v string) *http.Request {
		r.Header.Set(k, v)
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		p    *Principal
		ok   bool
	}{
		{"GET needs no token", httptest.NewRequest("GET", "/alerts", nil), p, true},
		{"form with the token", form(p.CSRF), p, true},
		{"header with the token", withHeader(httptest.NewRequest("POST", "/alerts/1/ack", nil), "X-CSRF-Token", p.CSRF), p, true},
		{"no token", httptest.NewRequest("POST", "/alerts/1/ack", nil), p, false},
		{"wrong token", form(csrfToken(newSecret())), p, false},
		{"same origin", withHeader(form(p.CSRF), "Origin", "http://klaxon.example.org"), p, true},
		{"Klaxon's URL as origin", withHeader(form(p.CSRF), "Origin", "https://klaxon.example.org"), p, true},
		{"another origin", withHeader(form(p.CSRF), "Origin", "https://evil.example.com"), p, false},
		{"null origin", withHeader(form(p.CSRF), "Origin", "null"), p, false},
		{"referer from another host", withHeader(form(p.CSRF), "Referer", "https://evil.example.com/page"), p, false},
		{"referer from here", withHeader(form(p.CSRF), "Referer", "http://klaxon.example.org/alerts"), p, true},
		{"bearer principal", httptest.NewRequest("DELETE", "/api/v1/tokens/1", nil), &Principal{Name: "ops-cli", Role: klaxon.RoleAdmin}, true},
	} {
		err := f.svc.CheckCSRF(tc.r, tc.p)
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok {
			wantCode(t, tc.name, err, klaxon.EFORBIDDEN)
		}
	}
}
