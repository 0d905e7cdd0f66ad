package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/cli"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// cliPassword is every account's password in these tests.
const cliPassword = "correct horse battery"

// asUser runs the command line as someone without --token: the token
// comes from KLAXON_TOKEN (unset here) or what `klaxon login` saved.
func asUser(t *testing.T, s *klaxonServer, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--server", s.URL}, args...)
	code = cli.ExecuteWithInput(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolateCredentials points the credentials file at a fresh directory.
func isolateCredentials(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("KLAXON_TOKEN", "")
	return filepath.Join(dir, "klaxon", "credentials.json")
}

func TestLoginLogoutCLI(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLoginLogoutCLI(t, "") })
	t.Run("postgres", func(t *testing.T) { testLoginLogoutCLI(t, pgtest.URL(t)) })
}

func testLoginLogoutCLI(t *testing.T, database string) {
	creds := isolateCredentials(t)
	s := startKlaxon(t, serverOptions{database: database})
	post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing.json"), bearer(amToken)...)
	list, err := s.Client.Alerts(context.Background(), "", 0)
	if err != nil || len(list.Alerts) == 0 {
		t.Fatalf("alerts: %v", err)
	}
	id := fmt.Sprint(list.Alerts[0].ID)

	if code, out, errOut := asUser(t, s, cliPassword+"\n", "--token", cliToken, "user", "add", "alice", "--role", "responder", "--name", "Alice", "--password-stdin"); code != 0 || !strings.Contains(out, "Added alice (responder)") {
		t.Fatalf("user add: exit %d, %q %q", code, out, errOut)
	}

	code, out, errOut := asUser(t, s, cliPassword+"\n", "login", "--username", "alice", "--password-stdin", "--token-name", "laptop")
	if code != 0 || !strings.Contains(out, "Signed in to "+s.URL+" as alice (responder)") {
		t.Fatalf("login: exit %d, %q %q", code, out, errOut)
	}
	info, err := os.Stat(creds)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want it readable by its owner only", err, info.Mode())
	}
	var saved struct {
		Servers map[string]struct {
			Token    string `json:"token"`
			Username string `json:"username"`
			TokenID  int64  `json:"token_id"`
		} `json:"servers"`
	}
	data, _ := os.ReadFile(creds)
	if err := json.Unmarshal(data, &saved); err != nil || saved.Servers[s.URL].Username != "alice" || !strings.HasPrefix(saved.Servers[s.URL].Token, "klx_") {
		t.Fatalf("credentials: %s (%v), want alice's token under %s", data, err, s.URL)
	}
	laptop := saved.Servers[s.URL].Token

	if code, out, _ = asUser(t, s, "", "whoami"); code != 0 || out != "alice (responder) on "+s.URL+", with a personal token\n" {
		t.Errorf("whoami: exit %d, %q", code, out)
	}
	// --token comes before the saved one.
	if code, out, _ = asUser(t, s, "", "--token", cliToken, "whoami"); code != 0 || !strings.HasPrefix(out, "ops-cli (admin)") {
		t.Errorf("whoami --token: exit %d, %q", code, out)
	}
	if code, out, _ = asUser(t, s, "", "ack", id); code != 0 {
		t.Errorf("ack with the saved token: exit %d, %q", code, out)
	}
	if a, _ := s.Client.Alert(context.Background(), list.Alerts[0].ID); a == nil || a.Alert.AckedBy != "alice" {
		t.Errorf("acked by %v, want alice", a)
	}

	code, ci, errOut := asUser(t, s, "", "token", "create", "ci", "--expires-in", "30d")
	ci = strings.TrimSpace(ci)
	if code != 0 || !strings.HasPrefix(ci, "klx_") || strings.Contains(ci, "\n") || !strings.Contains(errOut, "not shown again") {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q; want the token alone on stdout", code, ci, errOut)
	}
	code, out, _ = asUser(t, s, "", "token", "list")
	if code != 0 || !strings.Contains(out, "laptop") || !strings.Contains(out, "ci") || !strings.Contains(out, ci[:8]+"…") || strings.Contains(out, ci) {
		t.Errorf("token list: exit %d:\n%s", code, out)
	}
	var tokens httpapi.TokenList
	_, out, _ = asUser(t, s, "", "token", "list", "-o", "json")
	json.Unmarshal([]byte(out), &tokens)
	if len(tokens.Tokens) != 2 {
		t.Fatalf("token list -o json: %s", out)
	}
	if code, out, _ = asUser(t, s, "", "token", "revoke", fmt.Sprint(tokens.Tokens[1].ID)); code != 0 || !strings.Contains(out, "Revoked token") {
		t.Errorf("token revoke: exit %d, %q", code, out)
	}
	if code, _, errOut = asUser(t, s, "", "--token", ci, "whoami"); code == 0 || !strings.Contains(errOut, "unknown API token") {
		t.Errorf("revoked ci token: exit %d, %q", code, errOut)
	}
	if code, _, errOut = asUser(t, s, "", "user", "list"); code == 0 || !strings.Contains(errOut, "needs the admin role; alice is a responder") {
		t.Errorf("user list as a responder: exit %d, %q", code, errOut)
	}

	if code, out, _ = asUser(t, s, "", "logout"); code != 0 || !strings.Contains(out, "Signed out of "+s.URL) || !strings.Contains(out, "revoked") {
		t.Errorf("logout: exit %d, %q", code, out)
	}
	if code, _, errOut = asUser(t, s, "", "--token", laptop, "whoami"); code == 0 || !strings.Contains(errOut, "unknown API token") {
		t.Errorf("the laptop token after logout: exit %d, %q; want it revoked", code, errOut)
	}
	if code, _, errOut = asUser(t, s, "", "whoami"); code == 0 || !strings.Contains(errOut, "missing API token") {
		t.Errorf("whoami after logout: exit %d, %q", code, errOut)
	}
	if code, out, _ = asUser(t, s, "", "logout"); code != 0 || !strings.Contains(out, "Not signed in") {
		t.Errorf("second logout: exit %d, %q", code, out)
	}
}

