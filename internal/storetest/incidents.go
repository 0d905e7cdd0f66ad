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

func newIncident(service string, declared time.Time) *klaxon.Incident {
	return &klaxon.Incident{
		Title:      "INCIDENT: " + service + " - errors",
		Service:    service,
		Summary:    "errors",
		Level:      1,
		Status:     klaxon.IncidentInvestigating,
		Reporter:   "alice",
		DetectedAt: declared,
		DeclaredAt: declared,
		Alerts:     []int64{},
	}
}

func insertIncidents(t *testing.T, s klaxon.Store, list ...*klaxon.Incident) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, i := range list {
			if err := tx.InsertIncident(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
}

func incident(t *testing.T, s klaxon.Store, id int64) *klaxon.Incident {
	t.Helper()
	i, err := s.Incident(context.Background(), id)
	if err != nil {
		t.Fatalf("Incident(%d): %v", id, err)
	}
	return i
}

func incidentForUpdate(t *testing.T, s klaxon.Store, id int64) *klaxon.Incident {
	t.Helper()
	var i *klaxon.Incident
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		i, err = tx.IncidentForUpdate(ctx, id)
		return err
	})
	return i
}

func incidents(t *testing.T, s klaxon.Store, f klaxon.IncidentFilter) []*klaxon.Incident {
	t.Helper()
	got, err := s.Incidents(context.Background(), f)
	if err != nil {
		t.Fatalf("Incidents(%+v): %v", f, err)
	}
	return got
}

func incidentIDs(list []*klaxon.Incident) []int64 {
	var ids []int64
	for _, i := range list {
		ids = append(ids, i.ID)
	}
	return ids
}

// checkIncident reads an incident back every way there is and compares.
func checkIncident(t *testing.T, s klaxon.Store, when string, want *klaxon.Incident) {
	t.Helper()
	if got := incident(t, s, want.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("Incident %s:\n got %s\nwant %s", when, dump(got), dump(want))
	}
	if got := incidentForUpdate(t, s, want.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("IncidentForUpdate %s:\n got %s\nwant %s", when, dump(got), dump(want))
	}
	for _, got := range incidents(t, s, klaxon.IncidentFilter{}) {
		if got.ID == want.ID && !reflect.DeepEqual(got, want) {
			t.Errorf("Incidents %s:\n got %s\nwant %s", when, dump(got), dump(want))
		}
	}
}

