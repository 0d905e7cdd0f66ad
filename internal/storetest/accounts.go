package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func newAccount(username string) *klaxon.Account {
	return &klaxon.Account{Username: username, Role: klaxon.RoleResponder, CreatedAt: t0}
}

func insertAccounts(t *testing.T, s klaxon.Store, list ...*klaxon.Account) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, a := range list {
			if err := tx.InsertAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// hash stands for the SHA-256 of a token or cookie.
func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testAccounts(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	// Every field set, times in another zone; they read back in UTC.
	alice := &klaxon.Account{
		Username:     "alice",
		Name:         "Alice Liddell",
		Email:        "alice@example.com",
		Role:         klaxon.RoleAdmin,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		CreatedAt:    t0.In(cest),
		LastLoginAt:  t0.Add(time.Hour + 123456*time.Microsecond).In(cest),
		DisabledAt:   t0.Add(2 * time.Hour).In(cest),
	}
	bob := newAccount("bob")
	bob.OIDCSubject = "https://id.example.com 1234"
	carol := newAccount("Carol") // no password, no subject: alice has none either
	insertAccounts(t, s, alice, carol, bob)
	if alice.ID == 0 || carol.ID <= alice.ID || bob.ID <= carol.ID {
		t.Fatalf("InsertAccount set IDs %d, %d, %d; want them set and increasing", alice.ID, carol.ID, bob.ID)
	}
	wantAlice := *alice
	wantAlice.CreatedAt, wantAlice.LastLoginAt, wantAlice.DisabledAt = alice.CreatedAt.UTC(), alice.LastLoginAt.UTC(), alice.DisabledAt.UTC()

	lookups := []struct {
		name string
		get  func() (*klaxon.Account, error)
		want *klaxon.Account
	}{
		{"Account", func() (*klaxon.Account, error) { return s.Account(ctx, "alice") }, &wantAlice},
		{"Account other case", func() (*klaxon.Account, error) { return s.Account(ctx, "ALICE") }, &wantAlice},
		{"Account of a mixed-case name", func() (*klaxon.Account, error) { return s.Account(ctx, "carol") }, carol},
		{"AccountByID", func() (*klaxon.Account, error) { return s.AccountByID(ctx, alice.ID) }, &wantAlice},
		{"AccountBySubject", func() (*klaxon.Account, error) { return s.AccountBySubject(ctx, bob.OIDCSubject) }, bob},
	}
	for _, l := range lookups {
		got, err := l.get()
		if err != nil || !reflect.DeepEqual(got, l.want) {
			t.Errorf("%s: got %s, %v; want %s", l.name, dump(got), err, dump(l.want))
		}
	}
	notFound := []struct {
		name string
		get  func() (*klaxon.Account, error)
	}{
		{"Account(nobody)", func() (*klaxon.Account, error) { return s.Account(ctx, "nobody") }},
		{"AccountByID(999999)", func() (*klaxon.Account, error) { return s.AccountByID(ctx, 999999) }},
		{"AccountBySubject(unknown)", func() (*klaxon.Account, error) { return s.AccountBySubject(ctx, "https://id.example.com 9") }},
		// Accounts without single sign-on must not match an empty subject.
		{`AccountBySubject("")`, func() (*klaxon.Account, error) { return s.AccountBySubject(ctx, "") }},
	}
	for _, l := range notFound {
		if got, err := l.get(); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			t.Errorf("%s: got %s, %v; want ENOTFOUND", l.name, dump(got), err)
		}
	}
	got, err := s.Accounts(ctx)
	if want := []*klaxon.Account{&wantAlice, bob, carol}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Accounts: got %s, %v; want alice, bob, Carol: %s", dump(got), err, dump(want))
	}
}

