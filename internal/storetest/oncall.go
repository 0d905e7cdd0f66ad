package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// cest is a zone other than UTC for times on the way in; they read back in
// UTC.
var cest = time.FixedZone("CEST", 2*60*60)

func insertOverrides(t *testing.T, s klaxon.Store, list ...*klaxon.Override) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, o := range list {
			if err := tx.InsertOverride(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
}

func overrides(t *testing.T, s klaxon.Store, schedule string, from, to time.Time) []klaxon.Override {
	t.Helper()
	got, err := s.Overrides(context.Background(), schedule, from, to)
	if err != nil {
		t.Fatalf("Overrides(%q, %v, %v): %v", schedule, from, to, err)
	}
	return got
}

func overrideIDs(list []klaxon.Override) []int64 {
	var ids []int64
	for _, o := range list {
		ids = append(ids, o.ID)
	}
	return ids
}

func newOverride(schedule, user string, start, end time.Time) *klaxon.Override {
	return &klaxon.Override{Schedule: schedule, User: user, Start: start, End: end, CreatedBy: "ops-cli", CreatedAt: t0}
}

func testOverrides(t *testing.T, s klaxon.Store) {
	from, to := t0, t0.Add(24*time.Hour)
	endsAtFrom := newOverride("ops", "ends-at-from", from.Add(-2*time.Hour), from)
	startsAtTo := newOverride("ops", "starts-at-to", to, to.Add(time.Hour))
	spanning := newOverride("ops", "spanning", from.Add(-24*time.Hour), to.Add(24*time.Hour))
	early := newOverride("ops", "early", from.Add(-time.Hour), from.Add(time.Microsecond))
	tieFirst := newOverride("ops", "tie-first", from.Add(2*time.Hour), from.Add(3*time.Hour))
	tieSecond := newOverride("ops", "tie-second", from.Add(2*time.Hour), from.Add(4*time.Hour))
	insertOverrides(t, s, endsAtFrom, startsAtTo, spanning, early, tieFirst, tieSecond)
	// Every field set, in another zone; inserted last but starting earlier
	// than the ties.
	full := &klaxon.Override{
		Schedule:  "ops",
		User:      "carol",
		Replaces:  "bob",
		Start:     from.Add(time.Hour + 123456*time.Microsecond).In(cest),
		End:       from.Add(90*time.Minute + 654321*time.Microsecond).In(cest),
		CreatedBy: "@alice:example.org",
		CreatedAt: t0.Add(-time.Hour + 987654*time.Microsecond).In(cest),
	}
	other := newOverride("db", "dave", from.Add(30*time.Minute), from.Add(90*time.Minute))
	insertOverrides(t, s, full, other)
	all := []*klaxon.Override{endsAtFrom, startsAtTo, spanning, early, tieFirst, tieSecond, full, other}
	for i, o := range all {
		if o.ID == 0 || i > 0 && o.ID <= all[i-1].ID {
			t.Fatalf("InsertOverride set IDs %v; want them set and increasing", overrideIDs(deref(all)))
		}
	}
	full.Start, full.End, full.CreatedAt = full.Start.UTC(), full.End.UTC(), full.CreatedAt.UTC()

	tests := []struct {
		name     string
		schedule string
		from, to time.Time
		want     []*klaxon.Override
	}{
		{"one schedule, by start then ID", "ops", from, to, []*klaxon.Override{spanning, early, full, tieFirst, tieSecond}},
		{"every schedule", "", from, to, []*klaxon.Override{spanning, early, other, full, tieFirst, tieSecond}},
		{"other schedule", "db", from, to, []*klaxon.Override{other}},
		{"unknown schedule", "missing", from, to, nil},
		{"ending at from excluded", "ops", from.Add(3 * time.Hour), from.Add(3*time.Hour + time.Microsecond), []*klaxon.Override{spanning, tieSecond}},
		{"starting at to excluded", "ops", from.Add(-3 * time.Hour), from.Add(-2 * time.Hour), []*klaxon.Override{spanning}},
		{"starting just before to included", "ops", from.Add(-3 * time.Hour), from.Add(-2*time.Hour + time.Microsecond), []*klaxon.Override{spanning, endsAtFrom}},
		{"window past every override", "", to.Add(48 * time.Hour), to.Add(49 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := overrides(t, s, tt.schedule, tt.from, tt.to)
			want := deref(tt.want)
			if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("Overrides(%q):\n got %s\nwant %s", tt.schedule, dump(got), dump(want))
			}
		})
	}
}

func deref(list []*klaxon.Override) []klaxon.Override {
	var out []klaxon.Override
	for _, o := range list {
		out = append(out, *o)
	}
	return out
}