func testIncidents(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a1, a2 := newAlert("a1"), newAlert("a2")
	insert(t, s, a1, a2)

	// Every field set, times in another zone, alerts not in order.
	full := &klaxon.Incident{
		Title:      "INCIDENT: api - 50% of requests failing",
		Service:    "api",
		Summary:    "50% of requests failing",
		Level:      0,
		Status:     klaxon.IncidentMonitoring,
		Public:     true,
		Reporter:   "@alice:example.org",
		DetectedAt: t0.Add(-time.Hour + 123456*time.Microsecond).In(cest),
		DeclaredAt: t0.Add(654321 * time.Microsecond).In(cest),
		ResolvedAt: t0.Add(3*time.Hour + 1*time.Microsecond).In(cest),
		Commander:  "alice",
		CommsLead:  "bob",
		Responders: []string{"carol", "dave"},
		Room:       klaxon.IncidentRoom{Channel: "matrix", Ref: "!abc:example.org", Name: "inc-1-api"},
		Checklist: []klaxon.ChecklistItem{
			{Text: "Page the database team", DoneBy: "carol", DoneAt: t0.Add(5*time.Minute + 987654*time.Microsecond).In(cest)},
			{Text: "Post on the status page"},
			{Text: "Freeze deploys", DoneBy: "dave", DoneAt: t0.Add(6 * time.Minute)},
		},
		NextUpdateAt:   t0.Add(30*time.Minute + 11*time.Microsecond).In(cest),
		LastUpdateAt:   t0.Add(15*time.Minute + 22*time.Microsecond).In(cest),
		MissedUpdates:  2,
		EscalatedAt:    t0.Add(20*time.Minute + 33*time.Microsecond).In(cest),
		EscalationStep: 3,
		RootCause:      "connection pool exhausted",
		Fix:            "raised the pool size",
		Impact:         "half of checkouts failed for 3 hours",
		PostmortemDue:  t0.Add(5*24*time.Hour + 44*time.Microsecond).In(cest),
		PostmortemDone: t0.Add(4*24*time.Hour + 55*time.Microsecond).In(cest),
		Alerts:         []int64{a2.ID, a1.ID},
	}
	// Nothing optional: no alerts (nil), empty lists.
	minimal := newIncident("db", t0)
	minimal.Alerts, minimal.Responders, minimal.Checklist = nil, []string{}, []klaxon.ChecklistItem{}
	insertIncidents(t, s, full, minimal)
	if full.ID == 0 || minimal.ID <= full.ID {
		t.Fatalf("InsertIncident set IDs %d, %d; want them set and increasing", full.ID, minimal.ID)
	}

	want := *full
	want.DetectedAt, want.DeclaredAt, want.ResolvedAt = want.DetectedAt.UTC(), want.DeclaredAt.UTC(), want.ResolvedAt.UTC()
	want.NextUpdateAt, want.LastUpdateAt, want.EscalatedAt = want.NextUpdateAt.UTC(), want.LastUpdateAt.UTC(), want.EscalatedAt.UTC()
	want.PostmortemDue, want.PostmortemDone = want.PostmortemDue.UTC(), want.PostmortemDone.UTC()
	want.Checklist = []klaxon.ChecklistItem{
		{Text: "Page the database team", DoneBy: "carol", DoneAt: t0.Add(5*time.Minute + 987654*time.Microsecond)},
		{Text: "Post on the status page"},
		{Text: "Freeze deploys", DoneBy: "dave", DoneAt: t0.Add(6 * time.Minute)},
	}
	want.Alerts = []int64{a1.ID, a2.ID}
	checkIncident(t, s, "with every field", &want)

	// Alerts never nil; empty lists read back as nil.
	wantMinimal := *minimal
	wantMinimal.Alerts, wantMinimal.Responders, wantMinimal.Checklist = []int64{}, nil, nil
	checkIncident(t, s, "with nothing optional", &wantMinimal)

	if got := incidents(t, s, klaxon.IncidentFilter{}); !reflect.DeepEqual(incidentIDs(got), []int64{minimal.ID, full.ID}) {
		t.Errorf("Incidents: got IDs %v, want %v (newest first)", incidentIDs(got), []int64{minimal.ID, full.ID})
	}

	if got, err := s.Incident(ctx, 999999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("Incident(999999): got %s, %v; want ENOTFOUND", dump(got), err)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if got, err := tx.IncidentForUpdate(ctx, 999999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("IncidentForUpdate(999999): got %s, %v; want ENOTFOUND", dump(got), err)
		}
		unknown := newIncident("x", t0)
		unknown.ID = 999999
		if err := tx.UpdateIncident(ctx, unknown); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("UpdateIncident(999999): got %v, want ENOTFOUND", err)
		}
		return nil
	})
	if got := incidents(t, s, klaxon.IncidentFilter{}); len(got) != 2 {
		t.Errorf("after updating an unknown incident: %d incidents, want 2", len(got))
	}

	// An unknown alert fails the insert.
	bad := newIncident("web", t0)
	bad.Alerts = []int64{a1.ID, 999999}
	err := s.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertIncident(ctx, bad) })
	if klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("InsertIncident with an unknown alert: got %v, want ENOTFOUND", err)
	}
}

