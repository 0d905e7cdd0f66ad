package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
)

func TestAddAccount(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	a, err := f.svc.AddAccount(ctx, NewAccount{Username: " alice ", Name: "Alice Liddell", Email: "alice@example.org", Role: klaxon.RoleAdmin, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Username != "alice" || !a.CreatedAt.Equal(t0) || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		t.Errorf("account: got %+v, want alice stored with an argon2id hash", a)
	}
	for _, tc := range []struct {
		name string
		n    NewAccount
		code string
	}{
		{"no username", NewAccount{Role: klaxon.RoleViewer}, klaxon.EINVALID},
		{"username with a space", NewAccount{Username: "a b", Role: klaxon.RoleViewer}, klaxon.EINVALID},
		{"username with markup", NewAccount{Username: "<script>", Role: klaxon.RoleViewer}, klaxon.EINVALID},
		{"no role", NewAccount{Username: "bob"}, klaxon.EINVALID},
		{"unknown role", NewAccount{Username: "bob", Role: 7}, klaxon.EINVALID},
		{"short password", NewAccount{Username: "bob", Role: klaxon.RoleViewer, Password: "short"}, klaxon.EINVALID},
		{"name too long", NewAccount{Username: "bob", Role: klaxon.RoleViewer, Name: strings.Repeat("x", 201)}, klaxon.EINVALID},
		{"username taken, in another case", NewAccount{Username: "ALICE", Role: klaxon.RoleViewer}, klaxon.ECONFLICT},
	} {
		_, err := f.svc.AddAccount(ctx, tc.n)
		wantCode(t, tc.name, err, tc.code)
	}
	if _, err := f.svc.AddAccount(ctx, NewAccount{Username: "carol@example.org", Role: klaxon.RoleViewer}); err != nil {
		t.Errorf("an email as username, single sign-on only: %v", err)
	}
	list, err := f.svc.Accounts(ctx)
	if err != nil || len(list) != 2 {
		t.Errorf("accounts: got %d, %v, want 2", len(list), err)
	}
}

func TestUpdateAccount(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.add(t, "alice", klaxon.RoleViewer)
	name, role, password := "Alice L.", klaxon.RoleResponder, "another good password"
	a, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Name: &name, Role: &role, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != name || a.Role != role {
		t.Errorf("updated: got %+v, want name %q, responder", a, name)
	}
	if _, err := f.svc.Login(ctx, "alice", password, "192.0.2.1:1"); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
	if _, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.1:1"); klaxon.ErrorCode(err) != klaxon.EUNAUTHORIZED {
		t.Errorf("sign in with the old password: got %v, want EUNAUTHORIZED", err)
	}

	short, bad := "short", klaxon.Role(0)
	for _, tc := range []struct {
		name     string
		username string
		c        AccountChange
		code     string
	}{
		{"short password", "alice", AccountChange{Password: &short}, klaxon.EINVALID},
		{"no role", "alice", AccountChange{Role: &bad}, klaxon.EINVALID},
		{"unknown account", "mallory", AccountChange{Name: &name}, klaxon.ENOTFOUND},
	} {
		_, err := f.svc.UpdateAccount(ctx, tc.username, tc.c)
		wantCode(t, tc.name, err, tc.code)
	}

	disabled := true
	a, err = f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &disabled})
	if err != nil || !a.Disabled() || !a.DisabledAt.Equal(t0) {
		t.Fatalf("disable: got %+v, %v", a, err)
	}
	f.clock.advance(1)
	if a, _ = f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &disabled}); !a.DisabledAt.Equal(t0) {
		t.Errorf("disabling twice moved DisabledAt to %s", a.DisabledAt)
	}
}
