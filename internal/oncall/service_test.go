package oncall_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// fakeStore keeps overrides in memory; every other Store method panics
// (the embedded nil interface), so a test notices any other use.
type fakeStore struct {
	klaxon.Store
	mu        sync.Mutex
	overrides []klaxon.Override
	lastID    int64
	asked     []string // the ranges Overrides was asked for
}

func (f *fakeStore) Overrides(_ context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, schedule+" "+from.UTC().Format(time.RFC3339)+" "+to.UTC().Format(time.RFC3339))
	var out []klaxon.Override
	for _, o := range f.overrides {
		if (schedule == "" || o.Schedule == schedule) && o.Start.Before(to) && o.End.After(from) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b klaxon.Override) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// Update commits the transaction's changes only if fn succeeds.
func (f *fakeStore) Update(_ context.Context, fn func(klaxon.Tx) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx := &fakeTx{overrides: slices.Clone(f.overrides), lastID: f.lastID}
	if err := fn(tx); err != nil {
		return err
	}
	f.overrides, f.lastID = tx.overrides, tx.lastID
	return nil
}

type fakeTx struct {
	klaxon.Tx
	overrides []klaxon.Override
	lastID    int64
}

func (tx *fakeTx) InsertOverride(_ context.Context, o *klaxon.Override) error {
	tx.lastID++
	o.ID = tx.lastID
	tx.overrides = append(tx.overrides, *o)
	return nil
}

func (tx *fakeTx) DeleteOverride(_ context.Context, id int64) (*klaxon.Override, error) {
	for i, o := range tx.overrides {
		if o.ID == id {
			tx.overrides = slices.Delete(tx.overrides, i, i+1)
			return &o, nil
		}
	}
	return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no override %d", id)
}

// now is the services' clock: Saturday 21 November 2026, 10:00 UTC.
var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// testDirectory has two schedules in UTC: ops, a weekly 24/7 rotation of
// alice and bob under an office-hours one of carol; and web, a daily
// rotation of bob and carol during office hours only.
func testDirectory(t *testing.T) *oncall.Directory {
	utc := time.UTC
	office := rot("office", 24*time.Hour, tm(t, utc, "2026-11-02 09:00"), "carol")
	office.Hours = []oncall.Window{weekdaysWindow(9*hour, 17*hour)}
	web := rot("web", 24*time.Hour, tm(t, utc, "2026-11-02 09:00"), "bob", "carol")
	web.Hours = office.Hours
	return &oncall.Directory{
		Users: map[string]klaxon.User{
			"alice": {Name: "alice", Matrix: "@alice:example.org", Email: "Alice@Example.org"},
			"bob":   {Name: "bob", Slack: "U0123BOB"},
			"carol": {Name: "carol", GoogleChat: "users/42"},
		},
		Schedules: map[string]*oncall.Schedule{
			"ops": {Name: "ops", Location: utc, Rotations: []oncall.Rotation{
				rot("primary", 7*24*time.Hour, tm(t, utc, "2026-11-02 09:00"), "alice", "bob"),
				office,
			}, Overrides: []klaxon.Override{{Schedule: "ops", User: "carol",
				Start: tm(t, utc, "2026-12-24 00:00"), End: tm(t, utc, "2026-12-27 00:00")}}},
			"web": {Name: "web", Location: utc, Rotations: []oncall.Rotation{web}},
		},
	}
}

