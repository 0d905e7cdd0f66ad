package notify

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// memAlerts applies the real lifecycle rules to alerts held in memory.
type memAlerts map[int64]*klaxon.Alert

func (m memAlerts) change(id int64, fn func(*klaxon.Alert) (klaxon.Event, error)) (*klaxon.Alert, error) {
	a, ok := m[id]
	if !ok {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", id)
	}
	_, err := fn(a)
	return a, err
}

func (m memAlerts) Ack(_ context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return m.change(id, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Acknowledge(actor, time.Now()) })
}

func (m memAlerts) Unack(_ context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return m.change(id, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Unacknowledge(actor, time.Now()) })
}

func (m memAlerts) Resolve(_ context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return m.change(id, func(a *klaxon.Alert) (klaxon.Event, error) { return a.Resolve(actor, time.Now()) })
}

func (m memAlerts) Alerts(_ context.Context, f klaxon.AlertFilter) ([]*klaxon.Alert, error) {
	var out []*klaxon.Alert
	for _, a := range m {
		if len(f.States) == 0 || slices.Contains(f.States, a.State) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *klaxon.Alert) int { return int(b.ID - a.ID) })
	return out, nil
}

func newCommands() (*Commands, memAlerts) {
	alerts := memAlerts{}
	for _, id := range []int64{12, 13, 15} {
		alerts[id] = &klaxon.Alert{ID: id, State: klaxon.StateFiring, Level: 2, Summary: "disk full",
			Labels: map[string]string{"alertname": "DiskFull", "namespace": "prod", "pod": "db-0"}}
	}
	return &Commands{Alerts: alerts, Severity: klaxon.DefaultSeverityPolicy(), BaseURL: "https://k.example"}, alerts
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name, text string
		addressed  bool
		wantReply  []string // substrings; nil means no reply at all
		wantState  map[int64]klaxon.State
	}{
		{name: "ack", text: "ack 12", wantReply: []string{"@alice acknowledged 12: DiskFull prod/db-0"},
			wantState: map[int64]klaxon.State{12: klaxon.StateAcknowledged, 13: klaxon.StateFiring}},
		{name: "several, case and mention", text: "@klaxon:example.org ACK 12 #13 14",
			wantReply: []string{"acknowledged 12", "acknowledged 13", "No alert 14.", "Firing now: 15."},
			wantState: map[int64]klaxon.State{12: klaxon.StateAcknowledged, 13: klaxon.StateAcknowledged, 15: klaxon.StateFiring}},
		{name: "slack mention", text: "<@U0KLAXON> resolve 15", wantReply: []string{"@alice resolved 15"},
			wantState: map[int64]klaxon.State{15: klaxon.StateResolved}},
		{name: "unknown id lists firing", text: "ack 99", wantReply: []string{"No alert 99.", "Firing now: 15, 13, 12."}},
		{name: "not a number", text: "ack twelve", addressed: true, wantReply: []string{`"twelve" is not an alert number.`}},
		{name: "unack of firing alert says why", text: "unack 12", wantReply: []string{"alert 12 is firing, not acknowledged."}},
		{name: "status", text: "status", wantReply: []string{"Firing and unacknowledged:", "12 [P2] DiskFull prod/db-0 — disk full"}},
		{name: "help", text: "klaxon: help", wantReply: []string{"ack 12 [13 …]"}},
		{name: "bare mention gets help", text: "@klaxon", wantReply: []string{"Klaxon commands:"}},
		{name: "chatter is ignored", text: "looking at the db now", wantReply: nil},
		{name: "talk using a verb is ignored", text: "resolve it later please", wantReply: nil},
		{name: "addressed unknown word", text: "reboot 12", addressed: true, wantReply: []string{`I don't know "reboot"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, alerts := newCommands()
			r := c.Command(context.Background(), Command{Channel: "ops", Actor: "@alice", Text: tt.text, Addressed: tt.addressed})
			if tt.wantReply == nil {
				if r.Text != "" {
					t.Fatalf("reply = %q, want none", r.Text)
				}
				return
			}
			for _, w := range tt.wantReply {
				if !strings.Contains(r.Text, w) {
					t.Errorf("reply %q lacks %q", r.Text, w)
				}
			}
			for id, st := range tt.wantState {
				if alerts[id].State != st {
					t.Errorf("alert %d is %s, want %s", id, alerts[id].State, st)
				}
			}
		})
	}
}

func TestCommandAckTwice(t *testing.T) {
	c, alerts := newCommands()
	c.Command(context.Background(), Command{Actor: "bob", Text: "ack 12"})
	r := c.Command(context.Background(), Command{Actor: "@alice", Text: "ack 12"})
	if !strings.Contains(r.Text, "already acknowledged by bob") || alerts[12].AckedBy != "bob" {
		t.Fatalf("second ack: %+v, acked by %q", r, alerts[12].AckedBy)
	}
}