func testUpdateIncident(t *testing.T, s klaxon.Store) {
	a1, a2 := newAlert("a1"), newAlert("a2")
	insert(t, s, a1, a2)
	i := newIncident("api", t0)
	i.Alerts = []int64{a1.ID}
	insertIncidents(t, s, i)

	// Every field changed; Alerts is not written.
	resolved := klaxon.Incident{
		ID:             i.ID,
		Title:          "INCIDENT: api - checkout down",
		Service:        "checkout",
		Summary:        "checkout down",
		Level:          2,
		Status:         klaxon.IncidentResolved,
		Public:         true,
		Reporter:       "bob",
		DetectedAt:     t0.Add(-time.Minute),
		DeclaredAt:     t0.Add(time.Minute),
		ResolvedAt:     t0.Add(time.Hour + 123*time.Microsecond).In(cest),
		Commander:      "carol",
		CommsLead:      "dave",
		Responders:     []string{"erin"},
		Room:           klaxon.IncidentRoom{Channel: "slack", Ref: "C123", Name: "inc-1"},
		Checklist:      []klaxon.ChecklistItem{{Text: "Roll back", DoneBy: "erin", DoneAt: t0.Add(10*time.Minute + 456*time.Microsecond).In(cest)}},
		NextUpdateAt:   t0.Add(2 * time.Hour),
		LastUpdateAt:   t0.Add(time.Hour),
		MissedUpdates:  1,
		EscalatedAt:    t0.Add(30 * time.Minute),
		EscalationStep: 2,
		RootCause:      "bad deploy",
		Fix:            "rolled back",
		Impact:         "no checkouts for an hour",
		PostmortemDue:  t0.Add(72 * time.Hour),
		PostmortemDone: t0.Add(48 * time.Hour),
		Alerts:         []int64{a2.ID},
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if _, err := tx.IncidentForUpdate(ctx, i.ID); err != nil {
			return err
		}
		if err := tx.UpdateIncident(ctx, &resolved); err != nil {
			return err
		}
		// A transaction reads its own write.
		got, err := tx.IncidentForUpdate(ctx, i.ID)
		if err != nil {
			return err
		}
		if got.Title != resolved.Title || !reflect.DeepEqual(got.Alerts, []int64{a1.ID}) {
			return fmt.Errorf("IncidentForUpdate after UpdateIncident in the same transaction: got %s", dump(got))
		}
		return nil
	})
	want := resolved
	want.ResolvedAt = want.ResolvedAt.UTC()
	want.Checklist = []klaxon.ChecklistItem{{Text: "Roll back", DoneBy: "erin", DoneAt: t0.Add(10*time.Minute + 456*time.Microsecond)}}
	want.Alerts = []int64{a1.ID}
	checkIncident(t, s, "after updating every field", &want)

	// Cleared again: optional times, lists and room back to zero.
	reopened := *newIncident("api", t0)
	reopened.ID, reopened.Alerts = i.ID, nil
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.UpdateIncident(ctx, &reopened) })
	reopened.Alerts = []int64{a1.ID}
	checkIncident(t, s, "after clearing", &reopened)
}