func testDeleteOverride(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	gone := newOverride("ops", "alice", t0, t0.Add(time.Hour))
	gone.Replaces, gone.CreatedAt = "bob", t0.Add(123456*time.Microsecond).In(cest)
	kept := newOverride("ops", "carol", t0, t0.Add(time.Hour))
	insertOverrides(t, s, gone, kept)
	gone.CreatedAt = gone.CreatedAt.UTC()

	deleteOverride := func(id int64) (*klaxon.Override, error) {
		var o *klaxon.Override
		err := s.Update(ctx, func(tx klaxon.Tx) (err error) {
			o, err = tx.DeleteOverride(ctx, id)
			return err
		})
		return o, err
	}
	got, err := deleteOverride(gone.ID)
	if err != nil {
		t.Fatalf("DeleteOverride(%d): %v", gone.ID, err)
	}
	if !reflect.DeepEqual(got, gone) {
		t.Errorf("DeleteOverride(%d):\n got %s\nwant %s", gone.ID, dump(got), dump(gone))
	}
	for _, id := range []int64{gone.ID, 999999} {
		if got, err := deleteOverride(id); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			t.Errorf("DeleteOverride(%d) of none: got %s, %v; want ENOTFOUND", id, dump(got), err)
		}
	}
	if got := overrides(t, s, "", t0.Add(-time.Hour), t0.Add(2*time.Hour)); !reflect.DeepEqual(overrideIDs(got), []int64{kept.ID}) {
		t.Errorf("after delete: Overrides = %s, want only override %d", dump(got), kept.ID)
	}
}

func escalation(t *testing.T, s klaxon.Store, groupID int64) *klaxon.Escalation {
	t.Helper()
	e, err := s.Escalation(context.Background(), groupID)
	if err != nil {
		t.Fatalf("Escalation(%d): %v", groupID, err)
	}
	return e
}

func escalationForUpdate(t *testing.T, s klaxon.Store, groupID int64) *klaxon.Escalation {
	t.Helper()
	var e *klaxon.Escalation
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		e, err = tx.EscalationForUpdate(ctx, groupID)
		return err
	})
	return e
}

func saveEscalation(t *testing.T, s klaxon.Store, e *klaxon.Escalation) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.SaveEscalation(ctx, e) })
}

func testEscalations(t *testing.T, s klaxon.Store) {
	g, quiet := newGroup("0", "g"), newGroup("0", "quiet")
	insertGroup(t, s, g)
	insertGroup(t, s, quiet)
	if e := escalation(t, s, g.ID); e != nil {
		t.Errorf("Escalation before any: got %s, want nil", dump(e))
	}
	if e := escalationForUpdate(t, s, g.ID); e != nil {
		t.Errorf("EscalationForUpdate before any: got %s, want nil", dump(e))
	}

	running := &klaxon.Escalation{
		GroupID:   g.ID,
		Policy:    "payments",
		Epoch:     1,
		Step:      1,
		DueAt:     t0.Add(5*time.Minute + 123456*time.Microsecond).In(cest),
		StartedAt: t0.Add(654321 * time.Microsecond).In(cest),
		Mention:   []string{"alice", "bob"},
	}
	saveEscalation(t, s, running)
	want := *running
	want.DueAt, want.StartedAt = want.DueAt.UTC(), want.StartedAt.UTC()
	check := func(when string, want *klaxon.Escalation) {
		t.Helper()
		if got := escalation(t, s, g.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("Escalation %s:\n got %s\nwant %s", when, dump(got), dump(want))
		}
		if got := escalationForUpdate(t, s, g.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("EscalationForUpdate %s:\n got %s\nwant %s", when, dump(got), dump(want))
		}
	}
	check("after saving", &want)

	// Replaced, every field: stopped, so no DueAt; Mention cleared.
	stopped := klaxon.Escalation{
		GroupID:    g.ID,
		Policy:     "payments-night",
		Epoch:      2,
		Step:       4,
		StartedAt:  t0.Add(time.Hour),
		StoppedAt:  t0.Add(2*time.Hour + 123*time.Microsecond),
		StopReason: "acknowledged by alice",
		Paged:      []string{"pagerduty", "ops-room"},
	}
	saveEscalation(t, s, &stopped)
	check("after replacing", &stopped)

	// Empty lists read back as nil.
	empty := stopped
	empty.Mention, empty.Paged = []string{}, []string{}
	saveEscalation(t, s, &empty)
	empty.Mention, empty.Paged = nil, nil
	check("with empty lists", &empty)

	// A transaction reads its own write.
	next := want
	next.GroupID, next.Epoch = quiet.ID, 7
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.SaveEscalation(ctx, &next); err != nil {
			return err
		}
		got, err := tx.EscalationForUpdate(ctx, quiet.ID)
		if err != nil || !reflect.DeepEqual(got, &next) {
			return fmt.Errorf("EscalationForUpdate after saving in the same transaction: got %s, %v; want %s", dump(got), err, dump(next))
		}
		return nil
	})
	if got := escalation(t, s, quiet.ID); !reflect.DeepEqual(got, &next) {
		t.Errorf("Escalation(%d):\n got %s\nwant %s", quiet.ID, dump(got), dump(next))
	}
	if got := escalation(t, s, 999999); got != nil {
		t.Errorf("Escalation of an unknown group: got %s, want nil", dump(got))
	}
}

