package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func alertFacts(t *testing.T, s klaxon.Store, since, until time.Time) []klaxon.AlertFact {
	t.Helper()
	var out []klaxon.AlertFact
	err := s.AlertFacts(context.Background(), since, until, func(f klaxon.AlertFact) error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		t.Fatalf("AlertFacts(%v, %v): %v", since, until, err)
	}
	return out
}

func factOf(a *klaxon.Alert) klaxon.AlertFact {
	return klaxon.AlertFact{ID: a.ID, Integration: a.Integration, Labels: a.Labels, Level: a.Level,
		FirstSeen: a.FirstSeen.UTC(), AckedAt: a.AckedAt.UTC(), AckedBy: a.AckedBy,
		ResolvedAt: a.ResolvedAt.UTC(), ResolvedBy: a.ResolvedBy, PreviousID: a.PreviousID}
}

func testAlertFacts(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	since, until := t0, t0.Add(2*time.Hour)
	seenAt := func(key string, at time.Time) *klaxon.Alert {
		a := newAlert(key)
		a.FirstSeen, a.LastSeen = at, at
		return a
	}
	before := seenAt("before", since.Add(-time.Microsecond))
	atSince := seenAt("at-since", since)
	// Every fact set, times in another zone; inserted before an alert
	// first seen earlier, so ID order is not FirstSeen order.
	full := seenAt("full", since.Add(time.Hour).In(cest))
	full.Integration, full.Level = "events", 1
	full.State = klaxon.StateResolved
	full.AckedBy, full.AckedAt = "alice", since.Add(time.Hour+time.Minute).In(cest)
	full.ResolvedBy, full.ResolvedAt = "events", since.Add(2*time.Hour).In(cest)
	earlier := seenAt("earlier", since.Add(time.Minute))
	atUntil := seenAt("at-until", until)
	insert(t, s, before)
	full.PreviousID = before.ID
	insert(t, s, atSince, full, earlier, atUntil)

	got := alertFacts(t, s, since, until)
	want := []klaxon.AlertFact{factOf(atSince), factOf(full), factOf(earlier)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AlertFacts: got %s, want %s", dump(got), dump(want))
	}
	if got := alertFacts(t, s, until.Add(time.Hour), until.Add(2*time.Hour)); len(got) != 0 {
		t.Errorf("AlertFacts of an empty range: got %s, want none", dump(got))
	}

	stop := errors.New("stop")
	calls := 0
	err := s.AlertFacts(ctx, since, until, func(klaxon.AlertFact) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("AlertFacts with fn failing: got %v after %d call(s), want fn's error after 1", err, calls)
	}
}

func testPageRecords(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	g1, g2 := newGroup("0", "a"), newGroup("0", "b")
	insertGroup(t, s, g1)
	insertGroup(t, s, g2)
	since, until := t0, t0.Add(24*time.Hour)
	page := func(at time.Time, person string, g *klaxon.Group, level klaxon.Level, channel string) klaxon.PageRecord {
		return klaxon.PageRecord{At: at, Person: person, GroupID: g.ID, Level: level, Channel: channel}
	}
	pages := []klaxon.PageRecord{
		page(since.Add(-time.Microsecond), "alice", g1, 0, "slack"),
		page(since.Add(3*time.Hour), "bob", g2, 2, "pagerduty"),
		page(since, "alice", g1, 0, "slack"),
		page(since.Add(3*time.Hour).In(cest), "carol", g2, 2, "pagerduty"), // same time as bob's: by ID
		page(until, "alice", g1, 0, "slack"),
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.RecordPages(ctx, pages[:2]...) })
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.RecordPages(ctx); err != nil {
			return err
		}
		return tx.RecordPages(ctx, pages[2:]...)
	})

	got, err := s.PageRecords(ctx, since, until)
	if err != nil {
		t.Fatal(err)
	}
	want := []klaxon.PageRecord{pages[2], pages[1], pages[3]}
	want[2].At = want[2].At.UTC()
	var last int64
	for i := range got {
		if got[i].ID == 0 || (i > 0 && got[i].At.Equal(got[i-1].At) && got[i].ID <= last) {
			t.Errorf("page %d has ID %d after %d; want IDs set, increasing at equal times", i, got[i].ID, last)
		}
		last = got[i].ID
		got[i].ID = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PageRecords: got %s, want %s", dump(got), dump(want))
	}
}

func testChangeMark(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	mark := func() klaxon.ChangeMark {
		t.Helper()
		m, err := s.ChangeMark(ctx)
		if err != nil {
			t.Fatalf("ChangeMark: %v", err)
		}
		return m
	}
	if got := mark(); got != (klaxon.ChangeMark{}) {
		t.Errorf("ChangeMark of an empty store: got %+v, want zero", got)
	}
	a := newAlert("a")
	insert(t, s, a)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		return tx.AddEvents(ctx, klaxon.Event{AlertID: a.ID, At: t0, Kind: klaxon.EventFired, Actor: "am"},
			klaxon.Event{AlertID: a.ID, At: t0, Kind: klaxon.EventAcknowledged, Actor: "alice"})
	})
	events, err := s.AlertEvents(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mark(), (klaxon.ChangeMark{AlertEvent: events[len(events)-1].ID, Recent: 2}); got != want {
		t.Errorf("ChangeMark after two events: got %+v, want %+v", got, want)
	}

	i := newIncident("api", t0)
	insertIncidents(t, s, i)
	entry := &klaxon.TimelineEntry{IncidentID: i.ID, At: t0, Actor: "alice", Kind: klaxon.TimelineDeclared, Status: klaxon.IncidentInvestigating}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.AddTimeline(ctx, entry) })
	if got, want := mark(), (klaxon.ChangeMark{AlertEvent: events[len(events)-1].ID, Timeline: entry.ID, Recent: 3}); got != want {
		t.Errorf("ChangeMark after a timeline entry: got %+v, want %+v", got, want)
	}
}
