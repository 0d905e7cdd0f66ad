package statuspage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// TestSQLite runs the page on a real store, through what the stores promise.
func TestSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	declared := now.Add(-time.Hour)
	err = db.Update(ctx, func(tx klaxon.Tx) error {
		for _, in := range []*klaxon.Incident{
			{Title: "INCIDENT: api - errors", Service: "api", Summary: "errors", Level: 0, Public: true},
			{Title: "INCIDENT: web - private", Service: "web", Summary: "private", Level: 0},
		} {
			in.Status, in.DetectedAt, in.DeclaredAt, in.Reporter = klaxon.IncidentIdentified, declared, declared, "alice"
			if err := tx.InsertIncident(ctx, in); err != nil {
				return err
			}
			err := tx.AddTimeline(ctx,
				&klaxon.TimelineEntry{IncidentID: in.ID, At: declared, Actor: "alice", Kind: klaxon.TimelineDeclared,
					Text: "Investigating errors", Public: in.Public, Status: klaxon.IncidentInvestigating},
				&klaxon.TimelineEntry{IncidentID: in.ID, At: declared.Add(time.Minute), Actor: "alice", Kind: klaxon.TimelineNote,
					Text: "secret note", Status: klaxon.IncidentInvestigating},
				&klaxon.TimelineEntry{IncidentID: in.ID, At: declared.Add(2 * time.Minute), Actor: "alice", Kind: klaxon.TimelineUpdate,
					Text: "Bad deploy", Public: in.Public, Status: klaxon.IncidentIdentified})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	p := newPage(&fakeStore{})
	p.opts.Store = db
	sum, err := p.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status.Indicator != "critical" || sum.Components[0].Status != "major_outage" || sum.Components[1].Status != "operational" {
		t.Errorf("status %+v, components %+v", sum.Status, sum.Components)
	}
	if len(sum.Incidents) != 1 || len(sum.Incidents[0].IncidentUpdates) != 2 ||
		sum.Incidents[0].IncidentUpdates[0].Body != "Bad deploy" || sum.Incidents[0].IncidentUpdates[0].Status != "identified" {
		t.Fatalf("incidents %+v", sum.Incidents)
	}

	if err := p.SetComponent(ctx, "API", "partial_outage", "bob"); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, p)["API"]; got != "partial_outage" {
		t.Errorf("hand-set: %s", got)
	}
	if cs, err := db.ComponentStatuses(ctx); err != nil || len(cs) != 1 || cs[0].SetBy != "bob" || !cs[0].SetAt.Equal(now) {
		t.Errorf("stored %+v %v", cs, err)
	}
	if err := p.SetComponent(ctx, "API", "", "bob"); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, p)["API"]; got != "major_outage" {
		t.Errorf("cleared: %s", got)
	}
	if page := string(body(t, get(t, p.Handler(), "/status"))); strings.Contains(page, "secret") || strings.Contains(page, "private") {
		t.Error("private text on the page")
	}
}