func newService(t *testing.T, opts oncall.Options) (*oncall.Service, *fakeStore) {
	t.Helper()
	store := &fakeStore{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	return oncall.NewService(store, testDirectory(t), opts), store
}

func renderOnCall(list []oncall.OnCall) []string {
	var out []string
	for _, oc := range list {
		s := oc.Schedule + ": now "
		if oc.Now == nil {
			s += "nobody"
		} else {
			s += renderShift(*oc.Now, time.UTC)
		}
		s += "; next "
		if oc.Next == nil {
			s += "nobody"
		} else {
			s += renderShift(*oc.Next, time.UTC)
		}
		out = append(out, s)
	}
	return out
}

func TestOnCall(t *testing.T) {
	ctx := context.Background()
	s, store := newService(t, oncall.Options{})
	utc := time.UTC

	// Saturday: alice until Monday's hand-off; nobody on web until Monday.
	got, err := s.OnCall(ctx, "", time.Time{})
	if err != nil {
		t.Fatalf("OnCall: %v", err)
	}
	diff(t, "Saturday", renderOnCall(got), []string{
		"ops: now alice 2026-11-20 17:00 +0000 → 2026-11-23 09:00 +0000 64h; next carol 2026-11-23 09:00 +0000 → 2026-11-23 17:00 +0000 8h",
		"web: now nobody; next carol 2026-11-23 09:00 +0000 → 2026-11-23 17:00 +0000 8h",
	})
	if want := []string{" 2026-10-17T10:00:00Z 2027-03-01T10:00:00Z"}; !slices.Equal(store.asked, want) {
		t.Errorf("overrides asked for %q, want %q", store.asked, want)
	}

	// alice covers the office hours too on Monday: still her, and the
	// next is bob, not alice again.
	if _, err := s.AddOverride(ctx, klaxon.Override{Schedule: "ops", User: "alice", Replaces: "carol",
		Start: tm(t, utc, "2026-11-23 09:00"), End: tm(t, utc, "2026-11-23 17:00")}); err != nil {
		t.Fatalf("AddOverride: %v", err)
	}
	got, err = s.OnCall(ctx, "ops", tm(t, utc, "2026-11-22 12:00"))
	if err != nil {
		t.Fatalf("OnCall: %v", err)
	}
	diff(t, "with alice's override", renderOnCall(got), []string{
		"ops: now alice 2026-11-20 17:00 +0000 → 2026-11-23 09:00 +0000 64h; next bob 2026-11-23 17:00 +0000 → 2026-11-24 09:00 +0000 16h",
	})
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, oncall.Options{})
	from, to := now, now.Add(24*time.Hour)
	empty := oncall.NewService(&fakeStore{}, nil, oncall.Options{})
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"OnCall", func() error { _, err := s.OnCall(ctx, "db", now); return err }, `no schedule "db"; schedules: ops, web`},
		{"Shifts", func() error { _, err := s.Shifts(ctx, "db", from, to); return err }, `no schedule "db"; schedules: ops, web`},
		{"Overrides", func() error { _, err := s.Overrides(ctx, "db", from, to); return err }, `no schedule "db"; schedules: ops, web`},
		{"UserShifts", func() error { _, err := s.UserShifts(ctx, "zed", from, to); return err }, `no user "zed"; users: alice, bob, carol`},
		{"no schedules", func() error { _, err := empty.OnCall(ctx, "db", now); return err }, `no schedule "db"; there are no schedules`},
		{"no users", func() error { _, err := empty.UserShifts(ctx, "zed", from, to); return err }, `no user "zed"; there are no users`},
		{"RemoveOverride", func() error { _, err := s.RemoveOverride(ctx, 7, "alice"); return err }, `no override 7`},
		{"RemoveOverride of the configuration", func() error { _, err := s.RemoveOverride(ctx, 0, "alice"); return err }, `no override 0 (overrides from the configuration are removed from it)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if klaxon.ErrorCode(err) != klaxon.ENOTFOUND || klaxon.ErrorMessage(err) != tt.want {
				t.Errorf("got %s %q, want not_found %q", klaxon.ErrorCode(err), klaxon.ErrorMessage(err), tt.want)
			}
		})
	}
}

func TestShiftsAndOverrides(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, oncall.Options{})
	utc := time.UTC
	from, to := tm(t, utc, "2026-11-23 00:00"), tm(t, utc, "2026-11-24 00:00")
	stored, err := s.AddOverride(ctx, klaxon.Override{Schedule: "web", User: "alice", Replaces: "carol",
		Start: tm(t, utc, "2026-11-23 12:00"), End: tm(t, utc, "2026-11-23 13:00"), CreatedBy: "carol"})
	if err != nil {
		t.Fatalf("AddOverride: %v", err)
	}
	if stored.ID != 1 || !stored.CreatedAt.Equal(now) || stored.CreatedBy != "carol" {
		t.Errorf("stored: got %+v, want ID 1 created now by carol", stored)
	}

	all, err := s.Shifts(ctx, "", from, to)
	if err != nil {
		t.Fatalf("Shifts: %v", err)
	}
	var got []string
	for _, sh := range all {
		got = append(got, sh.Schedule+" "+renderShift(sh, utc))
	}
	diff(t, "every schedule", got, []string{
		"ops alice 2026-11-23 00:00 +0000 → 2026-11-23 09:00 +0000 9h",
		"ops carol 2026-11-23 09:00 +0000 → 2026-11-23 17:00 +0000 8h",
		"web carol 2026-11-23 09:00 +0000 → 2026-11-23 12:00 +0000 3h",
		"web alice* 2026-11-23 12:00 +0000 → 2026-11-23 13:00 +0000 1h",
		"web carol 2026-11-23 13:00 +0000 → 2026-11-23 17:00 +0000 4h",
		"ops bob 2026-11-23 17:00 +0000 → 2026-11-24 00:00 +0000 7h",
	})

	mine, err := s.UserShifts(ctx, "alice", from, to)
	if err != nil {
		t.Fatalf("UserShifts: %v", err)
	}
	got = nil
	for _, sh := range mine {
		got = append(got, sh.Schedule+" "+renderShift(sh, utc))
	}
	diff(t, "alice's", got, []string{
		"ops alice 2026-11-23 00:00 +0000 → 2026-11-23 09:00 +0000 9h",
		"web alice* 2026-11-23 12:00 +0000 → 2026-11-23 13:00 +0000 1h",
	})

	ovs, err := s.Overrides(ctx, "", from, tm(t, utc, "2027-01-01 00:00"))
	if err != nil {
		t.Fatalf("Overrides: %v", err)
	}
	if len(ovs) != 2 || ovs[0].ID != 0 || ovs[0].User != "carol" || ovs[1].ID != 1 {
		t.Errorf("Overrides: got %+v, want the configuration's then the stored one", ovs)
	}
	if ovs, _ := s.Overrides(ctx, "ops", from, to); len(ovs) != 0 {
		t.Errorf("Overrides of ops this week: got %+v, want none", ovs)
	}

	removed, err := s.RemoveOverride(ctx, stored.ID, "alice")
	if err != nil || removed.ID != stored.ID {
		t.Fatalf("RemoveOverride: got %+v, %v", removed, err)
	}
	if ovs, _ := s.Overrides(ctx, "web", from, to); len(ovs) != 0 {
		t.Errorf("Overrides after the removal: got %+v, want none", ovs)
	}

	for _, r := range [][2]time.Time{{to, from}, {from, from.AddDate(3, 0, 0)}} {
		if _, err := s.Shifts(ctx, "", r[0], r[1]); klaxon.ErrorCode(err) != klaxon.EINVALID {
			t.Errorf("Shifts %s to %s: got %v, want an invalid error", r[0], r[1], err)
		}
	}
}

func TestAddOverrideInvalid(t *testing.T) {
	ctx := context.Background()
	s, store := newService(t, oncall.Options{})
	utc := time.UTC
	valid := klaxon.Override{Schedule: "ops", User: "carol", Replaces: "alice",
		Start: tm(t, utc, "2026-11-22 09:00"), End: tm(t, utc, "2026-11-22 18:00")}
	tests := []struct {
		name   string
		change func(*klaxon.Override)
		want   string
	}{
		{"unknown schedule", func(o *klaxon.Override) { o.Schedule = "db" }, `no schedule "db"; schedules: ops, web`},
		{"unknown user", func(o *klaxon.Override) { o.User = "zed" }, `no user "zed"; users: alice, bob, carol`},
		{"unknown replaces", func(o *klaxon.Override) { o.Replaces = "yan" }, `no user "yan"; users: alice, bob, carol`},
		{"replacing oneself", func(o *klaxon.Override) { o.Replaces = "carol" }, `carol cannot replace themselves`},
		{"ends before it starts", func(o *klaxon.Override) { o.End = o.Start.Add(-time.Hour) },
			`the override ends (2026-11-22T08:00:00Z) before it starts (2026-11-22T09:00:00Z)`},
		{"no start", func(o *klaxon.Override) { o.Start = time.Time{} }, `the override needs a start and an end`},
		{"already over", func(o *klaxon.Override) { o.Start, o.End = now.Add(-2*time.Hour), now },
			`the override is already over (it ended 2026-11-21T10:00:00Z)`},
		{"several problems", func(o *klaxon.Override) { o.Schedule, o.User = "db", "zed" },
			`no schedule "db"; schedules: ops, web; no user "zed"; users: alice, bob, carol`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.change(&o)
			_, err := s.AddOverride(ctx, o)
			if klaxon.ErrorCode(err) != klaxon.EINVALID || klaxon.ErrorMessage(err) != tt.want {
				t.Errorf("got %s %q, want invalid %q", klaxon.ErrorCode(err), klaxon.ErrorMessage(err), tt.want)
			}
		})
	}
	if len(store.overrides) != 0 {
		t.Errorf("stored %+v, want nothing", store.overrides)
	}
	// Started already but not over: fine.
	o := valid
	o.Start = now.Add(-time.Hour)
	if _, err := s.AddOverride(ctx, o); err != nil {
		t.Errorf("AddOverride under way: %v", err)
	}
}

func TestStoreErrors(t *testing.T) {
	s := oncall.NewService(&failingStore{}, testDirectory(t), oncall.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	if _, err := s.OnCall(ctx, "ops", now); !errors.Is(err, errDown) {
		t.Errorf("OnCall: got %v, want the store's error", err)
	}
	if _, err := s.AddOverride(ctx, klaxon.Override{Schedule: "ops", User: "bob", Start: now, End: now.Add(time.Hour)}); !errors.Is(err, errDown) {
		t.Errorf("AddOverride: got %v, want the store's error", err)
	}
}

var errDown = errors.New("database is down")

type failingStore struct{ klaxon.Store }

func (failingStore) Overrides(context.Context, string, time.Time, time.Time) ([]klaxon.Override, error) {
	return nil, errDown
}
func (failingStore) Update(context.Context, func(klaxon.Tx) error) error { return errDown }

func TestSwap(t *testing.T) {
	s, _ := newService(t, oncall.Options{})
	dir := &oncall.Directory{}
	s.Swap(dir)
	if s.Directory() != dir {
		t.Errorf("Directory after Swap: got %p, want %p", s.Directory(), dir)
	}
	if _, err := s.OnCall(context.Background(), "ops", now); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("OnCall after Swap: got %v, want not found", err)
	}
}

func TestUserByIdentity(t *testing.T) {
	s, _ := newService(t, oncall.Options{})
	for id, want := range map[string]string{
		"@alice:example.org": "alice",
		"alice@example.org":  "alice", // e-mail: any case
		"ALICE@EXAMPLE.ORG":  "alice",
		"@Alice:example.org": "",
		"U0123BOB":           "bob",
		"u0123bob":           "",
		"users/42":           "carol",
		"":                   "",
		"carol":              "", // a name is not an identity
	} {
		u, ok := s.UserByIdentity(id)
		if u.Name != want || ok != (want != "") {
			t.Errorf("UserByIdentity(%q): got %q, %v; want %q", id, u.Name, ok, want)
		}
	}
}

func TestFeedToken(t *testing.T) {
	s, _ := newService(t, oncall.Options{Secret: []byte("calendar secret")})
	tok := s.FeedToken("schedule", "ops")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(tok) {
		t.Errorf("FeedToken: got %q, want 32 hex digits", tok)
	}
	if tok != s.FeedToken("schedule", "ops") {
		t.Error("FeedToken differs between calls")
	}
	for _, other := range [][2]string{{"user", "ops"}, {"schedule", "web"}, {"schedule:ops", ""}} {
		if s.FeedToken(other[0], other[1]) == tok {
			t.Errorf("FeedToken(%q, %q) is ops's", other[0], other[1])
		}
	}
	if !s.CheckFeedToken("schedule", "ops", tok) {
		t.Error("CheckFeedToken: refused the right token")
	}
	for _, bad := range []string{"", strings.ToUpper(tok), tok[:31], s.FeedToken("user", "ops")} {
		if s.CheckFeedToken("schedule", "ops", bad) {
			t.Errorf("CheckFeedToken(%q): accepted", bad)
		}
	}

	open, _ := newService(t, oncall.Options{})
	if got := open.FeedToken("schedule", "ops"); got != "" {
		t.Errorf("FeedToken without a secret: got %q, want none", got)
	}
	if open.CheckFeedToken("schedule", "ops", "") || open.CheckFeedToken("schedule", "ops", tok) {
		t.Error("CheckFeedToken without a secret: accepted")
	}
}