func testAccountConflicts(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	alice, bob := newAccount("alice"), newAccount("bob")
	bob.OIDCSubject = "https://id.example.com 1234"
	insertAccounts(t, s, alice, bob)

	dan := newAccount("dan")
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		conflicts := []*klaxon.Account{
			newAccount("Alice"),
			{Username: "bobby", Role: klaxon.RoleViewer, OIDCSubject: bob.OIDCSubject, CreatedAt: t0},
		}
		for _, a := range conflicts {
			if err := tx.InsertAccount(ctx, a); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
				return fmt.Errorf("InsertAccount(%s): got %v, want ECONFLICT", dump(a), err)
			}
		}
		renamed := *bob
		renamed.Username = "ALICE"
		if err := tx.UpdateAccount(ctx, &renamed); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
			return fmt.Errorf("UpdateAccount to a taken username: got %v, want ECONFLICT", err)
		}
		linked := *alice
		linked.OIDCSubject = bob.OIDCSubject
		if err := tx.UpdateAccount(ctx, &linked); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
			return fmt.Errorf("UpdateAccount to a taken subject: got %v, want ECONFLICT", err)
		}
		unknown := newAccount("ghost")
		unknown.ID = 999999
		if err := tx.UpdateAccount(ctx, unknown); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("UpdateAccount(999999): got %v, want ENOTFOUND", err)
		}
		// A conflict leaves the transaction usable: the caller decides.
		return tx.InsertAccount(ctx, dan)
	})
	if got, err := s.Account(ctx, "dan"); err != nil || got.ID != dan.ID {
		t.Errorf("after conflicts in the same transaction: Account(dan) = %s, %v; want it stored", dump(got), err)
	}
	if got, err := s.Accounts(ctx); err != nil || len(got) != 3 {
		t.Errorf("Accounts after conflicts: got %s, %v; want alice, bob and dan", dump(got), err)
	}
}

func testUpdateAccount(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAccount("alice")
	a.PasswordHash = "old"
	insertAccounts(t, s, a)
	a.Username, a.Name, a.Email, a.Role = "Alice.L", "Alice L.", "al@example.com", klaxon.RoleViewer
	a.PasswordHash, a.OIDCSubject = "", "https://id.example.com 42"
	a.LastLoginAt, a.DisabledAt = t0.Add(time.Minute), t0.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.UpdateAccount(ctx, a) })
	if got, err := s.AccountByID(ctx, a.ID); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("after UpdateAccount: got %s, %v; want %s", dump(got), err, dump(a))
	}
	// And back: clearing times and the subject.
	a.OIDCSubject, a.LastLoginAt, a.DisabledAt = "", time.Time{}, time.Time{}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.UpdateAccount(ctx, a) })
	if got, err := s.Account(ctx, "alice.l"); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("after clearing: got %s, %v; want %s", dump(got), err, dump(a))
	}
}