func testIncidentFilters(t *testing.T, s klaxon.Store) {
	resolved := func(service string, declared time.Time) *klaxon.Incident {
		i := newIncident(service, declared)
		i.Status, i.ResolvedAt = klaxon.IncidentResolved, declared.Add(time.Hour)
		return i
	}
	oldResolved := resolved("old-resolved", t0.Add(-48*time.Hour))
	oldOpen := newIncident("old-open", t0.Add(-48*time.Hour))
	atSince := resolved("at-since", t0)
	monitoring := newIncident("monitoring", t0.Add(time.Hour))
	monitoring.Status = klaxon.IncidentMonitoring
	// Inserted last but declared earlier: order is by ID.
	lateResolved := resolved("late-resolved", t0.Add(-time.Hour))
	insertIncidents(t, s, oldResolved, oldOpen, atSince, monitoring, lateResolved)

	tests := []struct {
		name string
		f    klaxon.IncidentFilter
		want []*klaxon.Incident
	}{
		{"all, newest first", klaxon.IncidentFilter{}, []*klaxon.Incident{lateResolved, monitoring, atSince, oldOpen, oldResolved}},
		{"open", klaxon.IncidentFilter{Open: true}, []*klaxon.Incident{monitoring, oldOpen}},
		{"since, inclusive, or open", klaxon.IncidentFilter{Since: t0}, []*klaxon.Incident{monitoring, atSince, oldOpen}},
		{"since in another zone", klaxon.IncidentFilter{Since: t0.Add(-time.Hour).In(cest)}, []*klaxon.Incident{lateResolved, monitoring, atSince, oldOpen}},
		{"since just after", klaxon.IncidentFilter{Since: t0.Add(time.Microsecond)}, []*klaxon.Incident{monitoring, oldOpen}},
		{"open since", klaxon.IncidentFilter{Open: true, Since: t0}, []*klaxon.Incident{monitoring, oldOpen}},
		{"limit", klaxon.IncidentFilter{Limit: 2}, []*klaxon.Incident{lateResolved, monitoring}},
		{"open, limit", klaxon.IncidentFilter{Open: true, Limit: 1}, []*klaxon.Incident{monitoring}},
		{"since, limit", klaxon.IncidentFilter{Since: t0, Limit: 2}, []*klaxon.Incident{monitoring, atSince}},
		{"limit above count", klaxon.IncidentFilter{Limit: 50}, []*klaxon.Incident{lateResolved, monitoring, atSince, oldOpen, oldResolved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := incidents(t, s, tt.f)
			if !reflect.DeepEqual(incidentIDs(got), incidentIDs(tt.want)) {
				t.Errorf("Incidents(%+v): got IDs %v, want %v", tt.f, incidentIDs(got), incidentIDs(tt.want))
			}
		})
	}
	if got := incidents(t, s, klaxon.IncidentFilter{Open: true, Since: t0.Add(24 * time.Hour)}); len(got) != 2 {
		t.Errorf("Incidents open since tomorrow: got IDs %v, want the 2 open ones", incidentIDs(got))
	}
}

func testLinkAlert(t *testing.T, s klaxon.Store) {
	a1, a2, a3 := newAlert("a1"), newAlert("a2"), newAlert("a3")
	insert(t, s, a1, a2, a3)
	x, y := newIncident("x", t0), newIncident("y", t0)
	x.Alerts = []int64{a2.ID}
	insertIncidents(t, s, x, y)

	link := func(ctx context.Context, tx klaxon.Tx, incidentID, alertID int64, want bool) error {
		linked, err := tx.LinkAlert(ctx, incidentID, alertID)
		if err != nil || linked != want {
			return fmt.Errorf("LinkAlert(%d, %d): got %v, %v; want %v", incidentID, alertID, linked, err, want)
		}
		return nil
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		steps := []struct {
			incident, alert int64
			want            bool
		}{
			{x.ID, a1.ID, true},
			{x.ID, a1.ID, false}, // twice
			{x.ID, a2.ID, false}, // linked by InsertIncident
			{y.ID, a1.ID, true},  // an alert may be in several incidents
		}
		for _, st := range steps {
			if err := link(ctx, tx, st.incident, st.alert, st.want); err != nil {
				return err
			}
		}
		if linked, err := tx.LinkAlert(ctx, x.ID, 999999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND || linked {
			return fmt.Errorf("LinkAlert of an unknown alert: got %v, %v; want false, ENOTFOUND", linked, err)
		}
		if linked, err := tx.LinkAlert(ctx, 999999, a1.ID); klaxon.ErrorCode(err) != klaxon.ENOTFOUND || linked {
			return fmt.Errorf("LinkAlert to an unknown incident: got %v, %v; want false, ENOTFOUND", linked, err)
		}
		// The transaction is still usable after those errors, and reads
		// its own links.
		if err := link(ctx, tx, y.ID, a3.ID, true); err != nil {
			return err
		}
		got, err := tx.IncidentForUpdate(ctx, x.ID)
		if err != nil {
			return err
		}
		if want := []int64{a1.ID, a2.ID}; !reflect.DeepEqual(got.Alerts, want) {
			return fmt.Errorf("IncidentForUpdate(%d) in the linking transaction: alerts %v, want %v", x.ID, got.Alerts, want)
		}
		return nil
	})

	wantAlerts := map[int64][]int64{x.ID: {a1.ID, a2.ID}, y.ID: {a1.ID, a3.ID}}
	for id, want := range wantAlerts {
		if got := incident(t, s, id).Alerts; !reflect.DeepEqual(got, want) {
			t.Errorf("Incident(%d).Alerts = %v, want %v", id, got, want)
		}
	}
	list := incidents(t, s, klaxon.IncidentFilter{})
	for _, i := range list {
		if want := wantAlerts[i.ID]; !reflect.DeepEqual(i.Alerts, want) {
			t.Errorf("Incidents: incident %d alerts %v, want %v", i.ID, i.Alerts, want)
		}
	}
	if len(list) != 2 {
		t.Errorf("Incidents: got IDs %v, want %d and %d", incidentIDs(list), y.ID, x.ID)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return link(ctx, tx, x.ID, a1.ID, false) })
}