// TestLoginWithToken: people who sign in through single sign-on make a
// token in the web UI and hand it to the CLI.
func TestLoginWithToken(t *testing.T) {
	isolateCredentials(t)
	s := startKlaxon(t, serverOptions{})
	ctx := context.Background()
	if _, err := s.Client.AddUser(ctx, httpapi.UserRequest{Username: "carol", Role: klaxon.RoleViewer, Password: cliPassword}); err != nil {
		t.Fatal(err)
	}
	made, err := (&httpapi.Client{BaseURL: s.URL}).Login(ctx, httpapi.LoginRequest{Username: "carol", Password: cliPassword, TokenName: "made in the web UI"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := asUser(t, s, cliPassword, "login", "--username", "carol", "--password-stdin"); code != 0 {
		t.Fatalf("login: %q", errOut)
	}
	first, err := s.Client.Tokens(ctx, true)
	if err != nil || len(first.Tokens) != 2 {
		t.Fatalf("tokens: %+v, %v", first, err)
	}
	code, out, errOut := asUser(t, s, made.Token+"\n", "login", "--with-token")
	if code != 0 || !strings.Contains(out, "as carol (viewer)") {
		t.Fatalf("login --with-token: exit %d, %q %q", code, out, errOut)
	}
	// The token it replaced is revoked, not left behind.
	if left, _ := s.Client.Tokens(ctx, true); len(left.Tokens) != 1 || left.Tokens[0].ID != made.ID {
		t.Errorf("tokens after logging in again: %+v, want only the one made in the web UI", left)
	}
	if code, _, errOut = asUser(t, s, "", "ack", "1"); code == 0 || !strings.Contains(errOut, "needs the responder role; carol is a viewer") {
		t.Errorf("ack as a viewer: exit %d, %q", code, errOut)
	}
	if code, out, _ = asUser(t, s, "", "logout"); code != 0 || !strings.Contains(out, made.Hint+" revoked") {
		t.Errorf("logout: exit %d, %q; want the token found and revoked", code, out)
	}

	if code, _, errOut = asUser(t, s, "klx_not-a-token\n", "login", "--with-token"); code == 0 || !strings.Contains(errOut, "unknown API token") {
		t.Errorf("login --with-token with a bad token: exit %d, %q", code, errOut)
	}
}

func TestLoginRefusals(t *testing.T) {
	isolateCredentials(t)
	s := startKlaxon(t, serverOptions{})
	if _, err := s.Client.AddUser(context.Background(), httpapi.UserRequest{Username: "alice", Role: klaxon.RoleResponder, Password: cliPassword}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"wrong password", "wrong password\n", []string{"login", "--username", "alice", "--password-stdin"}, "wrong username or password"},
		{"password not asked for on a pipe", cliPassword + "\n", []string{"login", "--username", "alice"}, "--password-stdin"},
		{"no username", "", []string{"login", "--password-stdin"}, "no answer to \"Username\""},
		{"no token to read", "", []string{"login", "--with-token"}, "no token on stdin"},
		{"bad expiry", cliPassword, []string{"login", "--username", "alice", "--password-stdin", "--expires-in", "soon"}, "expires_in"},
	} {
		code, _, errOut := asUser(t, s, tc.stdin, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want failure saying %q", tc.name, code, errOut, tc.want)
		}
	}
}

func TestUserCLI(t *testing.T) {
	isolateCredentials(t)
	s := startKlaxon(t, serverOptions{})
	admin := func(stdin string, args ...string) (int, string, string) {
		return asUser(t, s, stdin, append([]string{"--token", cliToken}, args...)...)
	}
	if code, out, errOut := admin("", "user", "add", "dave", "--role", "viewer", "--email", "dave@example.org"); code != 0 || !strings.Contains(out, "Added dave (viewer)") {
		t.Fatalf("user add without a password: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := admin("short\n", "user", "add", "erin", "--role", "viewer", "--password-stdin"); code == 0 || !strings.Contains(errOut, "at least 12") {
		t.Errorf("user add with a short password: exit %d, %q", code, errOut)
	}
	if code, _, errOut := admin("", "user", "add", "erin", "--role", "boss"); code == 0 || !strings.Contains(errOut, "--role") {
		t.Errorf("user add with an unknown role: exit %d, %q", code, errOut)
	}
	if code, out, _ := admin(cliPassword+"\n", "user", "set", "dave", "--role", "responder", "--password-stdin"); code != 0 || !strings.Contains(out, "Changed dave (responder)") {
		t.Errorf("user set: exit %d, %q", code, out)
	}
	code, out, _ := admin("", "user", "list")
	if code != 0 || !strings.Contains(out, "dave") || !strings.Contains(out, "dave@example.org") || !strings.Contains(out, "responder") || !strings.Contains(out, "password") || !strings.Contains(out, "never") {
		t.Errorf("user list: exit %d:\n%s", code, out)
	}
	if code, _, errOut := asUser(t, s, cliPassword+"\n", "login", "--username", "dave", "--password-stdin"); code != 0 {
		t.Fatalf("dave's login: %q", errOut)
	}
	if code, out, _ := admin("", "user", "set", "dave", "--disable"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("user set --disable: exit %d, %q", code, out)
	}
	if code, _, errOut := asUser(t, s, "", "whoami"); code == 0 || !strings.Contains(errOut, "disabled") {
		t.Errorf("a disabled account's saved token: exit %d, %q", code, errOut)
	}
	if code, _, errOut := admin("", "user", "set", "dave"); code == 0 || !strings.Contains(errOut, "nothing to change") {
		t.Errorf("user set without changes: exit %d, %q", code, errOut)
	}
}
