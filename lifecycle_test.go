package klaxon_test

import (
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

var (
	t0      = time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC)
	now     = t0.Add(10 * time.Minute)
	firing  = klaxon.Signal{Key: "fp1", Action: klaxon.ActionTrigger, Severity: "critical", Summary: "Disk full", StartsAt: t0, Labels: map[string]string{"alertname": "DiskFull", "pod": "db-0"}, Annotations: map[string]string{"summary": "Disk full"}}
	resolve = klaxon.Signal{Key: "fp1", Action: klaxon.ActionResolve}
	ack     = klaxon.Signal{Key: "fp1", Action: klaxon.ActionAcknowledge}
)

func stored(state klaxon.State, mutate ...func(*klaxon.Alert)) *klaxon.Alert {
	a := &klaxon.Alert{ID: 7, Integration: "am", Key: "fp1", State: state, Severity: "critical", Summary: "Disk full",
		StartsAt: t0, FirstSeen: t0, LastSeen: t0, Count: 1,
		Labels: map[string]string{"alertname": "DiskFull", "pod": "db-0"}, Annotations: map[string]string{"summary": "Disk full"}}
	for _, m := range mutate {
		m(a)
	}
	return a
}

func TestObserve(t *testing.T) {
	resolvedBy := func(who string) func(*klaxon.Alert) {
		return func(a *klaxon.Alert) { a.ResolvedBy, a.ResolvedAt = who, t0.Add(time.Minute) }
	}
	newFiring := firing
	newFiring.StartsAt = t0.Add(5 * time.Minute)
	noStart := firing
	noStart.StartsAt = time.Time{}
	changed := firing
	changed.Severity = "warning"
	changed.Labels = map[string]string{"alertname": "DiskFull", "pod": "db-1"}

	tests := []struct {
		name        string
		latest      *klaxon.Alert
		sig         klaxon.Signal
		wantOutcome klaxon.Outcome
		wantInsert  bool // a new occurrence (ID 0)
		wantState   klaxon.State
		wantCount   int
		wantEvent   klaxon.EventKind // "" for none
		wantPrev    int64
	}{
		{"first trigger creates", nil, firing, klaxon.OutcomeCreated, true, klaxon.StateFiring, 1, klaxon.EventFired, 0},
		{"repeat bumps count only", stored(klaxon.StateFiring), firing, klaxon.OutcomeRepeated, false, klaxon.StateFiring, 2, "", 0},
		{"repeat keeps ack", stored(klaxon.StateAcknowledged), firing, klaxon.OutcomeRepeated, false, klaxon.StateAcknowledged, 2, "", 0},
		{"changed labels and severity recorded", stored(klaxon.StateFiring), changed, klaxon.OutcomeUpdated, false, klaxon.StateFiring, 2, klaxon.EventUpdated, 0},
		{"source resolves open", stored(klaxon.StateFiring), resolve, klaxon.OutcomeResolved, false, klaxon.StateResolved, 1, klaxon.EventResolved, 0},
		{"source resolves acked", stored(klaxon.StateAcknowledged), resolve, klaxon.OutcomeResolved, false, klaxon.StateResolved, 1, klaxon.EventResolved, 0},
		{"resolve of nothing ignored", nil, resolve, klaxon.OutcomeIgnored, false, "", 0, "", 0},
		{"resolve of resolved ignored", stored(klaxon.StateResolved, resolvedBy("am")), resolve, klaxon.OutcomeIgnored, false, "", 0, "", 0},
		{"source ack", stored(klaxon.StateFiring), ack, klaxon.OutcomeAcknowledged, false, klaxon.StateAcknowledged, 1, klaxon.EventAcknowledged, 0},
		{"source ack of acked ignored", stored(klaxon.StateAcknowledged), ack, klaxon.OutcomeIgnored, false, "", 0, "", 0},
		{"trigger after source resolve is a new occurrence", stored(klaxon.StateResolved, resolvedBy("am")), firing, klaxon.OutcomeRefired, true, klaxon.StateFiring, 1, klaxon.EventRefired, 7},
		{"same firing after a person resolved stays resolved", stored(klaxon.StateResolved, resolvedBy("alice")), firing, klaxon.OutcomeRepeated, false, klaxon.StateResolved, 2, "", 0},
		{"new firing after a person resolved reopens", stored(klaxon.StateResolved, resolvedBy("alice")), newFiring, klaxon.OutcomeRefired, true, klaxon.StateFiring, 1, klaxon.EventRefired, 7},
		{"trigger without start after a person resolved reopens", stored(klaxon.StateResolved, resolvedBy("alice")), noStart, klaxon.OutcomeRefired, true, klaxon.StateFiring, 1, klaxon.EventRefired, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before klaxon.Alert
			if tt.latest != nil {
				before = *tt.latest
			}
			a, outcome, ev := klaxon.Observe(tt.latest, "am", tt.sig, 0, now)
			if outcome != tt.wantOutcome {
				t.Errorf("outcome: got %s, want %s", outcome, tt.wantOutcome)
			}
			if tt.latest != nil && tt.latest.State != before.State {
				t.Errorf("Observe modified the stored alert in place (state %s → %s)", before.State, tt.latest.State)
			}
			if tt.wantState == "" {
				if a != nil || ev != nil {
					t.Errorf("got alert %v and event %v, want nothing to store", a, ev)
				}
				return
			}
			if a == nil {
				t.Fatal("got no alert to store")
			}
			if gotInsert := a.ID == 0; gotInsert != tt.wantInsert {
				t.Errorf("new occurrence: got %v, want %v", gotInsert, tt.wantInsert)
			}
			if a.State != tt.wantState || a.Count != tt.wantCount || a.PreviousID != tt.wantPrev {
				t.Errorf("got state %s count %d previous %d, want %s %d %d", a.State, a.Count, a.PreviousID, tt.wantState, tt.wantCount, tt.wantPrev)
			}
			if tt.wantEvent == "" {
				if ev != nil {
					t.Errorf("got event %+v, want none", *ev)
				}
			} else if ev == nil || ev.Kind != tt.wantEvent || ev.Actor != "am" {
				t.Errorf("got event %+v, want %s by am", ev, tt.wantEvent)
			}
			if tt.wantInsert && (!a.FirstSeen.Equal(now) || a.Key != "fp1" || a.Summary != "Disk full") {
				t.Errorf("new occurrence: got first seen %v key %q summary %q", a.FirstSeen, a.Key, a.Summary)
			}
		})
	}
}