func testIncidentByRoom(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("a")
	insert(t, s, a)
	matrix, slack := newIncident("matrix", t0), newIncident("slack", t0)
	matrix.Room = klaxon.IncidentRoom{Channel: "matrix", Ref: "!abc:example.org", Name: "inc-1"}
	matrix.Alerts = []int64{a.ID}
	slack.Room = klaxon.IncidentRoom{Channel: "slack", Ref: "C123", Name: "inc-2"}
	pending := newIncident("pending", t0) // room asked for, not yet opened
	pending.Room = klaxon.IncidentRoom{Channel: "slack"}
	roomless := newIncident("roomless", t0)
	insertIncidents(t, s, matrix, slack, pending, roomless)

	byRoom := func(channel, ref string) *klaxon.Incident {
		t.Helper()
		i, err := s.IncidentByRoom(ctx, channel, ref)
		if err != nil {
			t.Fatalf("IncidentByRoom(%q, %q): %v", channel, ref, err)
		}
		return i
	}
	for _, want := range []*klaxon.Incident{matrix, slack} {
		if got := byRoom(want.Room.Channel, want.Room.Ref); !reflect.DeepEqual(got, want) {
			t.Errorf("IncidentByRoom(%q, %q):\n got %s\nwant %s", want.Room.Channel, want.Room.Ref, dump(got), dump(want))
		}
	}
	for _, room := range [][2]string{
		{"matrix", "C123"},   // another channel's ref
		{"slack", ""},        // not opened yet: never found
		{"", ""},             // no room
		{"slack", "missing"}, // unknown
	} {
		if got := byRoom(room[0], room[1]); got != nil {
			t.Errorf("IncidentByRoom(%q, %q): got %s, want nil", room[0], room[1], dump(got))
		}
	}

	// Opening the room makes it found.
	pending.Room.Ref, pending.Room.Name = "C999", "inc-3"
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.UpdateIncident(ctx, pending) })
	if got := byRoom("slack", "C999"); !reflect.DeepEqual(got, pending) {
		t.Errorf("IncidentByRoom after opening:\n got %s\nwant %s", dump(got), dump(pending))
	}
}