func insertTokens(t *testing.T, s klaxon.Store, list ...*klaxon.APIToken) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, k := range list {
			if err := tx.InsertAPIToken(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func testAPITokens(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	alice, bob := newAccount("alice"), newAccount("bob")
	insertAccounts(t, s, alice, bob)
	laptop := &klaxon.APIToken{AccountID: alice.ID, Name: "laptop", Hash: hash("kx_laptop"), Hint: "kx_lap",
		CreatedAt: t0.In(cest), ExpiresAt: t0.Add(90 * 24 * time.Hour).In(cest)}
	ci := &klaxon.APIToken{AccountID: bob.ID, Name: "ci", Hash: hash("kx_ci"), Hint: "kx_ci", CreatedAt: t0}
	script := &klaxon.APIToken{AccountID: alice.ID, Name: "script", Hash: hash("kx_script"), Hint: "kx_scr", CreatedAt: t0}
	insertTokens(t, s, laptop, ci, script)
	if laptop.ID == 0 || ci.ID <= laptop.ID || script.ID <= ci.ID {
		t.Fatalf("InsertAPIToken set IDs %d, %d, %d; want them set and increasing", laptop.ID, ci.ID, script.ID)
	}
	laptop.CreatedAt, laptop.ExpiresAt = laptop.CreatedAt.UTC(), laptop.ExpiresAt.UTC()

	if got, err := s.APITokenByHash(ctx, hash("kx_laptop")); err != nil || !reflect.DeepEqual(got, laptop) {
		t.Errorf("APITokenByHash: got %s, %v; want %s", dump(got), err, dump(laptop))
	}
	if got, err := s.APITokenByHash(ctx, hash("kx_unknown")); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("APITokenByHash(unknown): got %s, %v; want ENOTFOUND", dump(got), err)
	}
	for _, tt := range []struct {
		account int64
		want    []*klaxon.APIToken
	}{
		{alice.ID, []*klaxon.APIToken{laptop, script}},
		{bob.ID, []*klaxon.APIToken{ci}},
		{0, []*klaxon.APIToken{laptop, ci, script}},
		{999999, nil},
	} {
		if got, err := s.APITokens(ctx, tt.account); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("APITokens(%d): got %s, %v; want %s", tt.account, dump(got), err, dump(tt.want))
		}
	}

	used := t0.Add(time.Hour + time.Microsecond)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.TouchAPIToken(ctx, laptop.ID, used.In(cest)); err != nil {
			return err
		}
		if err := tx.TouchAPIToken(ctx, 999999, used); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("TouchAPIToken(999999): got %v, want ENOTFOUND", err)
		}
		dup := &klaxon.APIToken{AccountID: bob.ID, Name: "dup", Hash: hash("kx_ci"), CreatedAt: t0}
		if err := tx.InsertAPIToken(ctx, dup); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
			return fmt.Errorf("InsertAPIToken with a stored hash: got %v, want ECONFLICT", err)
		}
		return nil
	})
	laptop.LastUsedAt = used
	var deleted *klaxon.APIToken
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		var err error
		deleted, err = tx.DeleteAPIToken(ctx, laptop.ID)
		return err
	})
	if !reflect.DeepEqual(deleted, laptop) {
		t.Errorf("DeleteAPIToken returned %s, want the touched token %s", dump(deleted), dump(laptop))
	}
	if got, err := s.APITokenByHash(ctx, laptop.Hash); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("APITokenByHash after delete: got %s, %v; want ENOTFOUND", dump(got), err)
	}
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		_, err := tx.DeleteAPIToken(ctx, laptop.ID)
		return err
	})
	if klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("DeleteAPIToken twice: got %v, want ENOTFOUND", err)
	}
}

func testSessions(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	alice, bob := newAccount("alice"), newAccount("bob")
	insertAccounts(t, s, alice, bob)
	now := t0.Add(24 * time.Hour)
	current := &klaxon.Session{Hash: hash("current"), AccountID: alice.ID, CreatedAt: t0, ExpiresAt: now.Add(time.Hour)}
	expired := &klaxon.Session{Hash: hash("expired"), AccountID: alice.ID, CreatedAt: t0, ExpiresAt: now.Add(-time.Microsecond)}
	phone := &klaxon.Session{Hash: hash("phone"), AccountID: alice.ID, CreatedAt: t0, ExpiresAt: now.Add(2 * time.Hour)}
	bobs := &klaxon.Session{Hash: hash("bob"), AccountID: bob.ID, CreatedAt: t0.In(cest), ExpiresAt: now.Add(time.Hour).In(cest)}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, ss := range []*klaxon.Session{current, expired, phone, bobs} {
			if err := tx.InsertSession(ctx, ss); err != nil {
				return err
			}
		}
		dup := &klaxon.Session{Hash: hash("phone"), AccountID: bob.ID, CreatedAt: t0, ExpiresAt: now}
		if err := tx.InsertSession(ctx, dup); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
			return fmt.Errorf("InsertSession with a stored hash: got %v, want ECONFLICT", err)
		}
		return nil
	})
	bobs.CreatedAt, bobs.ExpiresAt = bobs.CreatedAt.UTC(), bobs.ExpiresAt.UTC()
	for _, want := range []*klaxon.Session{current, expired, bobs} {
		if got, err := s.SessionByHash(ctx, want.Hash); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SessionByHash: got %s, %v; want %s", dump(got), err, dump(want))
		}
	}
	stored := func(ss *klaxon.Session) bool {
		t.Helper()
		_, err := s.SessionByHash(ctx, ss.Hash)
		if err != nil && klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			t.Fatalf("SessionByHash: %v", err)
		}
		return err == nil
	}

	// Signing out of one browser also sweeps the expired sessions.
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.DeleteSessions(ctx, current.Hash, now) })
	if stored(current) || stored(expired) || !stored(phone) || !stored(bobs) {
		t.Errorf("after DeleteSessions(current, now): current %t, expired %t, phone %t, bob's %t; want only phone and bob's left",
			stored(current), stored(expired), stored(phone), stored(bobs))
	}
	// Without a hash it only sweeps.
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		return tx.DeleteSessions(ctx, nil, now.Add(90*time.Minute))
	})
	if stored(bobs) || !stored(phone) {
		t.Errorf("after DeleteSessions(nil, now+90m): phone %t, bob's %t; want only phone left", stored(phone), stored(bobs))
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.DeleteAccountSessions(ctx, alice.ID) })
	if stored(phone) {
		t.Error("after DeleteAccountSessions(alice): phone session still stored")
	}
}

func testAccountsRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	alice := newAccount("alice")
	insertAccounts(t, s, alice)
	token := &klaxon.APIToken{AccountID: alice.ID, Name: "laptop", Hash: hash("kx_laptop"), CreatedAt: t0}
	insertTokens(t, s, token)
	session := &klaxon.Session{Hash: hash("cookie"), AccountID: alice.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.InsertSession(ctx, session) })
	g := newGroup("0", "k")
	insertGroup(t, s, g)

	boom := errors.New("boom")
	lost := newAccount("lost")
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertAccount(ctx, lost); err != nil {
			return err
		}
		changed := *alice
		changed.Role = klaxon.RoleAdmin
		if err := tx.UpdateAccount(ctx, &changed); err != nil {
			return err
		}
		if err := tx.InsertAPIToken(ctx, &klaxon.APIToken{AccountID: lost.ID, Hash: hash("lost"), CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.TouchAPIToken(ctx, token.ID, t0.Add(time.Minute)); err != nil {
			return err
		}
		if _, err := tx.DeleteAPIToken(ctx, token.ID); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, &klaxon.Session{Hash: hash("lost"), AccountID: lost.ID, CreatedAt: t0, ExpiresAt: t0}); err != nil {
			return err
		}
		if err := tx.DeleteAccountSessions(ctx, alice.ID); err != nil {
			return err
		}
		if err := tx.RecordPages(ctx, klaxon.PageRecord{At: t0, Person: "alice", GroupID: g.ID, Channel: "slack"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	if got, err := s.Accounts(ctx); err != nil || !reflect.DeepEqual(got, []*klaxon.Account{alice}) {
		t.Errorf("after rollback: Accounts = %s, %v; want only %s unchanged", dump(got), err, dump(alice))
	}
	if got, err := s.APITokens(ctx, 0); err != nil || !reflect.DeepEqual(got, []*klaxon.APIToken{token}) {
		t.Errorf("after rollback: APITokens = %s, %v; want only %s untouched", dump(got), err, dump(token))
	}
	if got, err := s.SessionByHash(ctx, session.Hash); err != nil || !reflect.DeepEqual(got, session) {
		t.Errorf("after rollback: SessionByHash = %s, %v; want %s", dump(got), err, dump(session))
	}
	if got, err := s.SessionByHash(ctx, hash("lost")); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("after rollback: SessionByHash(lost) = %s, %v; want ENOTFOUND", dump(got), err)
	}
	if got, err := s.PageRecords(ctx, t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("after rollback: PageRecords = %s, %v; want none", dump(got), err)
	}
}