func TestObserveUpdateMessage(t *testing.T) {
	sig := firing
	sig.Severity = "warning"
	sig.Summary = "Disk nearly full"
	sig.Labels = map[string]string{"alertname": "DiskFull", "pod": "db-1", "node": "n1"}
	_, _, ev := klaxon.Observe(stored(klaxon.StateFiring), "am", sig, 2, now)
	want := "severity critical → warning; summary changed; labels changed: node, pod"
	if ev == nil || ev.Message != want {
		t.Errorf("got %+v, want message %q", ev, want)
	}
}

func TestObserveStartsAtDefaultsToNow(t *testing.T) {
	sig := firing
	sig.StartsAt = time.Time{}
	a, _, _ := klaxon.Observe(nil, "pd", sig, 0, now)
	if !a.StartsAt.Equal(now) {
		t.Errorf("StartsAt: got %v, want %v", a.StartsAt, now)
	}
}

func TestPersonActions(t *testing.T) {
	tests := []struct {
		name      string
		state     klaxon.State
		act       func(*klaxon.Alert) (klaxon.Event, error)
		wantState klaxon.State
		wantErr   string // error code, "" for success
	}{
		{"ack firing", klaxon.StateFiring, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Acknowledge("alice", now) }, klaxon.StateAcknowledged, ""},
		{"ack acked", klaxon.StateAcknowledged, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Acknowledge("alice", now) }, klaxon.StateAcknowledged, klaxon.ECONFLICT},
		{"ack resolved", klaxon.StateResolved, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Acknowledge("alice", now) }, klaxon.StateResolved, klaxon.ECONFLICT},
		{"unack acked", klaxon.StateAcknowledged, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Unacknowledge("alice", now) }, klaxon.StateFiring, ""},
		{"unack firing", klaxon.StateFiring, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Unacknowledge("alice", now) }, klaxon.StateFiring, klaxon.ECONFLICT},
		{"resolve firing", klaxon.StateFiring, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Resolve("alice", now) }, klaxon.StateResolved, ""},
		{"resolve acked", klaxon.StateAcknowledged, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Resolve("alice", now) }, klaxon.StateResolved, ""},
		{"resolve resolved", klaxon.StateResolved, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Resolve("alice", now) }, klaxon.StateResolved, klaxon.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := stored(tt.state, func(a *klaxon.Alert) {
				if tt.state == klaxon.StateAcknowledged {
					a.AckedBy = "bob"
				}
			})
			ev, err := tt.act(a)
			if got := klaxon.ErrorCode(err); got != tt.wantErr {
				t.Fatalf("error code: got %q (%v), want %q", got, err, tt.wantErr)
			}
			if a.State != tt.wantState {
				t.Errorf("state: got %s, want %s", a.State, tt.wantState)
			}
			if err == nil && (ev.Actor != "alice" || ev.AlertID != 7 || !ev.At.Equal(now)) {
				t.Errorf("event: got %+v, want by alice on alert 7 at %v", ev, now)
			}
		})
	}
}

func TestSeverityPolicy(t *testing.T) {
	p := klaxon.DefaultSeverityPolicy()
	for sev, want := range map[string]string{"critical": "P0", "CRITICAL": "P0", "error": "P1", "warning": "P2", "info": "P3", "none": "P3", "": "P2", "bogus": "P2"} {
		if got := p.Name(p.Level(sev)); got != want {
			t.Errorf("severity %q: got %s, want %s", sev, got, want)
		}
	}
}

func TestWhere(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"namespace": "payments", "pod": "api-1", "node": "n1"}, "payments/api-1"},
		{map[string]string{"namespace": "payments"}, "payments"},
		{map[string]string{"node": "n1", "instance": "10.0.0.1:9100"}, "n1"},
		{map[string]string{"instance": "10.0.0.1:9100"}, "10.0.0.1:9100"},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		a := klaxon.Alert{Labels: tt.labels}
		if got := a.Where(); got != tt.want {
			t.Errorf("Where(%v): got %q, want %q", tt.labels, got, tt.want)
		}
	}
}
