package diagnose_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/diagnose"
	"github.com/klaxon-oss/klaxon/internal/runbook"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

const serviceRunbook = `---
alerts: [DiskFull]
---
# Disk full
## Diagnose
` + "```diagnose" + `
PROG args {{ .Labels.pod }}
PROG fail
` + "```" + `
` + "```sh" + `
never run {{ .Labels.pod }}
` + "```" + `
## Causes
## Escalate
`

// recordedNotes stands in for the notifier.
type recordedNotes struct {
	mu  sync.Mutex
	ids []int64
}

func (n *recordedNotes) QueueNotes(_ context.Context, _ klaxon.Tx, alertID, diagnosticsID int64) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, diagnosticsID)
	return 1, nil
}

// recordingTx records what AlertsChanged queues; nothing else is called.
type recordingTx struct {
	klaxon.Tx
	jobs   []klaxon.Job
	events []klaxon.Event
}

func (tx *recordingTx) Enqueue(_ context.Context, job klaxon.Job, _ time.Time) error {
	tx.jobs = append(tx.jobs, job)
	return nil
}

func (tx *recordingTx) AddEvents(_ context.Context, events ...klaxon.Event) error {
	tx.events = append(tx.events, events...)
	return nil
}

func newService(t *testing.T, maxAuto int) (*diagnose.Service, klaxon.Store, *recordedNotes) {
	t.Helper()
	dir := t.TempDir()
	text := strings.ReplaceAll(serviceRunbook, "PROG", prog)
	if err := os.WriteFile(filepath.Join(dir, "disk-full.md"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	catalog := runbook.NewCatalog(dir, nil)
	if err := catalog.Reload(); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	notes := &recordedNotes{}
	return diagnose.NewService(store, newRunner(t, diagnose.Options{}), catalog, notes, diagnose.ServiceOptions{MaxAutoRuns: maxAuto}), store, notes
}

func insertAlert(t *testing.T, store klaxon.Store, name string, state klaxon.State) *klaxon.Alert {
	t.Helper()
	now := time.Now().UTC()
	a := &klaxon.Alert{Integration: "test", Key: name + now.String(), State: state, Labels: map[string]string{"alertname": name, "pod": "db-0"},
		StartsAt: now, LastSeen: now, Count: 1}
	if err := store.Update(t.Context(), func(tx klaxon.Tx) error { return tx.InsertAlert(t.Context(), a) }); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAutoRunBudget: alerts that fire queue their diagnostics up to the
// per-minute budget; past it, each gets a history line instead. Alerts
// without a runbook, and changes other than firing, queue nothing.
func TestAutoRunBudget(t *testing.T) {
	s, _, _ := newService(t, 2)
	var changes []klaxon.AlertChange
	for id := int64(1); id <= 4; id++ {
		changes = append(changes, klaxon.AlertChange{Kind: klaxon.EventFired, Alert: &klaxon.Alert{ID: id, Labels: map[string]string{"alertname": "DiskFull"}}})
	}
	changes = append(changes,
		klaxon.AlertChange{Kind: klaxon.EventFired, Alert: &klaxon.Alert{ID: 5, Labels: map[string]string{"alertname": "NoRunbook"}}},
		klaxon.AlertChange{Kind: klaxon.EventAcknowledged, Alert: &klaxon.Alert{ID: 6, Labels: map[string]string{"alertname": "DiskFull"}}},
	)
	tx := &recordingTx{}
	if err := s.AlertsChanged(t.Context(), tx, changes); err != nil {
		t.Fatal(err)
	}
	if len(tx.jobs) != 2 || tx.jobs[0] != (klaxon.RunDiagnostics{AlertID: 1}) || tx.jobs[1] != (klaxon.RunDiagnostics{AlertID: 2}) {
		t.Errorf("jobs: %+v, want alerts 1 and 2", tx.jobs)
	}
	if len(tx.events) != 2 || tx.events[0].AlertID != 3 || !strings.Contains(tx.events[1].Message, "say `diagnose 4`") {
		t.Errorf("events: %+v, want a line for alerts 3 and 4", tx.events)
	}
}

// TestHandleJob runs an alert's steps for real, stores the run with a
// history line, and queues its notes in the same transaction.
func TestHandleJob(t *testing.T) {
	s, store, notes := newService(t, 0)
	a := insertAlert(t, store, "DiskFull", klaxon.StateFiring)
	if err := s.HandleJob(t.Context(), klaxon.RunDiagnostics{AlertID: a.ID, RequestedBy: "@alice"}); err != nil {
		t.Fatal(err)
	}
	runs, err := store.Diagnostics(t.Context(), a.ID)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %+v, %v", runs, err)
	}
	run := runs[0]
	if run.Runbook != "disk-full" || run.RequestedBy != "@alice" || len(run.Results) != 2 ||
		run.Results[0].Output != "\"db-0\"\n" || run.Results[1].Status != klaxon.DiagnosticFailed {
		t.Errorf("run: %+v", run)
	}
	if len(notes.ids) != 1 || notes.ids[0] != run.ID {
		t.Errorf("notes queued for %v, want [%d]", notes.ids, run.ID)
	}
	events, _ := store.AlertEvents(t.Context(), a.ID)
	if len(events) == 0 || events[len(events)-1].Kind != klaxon.EventDiagnosed ||
		events[len(events)-1].Message != "ran the diagnostics of runbook disk-full: 2 commands: 1 ok, 1 failed" {
		t.Errorf("history: %+v", events)
	}

	// An automatic run for an alert resolved in the meantime does nothing.
	resolved := insertAlert(t, store, "DiskFull", klaxon.StateResolved)
	if err := s.HandleJob(t.Context(), klaxon.RunDiagnostics{AlertID: resolved.ID}); err != nil {
		t.Fatal(err)
	}
	if runs, _ := store.Diagnostics(t.Context(), resolved.ID); len(runs) != 0 {
		t.Errorf("resolved alert diagnosed: %+v", runs)
	}
	// A job for an alert that is gone is dropped, not retried.
	if err := s.HandleJob(t.Context(), klaxon.RunDiagnostics{AlertID: 9999}); err != nil {
		t.Errorf("unknown alert: %v", err)
	}
}

func TestRequest(t *testing.T) {
	s, store, _ := newService(t, 0)
	a := insertAlert(t, store, "DiskFull", klaxon.StateFiring)
	other := insertAlert(t, store, "Other", klaxon.StateFiring)
	if n, err := s.Request(t.Context(), a.ID, "@alice"); err != nil || n != 2 {
		t.Errorf("Request: %d, %v; want 2 commands", n, err)
	}
	_, err := s.Request(t.Context(), other.ID, "@alice")
	if klaxon.ErrorCode(err) != klaxon.EINVALID || !strings.Contains(klaxon.ErrorMessage(err), "No runbook matches alert") {
		t.Errorf("alert without a runbook: %v", err)
	}
	if _, err := s.Request(t.Context(), 9999, "@alice"); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("unknown alert: %v", err)
	}
}
