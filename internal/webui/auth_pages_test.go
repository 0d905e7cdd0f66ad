package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
)

func TestSignIn(t *testing.T) {
	tu := newTestUI(t)
	tu.addAccount("alice", klaxon.RoleResponder)

	t.Run("pages need a session", func(t *testing.T) {
		resp, _ := tu.browser().send(http.MethodGet, "/alerts?state=open", nil, false)
		if got, want := resp.Header.Get("Location"), "/login?next="+url.QueryEscape("/alerts?state=open"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("GET /alerts signed out: %d to %q, want 303 to %q", resp.StatusCode, got, want)
		}
	})
	t.Run("right password", func(t *testing.T) {
		resp, body := tu.browser().login("alice", testPassword, "")
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
			t.Fatalf("signed in to %d %s, want 200 /", resp.StatusCode, resp.Request.URL)
		}
		if !strings.Contains(body, `href="/account"`) || !strings.Contains(body, ">alice</a>") {
			t.Errorf("the Now page does not show who is signed in:\n%s", body)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		resp, body := tu.browser().login("alice", "not it", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
		if !strings.Contains(body, `<form id="login"`) || !strings.Contains(body, `class="error"`) {
			t.Errorf("want the form again with a message:\n%s", body)
		}
		if !strings.Contains(body, `value="alice"`) {
			t.Errorf("the username was not kept in the form:\n%s", body)
		}
	})
	t.Run("next is honoured", func(t *testing.T) {
		resp, _ := tu.browser().login("alice", testPassword, "/alerts?state=firing")
		if got := resp.Request.URL.RequestURI(); got != "/alerts?state=firing" {
			t.Errorf("landed on %s, want /alerts?state=firing", got)
		}
	})
	for _, evil := range []string{"//evil.example.org/", "https://evil.example.org/", `/\evil.example.org`, "/\t/evil.example.org", "/\n/evil.example.org"} {
		t.Run("next "+evil+" is refused", func(t *testing.T) {
			b := tu.browser()
			_, page := b.get("/login?next=" + url.QueryEscape(evil))
			form := url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {csrfToken(t, page)}, "next": {evil}}
			resp, _ := b.send(http.MethodPost, "/login", form, false)
			if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != "/" {
				t.Errorf("redirected %d to %q, want 303 to /", resp.StatusCode, got)
			}
		})
	}
	t.Run("a form without its token is refused", func(t *testing.T) {
		// What a page on another site could post: no login cookie.
		form := url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {"forged"}}
		resp, _ := tu.browser().send(http.MethodPost, "/login", form, false)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("sign out", func(t *testing.T) {
		b := tu.signInAs("alice", testPassword)
		resp, body := b.post("/logout", nil)
		if resp.Request.URL.Path != "/login" || !strings.Contains(body, "Signed out.") {
			t.Errorf("after signing out: %s, want /login saying Signed out.:\n%s", resp.Request.URL, body)
		}
		resp, _ = b.send(http.MethodGet, "/", nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET / after signing out: %d, want 303 to /login", resp.StatusCode)
		}
	})
	// Last: it locks alice out.
	t.Run("guessing is rate limited", func(t *testing.T) {
		b := tu.browser()
		for range 30 {
			resp, body := b.login("alice", "guess", "")
			if resp.StatusCode == http.StatusTooManyRequests {
				if !strings.Contains(body, `<form id="login"`) || !strings.Contains(body, `class="error"`) {
					t.Errorf("rate limited: want the form with a message:\n%s", body)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a wrong password: status %d, want 401 until limited", resp.StatusCode)
			}
		}
		t.Error("30 wrong passwords in a row were never refused with 429")
	})
}

func TestAccountTokens(t *testing.T) {
	tu := newTestUI(t)
	b := tu.signIn(klaxon.RoleViewer)

	resp, body := b.post("/account/tokens", url.Values{"name": {"laptop <CLI>"}, "expires": {"30d"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create token: status %d:\n%s", resp.StatusCode, body)
	}
	tokens, err := tu.UI.Auth.Tokens(context.Background(), 0)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens stored: %v, %v; want 1", tokens, err)
	}
	once := between(body, `<code class="token">`, "</code>")
	if once == "" || !strings.HasPrefix(once, tokens[0].Hint) {
		t.Fatalf("the new token is not shown in a .once box (hint %q):\n%s", tokens[0].Hint, body)
	}
	if !strings.Contains(body, "klaxon login --with-token") || !strings.Contains(body, "laptop &lt;CLI&gt;") {
		t.Errorf("the .once box lacks the login hint or the escaped name:\n%s", body)
	}
	if p, err := tu.UI.Auth.FromBearer(context.Background(), once); err != nil || p.Name != b.Name {
		t.Errorf("the token shown does not sign in as %s: %v, %v", b.Name, p, err)
	}

	_, body = b.get("/account")
	if strings.Contains(body, once) {
		t.Errorf("the account page shows the token again:\n%s", body)
	}
	if !strings.Contains(body, tokens[0].Hint+"…") {
		t.Errorf("the account page does not list the token's hint %q:\n%s", tokens[0].Hint, body)
	}

	resp, body = b.post("/account/tokens/"+fmt.Sprint(tokens[0].ID)+"/revoke", url.Values{"next": {"/account"}})
	if resp.Request.URL.Path != "/account" || !strings.Contains(body, "Revoked the token") {
		t.Errorf("revoke: at %s:\n%s", resp.Request.URL, body)
	}
	if _, err := tu.UI.Auth.FromBearer(context.Background(), once); klaxon.ErrorCode(err) != klaxon.EUNAUTHORIZED {
		t.Errorf("a revoked token still signs in: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	tu := newTestUI(t)
	b := tu.signIn(klaxon.RoleViewer)
	const newPassword = "a much longer passphrase 2"

	_, body := b.post("/account/password", url.Values{"current": {"wrong"}, "password": {newPassword}, "confirm": {newPassword}})
	if !strings.Contains(body, "Your current password is not right.") {
		t.Errorf("a wrong current password: want the message on the account page:\n%s", body)
	}
	resp, body := b.post("/account/password", url.Values{"current": {testPassword}, "password": {newPassword}, "confirm": {newPassword}})
	if resp.Request.URL.Path != "/account" || !strings.Contains(body, "Changed your password.") {
		t.Fatalf("change password: at %s:\n%s", resp.Request.URL, body)
	}
	// This browser stays signed in; the new password works.
	if resp, _ := b.send(http.MethodGet, "/account", nil, false); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /account after the change: %d, want 200", resp.StatusCode)
	}
	tu.signInAs(b.Name, newPassword)
}

func TestUsersPage(t *testing.T) {
	tu := newTestUI(t)
	admin := tu.signIn(klaxon.RoleAdmin)

	if resp, _ := tu.signIn(klaxon.RoleResponder).get("/admin/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a responder's GET /admin/users: %d, want 403", resp.StatusCode)
	}
	_, body := admin.post("/admin/users", url.Values{"username": {"carol"}, "name": {"Carol"}, "role": {"viewer"}, "password": {testPassword}})
	if !strings.Contains(body, "Added carol as a viewer, with a password.") || !strings.Contains(body, `id="user-carol"`) {
		t.Fatalf("add user: want the flash and carol's row:\n%s", body)
	}
	_, body = admin.post("/admin/users/carol/role", url.Values{"role": {"responder"}})
	if !strings.Contains(body, "carol is now a responder.") {
		t.Errorf("set role: no flash:\n%s", body)
	}
	carol := tu.signInAs("carol", testPassword)
	_, body = admin.post("/admin/users/carol/disable", nil)
	if !strings.Contains(body, "Disabled carol") {
		t.Errorf("disable: no flash:\n%s", body)
	}
	if resp, _ := carol.send(http.MethodGet, "/", nil, false); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled account's browser: GET / %d, want 303 to /login", resp.StatusCode)
	}
	_, body = admin.post("/admin/users/"+admin.Name+"/role", url.Values{"role": {"viewer"}})
	if !strings.Contains(body, "You cannot change your own role") {
		t.Errorf("an admin demoting themselves: want it refused:\n%s", body)
	}
	_, body = admin.post("/admin/users", url.Values{"username": {"carol"}, "role": {"viewer"}})
	if !strings.Contains(body, `class="error"`) {
		t.Errorf("adding carol twice: want an error on the page:\n%s", body)
	}
}

// between is the text of s between the first start and the end after it.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(after, end)
	return in
}