func testTimeline(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("a")
	insert(t, s, a)
	x, y := newIncident("x", t0), newIncident("y", t0)
	insertIncidents(t, s, x, y)

	entry := func(incidentID int64, at time.Time, kind klaxon.TimelineKind) *klaxon.TimelineEntry {
		return &klaxon.TimelineEntry{IncidentID: incidentID, At: at, Actor: "alice", Kind: kind,
			Text: string(kind) + " at " + at.Format(time.TimeOnly), Status: klaxon.IncidentInvestigating}
	}
	late := entry(x.ID, t0.Add(2*time.Minute), klaxon.TimelineNote)
	declared := entry(x.ID, t0.Add(123456*time.Microsecond).In(cest), klaxon.TimelineDeclared)
	tie := entry(x.ID, t0.Add(2*time.Minute), klaxon.TimelineRole) // same At as late, inserted after
	linked := entry(x.ID, t0.Add(time.Minute), klaxon.TimelineAlertLinked)
	linked.AlertID = a.ID
	public := entry(x.ID, t0.Add(90*time.Second), klaxon.TimelineUpdate)
	public.Public, public.Status, public.Actor = true, klaxon.IncidentIdentified, "@bob:example.org"
	other := entry(y.ID, t0, klaxon.TimelineDeclared)
	batch := []*klaxon.TimelineEntry{late, declared, tie, linked, public, other}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.AddTimeline(ctx); err != nil {
			return fmt.Errorf("AddTimeline(): %w", err)
		}
		return tx.AddTimeline(ctx, batch...)
	})
	for n, e := range batch {
		if e.ID == 0 || n > 0 && e.ID <= batch[n-1].ID {
			t.Fatalf("AddTimeline set entry %d's ID to %d; want IDs set and increasing: %s", n, e.ID, dump(batch))
		}
	}
	// Added later, but earliest.
	first := entry(x.ID, t0.Add(-time.Minute), klaxon.TimelineRoom)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.AddTimeline(ctx, first) })
	if first.ID <= other.ID {
		t.Errorf("AddTimeline set ID %d, not above the previous %d", first.ID, other.ID)
	}
	declared.At = declared.At.UTC()

	timeline := func(id int64) []klaxon.TimelineEntry {
		t.Helper()
		got, err := s.Timeline(ctx, id)
		if err != nil {
			t.Fatalf("Timeline(%d): %v", id, err)
		}
		return got
	}
	want := []klaxon.TimelineEntry{*first, *declared, *linked, *public, *late, *tie}
	if got := timeline(x.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline(%d), by At then ID:\n got %s\nwant %s", x.ID, dump(got), dump(want))
	}
	if got := timeline(y.ID); !reflect.DeepEqual(got, []klaxon.TimelineEntry{*other}) {
		t.Errorf("Timeline(%d):\n got %s\nwant [%s]", y.ID, dump(got), dump(other))
	}
	if got := timeline(999999); len(got) != 0 {
		t.Errorf("Timeline of an unknown incident: got %s, want none", dump(got))
	}
}

func testActions(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	x, y := newIncident("x", t0), newIncident("y", t0)
	insertIncidents(t, s, x, y)
	action := func(incidentID int64, text string) *klaxon.ActionItem {
		return &klaxon.ActionItem{IncidentID: incidentID, Text: text, CreatedBy: "alice", CreatedAt: t0.Add(time.Hour)}
	}
	owned := action(x.ID, "Alert on pool saturation")
	owned.Owner, owned.CreatedAt = "bob", t0.Add(time.Hour+123456*time.Microsecond).In(cest)
	doneOther := action(y.ID, "Add a runbook")
	doneOther.DoneBy, doneOther.DoneAt = "carol", t0.Add(2*time.Hour+654321*time.Microsecond).In(cest)
	doneX := action(x.ID, "Load test checkout")
	doneX.DoneBy, doneX.DoneAt = "dave", t0.Add(3*time.Hour)
	open := action(x.ID, "Write the postmortem")
	all := []*klaxon.ActionItem{owned, doneOther, doneX, open}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, a := range all {
			if err := tx.InsertAction(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	for n, a := range all {
		if a.ID == 0 || n > 0 && a.ID <= all[n-1].ID {
			t.Fatalf("InsertAction set action %d's ID to %d; want IDs set and increasing", n, a.ID)
		}
		a.CreatedAt, a.DoneAt = a.CreatedAt.UTC(), a.DoneAt.UTC()
	}

	check := func(when string, f klaxon.ActionFilter, want ...*klaxon.ActionItem) {
		t.Helper()
		got, err := s.Actions(ctx, f)
		if err != nil {
			t.Fatalf("Actions(%+v): %v", f, err)
		}
		var w []klaxon.ActionItem
		for _, a := range want {
			w = append(w, *a)
		}
		if len(got) != len(w) || len(got) > 0 && !reflect.DeepEqual(got, w) {
			t.Errorf("Actions(%+v) %s:\n got %s\nwant %s", f, when, dump(got), dump(w))
		}
	}
	check("", klaxon.ActionFilter{}, owned, doneOther, doneX, open)
	check("", klaxon.ActionFilter{IncidentID: x.ID}, owned, doneX, open)
	check("", klaxon.ActionFilter{Open: true}, owned, open)
	check("", klaxon.ActionFilter{IncidentID: x.ID, Open: true}, owned, open)
	check("", klaxon.ActionFilter{IncidentID: y.ID, Open: true})
	check("", klaxon.ActionFilter{IncidentID: 999999})

	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		got, err := tx.ActionForUpdate(ctx, owned.ID)
		if err != nil || !reflect.DeepEqual(got, owned) {
			return fmt.Errorf("ActionForUpdate(%d): got %s, %v; want %s", owned.ID, dump(got), err, dump(owned))
		}
		if got, err := tx.ActionForUpdate(ctx, 999999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("ActionForUpdate(999999): got %s, %v; want ENOTFOUND", dump(got), err)
		}
		unknown := *open
		unknown.ID = 999999
		if err := tx.UpdateAction(ctx, &unknown); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("UpdateAction(999999): got %v, want ENOTFOUND", err)
		}
		// Done, with every field changed; and one reopened.
		owned.Text, owned.Owner, owned.DoneBy = "Alert on pool saturation at 80%", "erin", "erin"
		owned.DoneAt = t0.Add(24*time.Hour + 42*time.Microsecond).In(cest)
		if err := tx.UpdateAction(ctx, owned); err != nil {
			return err
		}
		doneX.DoneBy, doneX.DoneAt = "", time.Time{}
		if err := tx.UpdateAction(ctx, doneX); err != nil {
			return err
		}
		// A transaction reads its own write.
		got, err = tx.ActionForUpdate(ctx, owned.ID)
		if err != nil || got.DoneBy != "erin" {
			return fmt.Errorf("ActionForUpdate(%d) after UpdateAction: got %s, %v; want it done by erin", owned.ID, dump(got), err)
		}
		return nil
	})
	owned.DoneAt = owned.DoneAt.UTC()
	check("after updates", klaxon.ActionFilter{}, owned, doneOther, doneX, open)
	check("after updates", klaxon.ActionFilter{Open: true}, doneX, open)
}

