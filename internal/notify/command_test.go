package notify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/runbook"
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

func (m memAlerts) Alert(_ context.Context, id int64) (*klaxon.Alert, []klaxon.Event, error) {
	a, ok := m[id]
	if !ok {
		return nil, nil, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", id)
	}
	return a, nil, nil
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

const diskFullRunbook = `---
alerts: [DiskFull]
---
# Disk full

## Diagnose
` + "```diagnose" + `
df -h {{ .Labels.pod }}
` + "```" + `
` + "```sh" + `
du -sh /var/lib/{{ .Labels.namespace }}
` + "```" + `
## Causes
## Escalate
`

// fakeDiagnoser records requests; alert 99 does not exist.
type fakeDiagnoser struct{ asked []string }

func (f *fakeDiagnoser) Request(_ context.Context, id int64, actor string) (int, error) {
	if id == 99 {
		return 0, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", id)
	}
	f.asked = append(f.asked, fmt.Sprintf("%d by %s", id, actor))
	return 2, nil
}

func TestRunbookAndDiagnoseCommands(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk-full.md"), []byte(diskFullRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	catalog := runbook.NewCatalog(dir, nil)
	if err := catalog.Reload(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		addressed  bool
		diagnose   bool
		wantText   []string // substrings; nil means no reply at all
		wantCode   string
	}{
		{name: "runbook of an alert", text: "runbook 12",
			wantText: []string{"Runbook for alert 12 (DiskFull prod/db-0): Disk full", "https://k.example/runbooks/disk-full?alert=12"},
			wantCode: "df -h db-0\n\ndu -sh /var/lib/prod"},
		{name: "runbook by alert name", text: "runbook DiskFull",
			wantText: []string{"Disk full: https://k.example/runbooks/disk-full"},
			wantCode: "df -h {{ .Labels.pod }}\n\ndu -sh /var/lib/{{ .Labels.namespace }}"},
		{name: "runbook by slug", text: "@klaxon runbook disk-full", wantText: []string{"Disk full: https://k.example/runbooks/disk-full"}},
		{name: "alert without a runbook", text: "runbook 16", wantText: []string{"No runbook matches alert 16 (Other)."}},
		{name: "unknown alert", text: "runbook 99", wantText: []string{"No alert 99.", "Firing now: 15, 13, 12."}},
		{name: "unknown runbook, addressed", text: "runbook nosuch", addressed: true, wantText: []string{`No runbook "nosuch".`, "Runbooks: disk-full (https://k.example/runbooks)."}},
		{name: "unknown runbook, talk", text: "runbook nosuch", wantText: nil},
		{name: "runbook talk", text: "runbook is out of date", wantText: nil},
		{name: "diagnostics off", text: "diagnose 12", wantText: []string{"Diagnostics are off"}},
		{name: "diagnose", text: "diagnose 12", diagnose: true, wantText: []string{"Running 2 diagnostic command(s) for alert 12", "https://k.example/alerts/12"}},
		{name: "diagnose unknown alert", text: "diagnose 99", diagnose: true, wantText: []string{"No alert 99."}},
		{name: "diagnose talk", text: "diagnose later", diagnose: true, wantText: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, alerts := newCommands()
			alerts[16] = &klaxon.Alert{ID: 16, State: klaxon.StateResolved, Labels: map[string]string{"alertname": "Other"}}
			c.Runbooks = catalog
			d := &fakeDiagnoser{}
			if tt.diagnose {
				c.Diagnose = d
			}
			r := c.Command(context.Background(), Command{Channel: "ops", Actor: "@alice", Text: tt.text, Addressed: tt.addressed})
			if tt.wantText == nil {
				if r.Text != "" || r.Code != "" {
					t.Fatalf("reply = %+v, want none", r)
				}
				return
			}
			for _, w := range tt.wantText {
				if !strings.Contains(r.Text, w) {
					t.Errorf("reply %q lacks %q", r.Text, w)
				}
			}
			if tt.wantCode != "" && r.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", r.Code, tt.wantCode)
			}
			if tt.name == "diagnose" && !slices.Equal(d.asked, []string{"12 by @alice"}) {
				t.Errorf("diagnoser asked %q", d.asked)
			}
		})
	}
}