func testFiringMembers(t *testing.T, s klaxon.Store) {
	alert := func(key string, state klaxon.State) *klaxon.Alert {
		a := newAlert(key)
		a.State = state
		switch state {
		case klaxon.StateAcknowledged:
			a.AckedBy, a.AckedAt = "alice", t0.Add(time.Minute)
		case klaxon.StateResolved:
			a.ResolvedBy, a.ResolvedAt = "am", t0.Add(2*time.Minute)
		}
		return a
	}
	f1, f2, f3 := alert("f1", klaxon.StateFiring), alert("f2", klaxon.StateFiring), alert("f3", klaxon.StateFiring)
	ack, res := alert("ack", klaxon.StateAcknowledged), alert("res", klaxon.StateResolved)
	insert(t, s, f1, f2, f3, ack, res)
	mixed := newGroup("0", "mixed")
	insertGroup(t, s, mixed, f1, ack, f2, res)
	single := newGroup("0", "single")
	insertGroup(t, s, single, res, f3)
	shared := newGroup("1", "shared") // f1 counts in each of its groups
	insertGroup(t, s, shared, f1, f3)
	quiet := newGroup("0", "quiet")
	insertGroup(t, s, quiet, ack, res)
	empty := newGroup("0", "empty")
	insertGroup(t, s, empty)

	firing := func(ctx context.Context, tx klaxon.Tx, ids ...int64) (map[int64]int, error) {
		got, err := tx.FiringMembers(ctx, ids...)
		if err != nil {
			return nil, fmt.Errorf("FiringMembers: %w", err)
		}
		return got, nil
	}
	// More IDs than any one statement chunk, most of them unknown.
	ids := []int64{mixed.ID, single.ID, shared.ID, quiet.ID, empty.ID}
	for i := range 150 {
		ids = append(ids, 1000000+int64(i))
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		got, err := firing(ctx, tx, ids...)
		if err != nil {
			return err
		}
		want := map[int64]int{mixed.ID: 2, single.ID: 1, shared.ID: 2}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FiringMembers: got %v, want %v (groups with none firing absent)", got, want)
		}
		if got, err := firing(ctx, tx); err != nil || len(got) != 0 {
			t.Errorf("FiringMembers(): got %v, %v; want empty", got, err)
		}
		// Counts follow the transaction's own changes.
		f3.State, f3.AckedBy, f3.AckedAt = klaxon.StateAcknowledged, "alice", t0.Add(time.Hour)
		if err := tx.UpdateAlert(ctx, f3); err != nil {
			return err
		}
		got, err = firing(ctx, tx, single.ID, shared.ID)
		if err != nil {
			return err
		}
		if want := map[int64]int{shared.ID: 1}; !reflect.DeepEqual(got, want) {
			t.Errorf("FiringMembers after acknowledging %d: got %v, want %v", f3.ID, got, want)
		}
		return nil
	})
}

func testOnCallRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	kept := newOverride("ops", "alice", t0, t0.Add(time.Hour))
	insertOverrides(t, s, kept)
	g, fresh := newGroup("0", "g"), newGroup("0", "fresh")
	insertGroup(t, s, g)
	insertGroup(t, s, fresh)
	saved := &klaxon.Escalation{GroupID: g.ID, Policy: "payments", Epoch: 1, Step: 1, DueAt: t0.Add(5 * time.Minute), StartedAt: t0}
	saveEscalation(t, s, saved)

	boom := errors.New("boom")
	lost := newOverride("ops", "bob", t0, t0.Add(time.Hour))
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertOverride(ctx, lost); err != nil {
			return err
		}
		if _, err := tx.DeleteOverride(ctx, kept.ID); err != nil {
			return err
		}
		changed := *saved
		changed.Step, changed.DueAt, changed.Mention = 2, t0.Add(10*time.Minute), []string{"carol"}
		if err := tx.SaveEscalation(ctx, &changed); err != nil {
			return err
		}
		if err := tx.SaveEscalation(ctx, &klaxon.Escalation{GroupID: fresh.ID, Policy: "payments", Epoch: 1, StartedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	if lost.ID == 0 {
		t.Fatal("InsertOverride did not set ID")
	}
	if got := overrides(t, s, "", t0, t0.Add(time.Hour)); !reflect.DeepEqual(overrideIDs(got), []int64{kept.ID}) {
		t.Errorf("after rollback: Overrides = %s, want only override %d", dump(got), kept.ID)
	}
	if got := escalation(t, s, g.ID); !reflect.DeepEqual(got, saved) {
		t.Errorf("after rollback: Escalation(%d) = %s, want %s unchanged", g.ID, dump(got), dump(saved))
	}
	if got := escalation(t, s, fresh.ID); got != nil {
		t.Errorf("after rollback: Escalation(%d) = %s, want nil", fresh.ID, dump(got))
	}
}