func componentStatuses(t *testing.T, s klaxon.Store) []klaxon.ComponentStatus {
	t.Helper()
	got, err := s.ComponentStatuses(context.Background())
	if err != nil {
		t.Fatalf("ComponentStatuses: %v", err)
	}
	return got
}

func setComponentStatuses(t *testing.T, s klaxon.Store, list ...klaxon.ComponentStatus) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, c := range list {
			if err := tx.SetComponentStatus(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

func testComponentStatuses(t *testing.T, s klaxon.Store) {
	if got := componentStatuses(t, s); len(got) != 0 {
		t.Errorf("ComponentStatuses before any: got %s, want none", dump(got))
	}
	api := klaxon.ComponentStatus{Component: "api", Status: "major_outage", SetBy: "alice", SetAt: t0.Add(123456 * time.Microsecond).In(cest)}
	db := klaxon.ComponentStatus{Component: "db", Status: "degraded_performance", SetBy: "bob", SetAt: t0}
	web := klaxon.ComponentStatus{Component: "Web", Status: "under_maintenance", SetBy: "carol", SetAt: t0} // byte order: before "api"
	setComponentStatuses(t, s, db, api, web)
	api.SetAt = api.SetAt.UTC()
	check := func(when string, want ...klaxon.ComponentStatus) {
		t.Helper()
		if got := componentStatuses(t, s); len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("ComponentStatuses %s:\n got %s\nwant %s", when, dump(got), dump(want))
		}
	}
	check("after setting", web, api, db)

	// Replaced, every field.
	api = klaxon.ComponentStatus{Component: "api", Status: "operational", SetBy: "dave", SetAt: t0.Add(time.Hour)}
	setComponentStatuses(t, s, api)
	check("after replacing", web, api, db)

	// Cleared; clearing an unset one is a no-op.
	setComponentStatuses(t, s,
		klaxon.ComponentStatus{Component: "db", SetBy: "erin", SetAt: t0.Add(2 * time.Hour)},
		klaxon.ComponentStatus{Component: "cache", SetBy: "erin", SetAt: t0.Add(2 * time.Hour)})
	check("after clearing", web, api)

	// Set again after clearing.
	setComponentStatuses(t, s, db)
	check("after setting again", web, api, db)
}

func testIncidentRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a1, a2 := newAlert("a1"), newAlert("a2")
	insert(t, s, a1, a2)
	kept := newIncident("api", t0)
	kept.Alerts = []int64{a1.ID}
	kept.Room = klaxon.IncidentRoom{Channel: "slack"}
	insertIncidents(t, s, kept)
	declared := &klaxon.TimelineEntry{IncidentID: kept.ID, At: t0, Actor: "alice", Kind: klaxon.TimelineDeclared, Status: klaxon.IncidentInvestigating}
	action := &klaxon.ActionItem{IncidentID: kept.ID, Text: "Fix it", CreatedBy: "alice", CreatedAt: t0}
	status := klaxon.ComponentStatus{Component: "api", Status: "major_outage", SetBy: "alice", SetAt: t0}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.AddTimeline(ctx, declared); err != nil {
			return err
		}
		if err := tx.InsertAction(ctx, action); err != nil {
			return err
		}
		return tx.SetComponentStatus(ctx, status)
	})

	boom := errors.New("boom")
	lost := newIncident("db", t0)
	lost.Alerts = []int64{a2.ID}
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertIncident(ctx, lost); err != nil {
			return err
		}
		changed := *kept
		changed.Status, changed.Room.Ref = klaxon.IncidentResolved, "C123"
		if err := tx.UpdateIncident(ctx, &changed); err != nil {
			return err
		}
		if _, err := tx.LinkAlert(ctx, kept.ID, a2.ID); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, &klaxon.TimelineEntry{IncidentID: kept.ID, At: t0, Kind: klaxon.TimelineResolved}); err != nil {
			return err
		}
		if err := tx.InsertAction(ctx, &klaxon.ActionItem{IncidentID: lost.ID, Text: "lost", CreatedAt: t0}); err != nil {
			return err
		}
		done := *action
		done.DoneBy, done.DoneAt = "bob", t0.Add(time.Hour)
		if err := tx.UpdateAction(ctx, &done); err != nil {
			return err
		}
		if err := tx.SetComponentStatus(ctx, klaxon.ComponentStatus{Component: "api"}); err != nil {
			return err
		}
		if err := tx.SetComponentStatus(ctx, klaxon.ComponentStatus{Component: "db", Status: "partial_outage", SetAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	if lost.ID == 0 {
		t.Fatal("InsertIncident did not set ID")
	}
	if got := incidents(t, s, klaxon.IncidentFilter{}); len(got) != 1 || !reflect.DeepEqual(got[0], kept) {
		t.Errorf("after rollback: Incidents = %s, want only %s unchanged", dump(got), dump(kept))
	}
	if got, err := s.Incident(ctx, lost.ID); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("after rollback: Incident(%d) = %s, %v; want ENOTFOUND", lost.ID, dump(got), err)
	}
	if got, err := s.IncidentByRoom(ctx, "slack", "C123"); err != nil || got != nil {
		t.Errorf("after rollback: IncidentByRoom = %s, %v; want nil", dump(got), err)
	}
	if got, err := s.Timeline(ctx, kept.ID); err != nil || !reflect.DeepEqual(got, []klaxon.TimelineEntry{*declared}) {
		t.Errorf("after rollback: Timeline = %s, %v; want only %s", dump(got), err, dump(declared))
	}
	if got, err := s.Actions(ctx, klaxon.ActionFilter{}); err != nil || !reflect.DeepEqual(got, []klaxon.ActionItem{*action}) {
		t.Errorf("after rollback: Actions = %s, %v; want only %s, open", dump(got), err, dump(action))
	}
	if got := componentStatuses(t, s); !reflect.DeepEqual(got, []klaxon.ComponentStatus{status}) {
		t.Errorf("after rollback: ComponentStatuses = %s, want only %s", dump(got), dump(status))
	}
}
