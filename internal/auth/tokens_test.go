package auth

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

const configToken = "ops-cli-token-0123456789"

func TestConfigTokens(t *testing.T) {
	f := newFixture(t, Options{ConfigTokens: []ConfigToken{
		{Name: "ops-cli", Token: configToken, Role: klaxon.RoleAdmin},
		{Name: "dashboard", Token: "dashboard-token-0123456789", Role: klaxon.RoleViewer},
	}})
	ctx := context.Background()
	for _, tc := range []struct {
		token string
		want  Principal
	}{
		{configToken, Principal{Name: "ops-cli", Role: klaxon.RoleAdmin}},
		{"dashboard-token-0123456789", Principal{Name: "dashboard", Role: klaxon.RoleViewer}},
	} {
		p, err := f.svc.FromBearer(ctx, tc.token)
		if err != nil || *p != tc.want {
			t.Errorf("FromBearer(%s): got %+v, %v, want %+v", tc.want.Name, p, err, tc.want)
		}
	}
	for _, token := range []string{"", "ops-cli-token-012345678", "klx_unknown"} {
		_, err := f.svc.FromBearer(ctx, token)
		wantCode(t, "token "+token, err, klaxon.EUNAUTHORIZED)
	}
	if _, err := New(f.store, Options{ConfigTokens: []ConfigToken{{Name: "x", Token: configToken}}}); err == nil {
		t.Error("a configured token without a role was accepted")
	}
	_, err := f.svc.AddAccount(ctx, NewAccount{Username: "OPS-CLI", Role: klaxon.RoleViewer})
	wantCode(t, "account named like a configured token", err, klaxon.ECONFLICT)
}

func TestPersonalTokens(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleResponder)

	token, stored, err := f.svc.CreateToken(ctx, alice.ID, " laptop ", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^klx_[a-z2-7]{52}$`).MatchString(token) {
		t.Errorf("token %q: want klx_ and 32 bytes of lowercase base32", token)
	}
	if stored.Name != "laptop" || stored.Hint != token[:8] || stored.AccountID != alice.ID || !stored.ExpiresAt.IsZero() || stored.ID == 0 {
		t.Errorf("stored token: got %+v, want name laptop, hint %s, alice's, no expiry", stored, token[:8])
	}
	p, err := f.svc.FromBearer(ctx, token)
	if err != nil || *p != (Principal{Name: "alice", Role: klaxon.RoleResponder, AccountID: alice.ID}) {
		t.Errorf("FromBearer: got %+v, %v, want alice the responder", p, err)
	}

	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"", 0}, {"too long " + string(make([]byte, 100)), 0}, {"negative", -time.Hour}} {
		_, _, err := f.svc.CreateToken(ctx, alice.ID, tc.name, tc.ttl)
		wantCode(t, "CreateToken("+tc.name+")", err, klaxon.EINVALID)
	}
	_, _, err = f.svc.CreateToken(ctx, 9999, "ghost", 0)
	wantCode(t, "token for no account", err, klaxon.ENOTFOUND)
}

func TestPersonalTokenExpiresAndIsRefusedWhenDisabled(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleViewer)
	shortLived, stored, err := f.svc.CreateToken(ctx, alice.ID, "ci", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("expires at %s, want %s", stored.ExpiresAt, t0.Add(time.Hour))
	}
	forever, _, _ := f.svc.CreateToken(ctx, alice.ID, "laptop", 0)
	f.clock.advance(time.Hour)
	_, err = f.svc.FromBearer(ctx, shortLived)
	wantCode(t, "expired token", err, klaxon.EUNAUTHORIZED)
	if _, err := f.svc.FromBearer(ctx, forever); err != nil {
		t.Errorf("token without expiry: %v", err)
	}

	disabled := true
	if _, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FromBearer(ctx, forever)
	wantCode(t, "token of a disabled account", err, klaxon.EUNAUTHORIZED)
	_, _, err = f.svc.CreateToken(ctx, alice.ID, "another", 0)
	wantCode(t, "new token for a disabled account", err, klaxon.EINVALID)

	enabled := false
	if _, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FromBearer(ctx, forever); err != nil {
		t.Errorf("token after the account is enabled again: %v", err)
	}
}

func TestTokenUseIsRecordedHourly(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleViewer)
	token, _, _ := f.svc.CreateToken(ctx, alice.ID, "laptop", 0)
	lastUsed := func() time.Time {
		ts, err := f.svc.Tokens(ctx, alice.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("tokens: %v, %v", ts, err)
		}
		return ts[0].LastUsedAt
	}
	for _, step := range []struct {
		advance time.Duration
		want    time.Time
	}{
		{0, t0},                               // first use
		{59 * time.Minute, t0},                // within the hour: not written
		{time.Minute, t0.Add(time.Hour)},      // an hour on: written
		{30 * time.Minute, t0.Add(time.Hour)}, // not yet
		{3 * time.Hour, t0.Add(270 * time.Minute)},
	} {
		f.clock.advance(step.advance)
		if _, err := f.svc.FromBearer(ctx, token); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(step.want) {
			t.Errorf("at %s: last used %s, want %s", f.clock.now().Format(time.Kitchen), got.Format(time.Kitchen), step.want.Format(time.Kitchen))
		}
	}
}

func TestRevokeToken(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	alice := f.add(t, "alice", klaxon.RoleResponder)
	bob := f.add(t, "bob", klaxon.RoleResponder)
	root := f.add(t, "root", klaxon.RoleAdmin)
	principal := func(a *klaxon.Account) *Principal {
		return &Principal{Name: a.Username, Role: a.Role, AccountID: a.ID}
	}
	token, t1, _ := f.svc.CreateToken(ctx, alice.ID, "laptop", 0)
	_, t2, _ := f.svc.CreateToken(ctx, alice.ID, "ci", 0)

	err := f.svc.RevokeToken(ctx, principal(bob), t1.ID)
	wantCode(t, "bob revoking alice's token", err, klaxon.ENOTFOUND)
	if _, err := f.svc.FromBearer(ctx, token); err != nil {
		t.Errorf("alice's token after bob's refused revocation: %v", err)
	}
	if err := f.svc.RevokeToken(ctx, principal(alice), t1.ID); err != nil {
		t.Errorf("alice revoking her own token: %v", err)
	}
	_, err = f.svc.FromBearer(ctx, token)
	wantCode(t, "revoked token", err, klaxon.EUNAUTHORIZED)
	if err := f.svc.RevokeToken(ctx, principal(root), t2.ID); err != nil {
		t.Errorf("an admin revoking alice's token: %v", err)
	}
	err = f.svc.RevokeToken(ctx, principal(alice), t2.ID)
	wantCode(t, "revoking a revoked token", err, klaxon.ENOTFOUND)
	if ts, _ := f.svc.Tokens(ctx, 0); len(ts) != 0 {
		t.Errorf("tokens left: %v, want none", ts)
	}
}
