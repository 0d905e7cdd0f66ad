package auth

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func TestHashPassword(t *testing.T) {
	phc := hashPassword("s3cret password")
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(phc) {
		t.Fatalf("hash %q is not an argon2id PHC string", phc)
	}
	if again := hashPassword("s3cret password"); again == phc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"s3cret password", true},
		{"s3cret passwore", false},
		{"", false},
	} {
		ok, stale, err := checkPassword(phc, tc.password)
		if err != nil || ok != tc.want || stale {
			t.Errorf("check %q: got ok=%v stale=%v err=%v, want ok=%v", tc.password, ok, stale, err, tc.want)
		}
	}
}

func TestCheckPasswordStaleAndBroken(t *testing.T) {
	saved := hashCost
	hashCost = argonParams{memory: 128, time: 1, threads: 1}
	older := hashPassword("s3cret password")
	hashCost = saved
	if ok, stale, err := checkPassword(older, "s3cret password"); !ok || !stale || err != nil {
		t.Errorf("hash made at another cost: got ok=%v stale=%v err=%v, want ok and stale", ok, stale, err)
	}
	for _, phc := range []string{
		"",
		"$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5", // not id
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5",
	} {
		if ok, _, err := checkPassword(phc, "x"); ok || err == nil {
			t.Errorf("check against %q: got ok=%v err=%v, want an error", phc, ok, err)
		}
	}
}

func TestNewPasswordLength(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := f.svc.AddAccount(context.Background(), NewAccount{Username: "alice", Role: klaxon.RoleViewer, Password: "elevenchars"})
	wantCode(t, "11-character password", err, klaxon.EINVALID)
	if err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("11-character password: got %v, want it to say at least 12", err)
	}
	// Characters, not bytes: 12 runes of 2 bytes each are enough.
	if _, err := f.svc.AddAccount(context.Background(), NewAccount{Username: "bob", Role: klaxon.RoleViewer, Password: "ééééééééééé"}); klaxon.ErrorCode(err) != klaxon.EINVALID {
		t.Errorf("11 accented characters: got %v, want EINVALID", err)
	}
	if _, err := f.svc.AddAccount(context.Background(), NewAccount{Username: "bob", Role: klaxon.RoleViewer, Password: "éééééééééééé"}); err != nil {
		t.Errorf("12 accented characters: %v", err)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.add(t, "alice", klaxon.RoleResponder)
	if _, err := f.svc.AddAccount(ctx, NewAccount{Username: "sso-only", Role: klaxon.RoleViewer}); err != nil {
		t.Fatal(err)
	}

	a, err := f.svc.Login(ctx, "Alice", goodPassword, "192.0.2.1:5555")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	if a.Username != "alice" || a.Role != klaxon.RoleResponder || !a.LastLoginAt.Equal(t0) {
		t.Errorf("login: got %s (%s, last login %s), want alice, responder, last login now", a.Username, a.Role, a.LastLoginAt)
	}
	stored, _ := f.store.Account(ctx, "alice")
	if !stored.LastLoginAt.Equal(t0) {
		t.Errorf("stored last login: got %s, want %s", stored.LastLoginAt, t0)
	}

	_, wrongPassword := f.svc.Login(ctx, "alice", "wrong password!", "192.0.2.1:5555")
	_, noSuchUser := f.svc.Login(ctx, "mallory", goodPassword, "192.0.2.1:5555")
	_, noPassword := f.svc.Login(ctx, "sso-only", "", "192.0.2.1:5555")
	for _, err := range []error{noSuchUser, noPassword} {
		if err == nil || err.Error() != wrongPassword.Error() || klaxon.ErrorCode(err) != klaxon.EUNAUTHORIZED {
			t.Errorf("got %v, want the wrong password's answer %v", err, wrongPassword)
		}
	}

	disabled := true
	if _, err := f.svc.UpdateAccount(ctx, "alice", AccountChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Login(ctx, "alice", goodPassword, "192.0.2.1:5555")
	wantCode(t, "disabled account", err, klaxon.EUNAUTHORIZED)
	if err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled account: got %v, want it to say so", err)
	}
}

func TestLoginRehashesAStaleHash(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	saved := hashCost
	hashCost = argonParams{memory: 128, time: 1, threads: 1}
	f.add(t, "alice", klaxon.RoleViewer)
	hashCost = saved
	if _, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	a, _ := f.store.Account(ctx, "alice")
	if !strings.Contains(a.PasswordHash, "m=64,") {
		t.Errorf("hash after sign-in: got %q, want it made again at today's cost (m=64)", a.PasswordHash)
	}
	if _, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.1:1"); err != nil {
		t.Errorf("sign in with the new hash: %v", err)
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.add(t, "alice", klaxon.RoleViewer)
	for range failuresPerUser {
		_, err := f.svc.Login(ctx, "alice", "wrong password!", "192.0.2.1:1")
		wantCode(t, "wrong password", err, klaxon.EUNAUTHORIZED)
		f.clock.advance(time.Minute)
	}
	// The right password does not help now: that is the point.
	_, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.2:1")
	var limited *LimitedError
	if !errors.As(err, &limited) || klaxon.ErrorCode(err) != klaxon.ERATELIMITED {
		t.Fatalf("6th attempt: got %v, want ERATELIMITED", err)
	}
	// The first failure was 5 minutes ago; it leaves the window in 10.
	if limited.RetryAfter != 10*time.Minute || !strings.Contains(err.Error(), "10 minutes") {
		t.Errorf("retry after: got %s (%q), want 10m", limited.RetryAfter, err)
	}
	f.clock.advance(10 * time.Minute)
	if _, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.2:1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}
