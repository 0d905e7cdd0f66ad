package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/jobtest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// The escalation tests run on a simulated clock (internal/jobtest): jobs
// are captured as they are queued and worked by the test when the clock
// passes their time, so a 15-minute deadline takes no time and every path
// is deterministic.

// pager records pages; with chat set it is a chat platform (mentions).
type pager struct {
	*recorder
	chat  bool
	mu    sync.Mutex
	pages []notify.PageDelivery
}

func (p *pager) Page(_ context.Context, d notify.PageDelivery) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pages = append(p.pages, d)
	if p.chat {
		return "reply", nil
	}
	return "trigger", nil
}

func (p *pager) taken() []notify.PageDelivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.pages
	p.pages = nil
	return out
}

type chatPager struct{ *pager }

func (c chatPager) MentionOf(u klaxon.User) string { return u.Slack }

type escEnv struct {
	t      *testing.T
	clock  *jobtest.Clock
	store  *jobtest.Store
	alerts *alerting.Service
	svc    *notify.Service
	chat   *pager
	pd     *pager
	oncall *oncall.Service
	routes *notify.Route
	cfg    *config.Config
}

const escalationConfig = `
channels:
  - {name: ops, type: test}
  - {name: pd, type: test}
users:
  - {name: alice, slack: UALICE}
  - {name: bob, slack: UBOB}
  - {name: carol}
schedules:
  - name: primary
    rotations:
      - {participants: [alice, carol], shift: weekly, start: "2026-11-16"}
  - name: secondary
    rotations:
      - {participants: [bob], shift: weekly, start: "2026-11-16"}
escalation_policies:
  - name: default
    steps:
      - targets: [{schedule: primary}]
      - targets: [{schedule: secondary}]
      - targets: [{channel: pd}]
routes:
  receiver: ops
  escalation: default
`

func startEscalation(t *testing.T, extra string) *escEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	base, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	e := &escEnv{t: t, clock: jobtest.NewClock(time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)), store: &jobtest.Store{Store: base}}
	e.cfg, err = config.Parse("t.yaml", []byte(escalationConfig+extra), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	e.routes, err = notify.CompileRoutes(e.cfg.Routes)
	if err != nil {
		t.Fatal(err)
	}
	e.chat = &pager{recorder: newRecorder(), chat: true}
	e.pd = &pager{recorder: newRecorder()}
	e.restart()
	return e
}

// restart builds the services anew on the same store and pending jobs, as
// a restarted (or another) replica would.
func (e *escEnv) restart() {
	e.t.Helper()
	dir, err := oncall.Compile(e.cfg, klaxon.DefaultSeverityPolicy().Names)
	if err != nil {
		e.t.Fatal(err)
	}
	e.oncall = oncall.NewService(e.store, dir, oncall.Options{Now: e.clock.Now})
	e.svc = notify.New(e.store, notify.Options{
		Routes:   e.routes,
		Channels: map[string]notify.Channel{"ops": chatPager{e.chat}, "pd": e.pd},
		Now:      e.clock.Now,
		OnCall:   e.oncall,
	})
	if e.alerts != nil {
		e.alerts.Close()
	}
	e.alerts = alerting.New(e.store, alerting.Options{Observer: e.svc, Now: e.clock.Now})
	e.t.Cleanup(e.alerts.Close)
}

func (e *escEnv) fire(severity string) int64 {
	e.t.Helper()
	res, err := e.alerts.Ingest(context.Background(), "am", []klaxon.Signal{{
		Key: "crash/" + severity, Action: klaxon.ActionTrigger, Severity: severity, Summary: "api crash looping",
		Labels: map[string]string{"alertname": "PodCrash", "pod": "api", "severity": severity},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return res[0].AlertID
}

// deliver sends every due notification once, like the sender loop.
func (e *escEnv) deliver() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	e.svc.Run(ctx) // the senders find what is due, then idle until ctx ends
}

// runDue works the captured jobs due by now, repeatedly, the way the job
// queue would; jobs that ask to be retried stay queued.
func (e *escEnv) runDue() {
	e.t.Helper()
	for range 10 {
		e.deliver()
		due := e.store.Due(e.clock.Now())
		if len(due) == 0 {
			return
		}
		for _, q := range due {
			if err := e.svc.HandleJob(context.Background(), q.Job); err != nil {
				e.store.Requeue(q)
			}
		}
	}
}

// at advances the clock by d and works what became due.
func (e *escEnv) at(d time.Duration) {
	e.clock.Advance(d)
	e.runDue()
}

func (e *escEnv) history(id int64, kind klaxon.EventKind) []string {
	e.t.Helper()
	evs, err := e.store.AlertEvents(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev.Message)
		}
	}
	return out
}

func mentioned(pages []notify.PageDelivery) []string {
	var out []string
	for _, p := range pages {
		for _, u := range p.People {
			out = append(out, u.Name)
		}
	}
	return out
}

func firstPost(t *testing.T, r *recorder) notify.Delivery {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.sends {
		if d.Ref == "" {
			return d
		}
	}
	t.Fatal("no first post")
	return notify.Delivery{}
}

func TestEscalationNeverAcked(t *testing.T) {
	e := startEscalation(t, "")
	id := e.fire("critical")
	e.runDue()

	// The first message mentions the primary's on-call; no separate page.
	first := firstPost(t, e.chat.recorder)
	if got := first.Message.Mention; len(got) != 1 || got[0].Name != "alice" || got[0].Slack != "UALICE" {
		t.Fatalf("first message mentions %+v, want alice", got)
	}
	if p := e.chat.taken(); len(p) != 0 {
		t.Fatalf("step 1 paged separately: %+v", p)
	}

	e.at(14 * time.Minute)
	if p := e.chat.taken(); len(p) != 0 {
		t.Fatalf("escalated before the P0 deadline: %+v", mentioned(p))
	}
	e.at(time.Minute)
	p := e.chat.taken()
	if got := mentioned(p); !slices.Equal(got, []string{"bob"}) || p[0].Ref == "" || !strings.Contains(p[0].Text, "step 2 of 3") {
		t.Fatalf("step 2: mentioned %v ref %q text %q", got, p[0].Ref, p[0].Text)
	}
	e.at(15 * time.Minute)
	pd := e.pd.taken()
	if len(pd) != 1 || pd[0].Message == nil || pd[0].Message.Primary().ID != id {
		t.Fatalf("step 3 pages PagerDuty once: %+v", pd)
	}
	e.at(15 * time.Minute)
	if esc := e.escalation(first.Message.GroupID); esc.Running() || !strings.Contains(esc.StopReason, "nobody acknowledged") {
		t.Fatalf("exhausted escalation: %+v", esc)
	}
	esc := e.history(id, klaxon.EventEscalated)
	if len(esc) != 3 || !strings.Contains(esc[0], "alice (on call for primary)") || !strings.Contains(esc[1], "bob (on call for secondary)") || !strings.Contains(esc[2], "pd") {
		t.Fatalf("escalation history: %q", esc)
	}
	notified := strings.Join(e.history(id, klaxon.EventNotified), "\n")
	for _, want := range []string{"Posted to ops, mentioning alice (UALICE)", "Mentioned bob (UBOB) on ops", "Paged pd"} {
		if !strings.Contains(notified, want) {
			t.Errorf("history lacks %q:\n%s", want, notified)
		}
	}
	// PagerDuty, paged outside the route, hears of the resolve.
	if _, err := e.alerts.Resolve(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	e.runDue()
	var resolved bool
	e.pd.recorder.mu.Lock()
	for _, d := range e.pd.recorder.sends {
		resolved = resolved || (d.Message.State == klaxon.StateResolved && d.Ref == "trigger")
	}
	e.pd.recorder.mu.Unlock()
	if !resolved {
		t.Fatal("PagerDuty never heard of the resolve")
	}
}

func (e *escEnv) escalation(groupID int64) *klaxon.Escalation {
	e.t.Helper()
	esc, err := e.store.Escalation(context.Background(), groupID)
	if err != nil || esc == nil {
		e.t.Fatalf("escalation of group %d: %v %v", groupID, esc, err)
	}
	return esc
}

func TestEscalationAckedInTime(t *testing.T) {
	e := startEscalation(t, "")
	id := e.fire("critical")
	e.runDue()
	e.at(10 * time.Minute)
	if _, err := e.alerts.Ack(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour)
	if p := append(e.chat.taken(), e.pd.taken()...); len(p) != 0 {
		t.Fatalf("paged after an ack: %v", mentioned(p))
	}
	stopped := e.history(id, klaxon.EventEscalationStopped)
	if len(stopped) != 1 || !strings.Contains(stopped[0], "acknowledged by alice") {
		t.Fatalf("stop history: %q", stopped)
	}
}

func TestEscalationAckedLate(t *testing.T) {
	e := startEscalation(t, "")
	id := e.fire("critical")
	e.runDue()
	e.at(15 * time.Minute) // step 2: bob
	if got := mentioned(e.chat.taken()); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("step 2 mentioned %v", got)
	}
	if _, err := e.alerts.Ack(context.Background(), id, "bob"); err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour)
	if p := e.pd.taken(); len(p) != 0 {
		t.Fatal("PagerDuty paged after a late ack")
	}
	// Unacknowledged, it starts over from the first step.
	if _, err := e.alerts.Unack(context.Background(), id, "bob"); err != nil {
		t.Fatal(err)
	}
	e.runDue()
	if got := mentioned(e.chat.taken()); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("restart after unack mentioned %v, want the primary again", got)
	}
}

func TestEscalationResolvedMidway(t *testing.T) {
	e := startEscalation(t, "")
	id := e.fire("critical")
	e.runDue()
	e.at(15 * time.Minute)
	e.chat.taken()
	if _, err := e.alerts.Resolve(context.Background(), id, "prometheus"); err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour)
	if p := e.pd.taken(); len(p) != 0 {
		t.Fatal("paged after resolve")
	}
	if s := e.history(id, klaxon.EventEscalationStopped); len(s) != 1 || !strings.Contains(s[0], "resolved") {
		t.Fatalf("stop history: %q", s)
	}
}

func TestEscalationSurvivesRestartAndDuplicateJobs(t *testing.T) {
	e := startEscalation(t, "")
	e.fire("critical")
	e.runDue()
	e.restart()                        // pending jobs stay in the store
	e.store.Requeue(e.store.Jobs()...) // a second replica's copy of each job
	e.at(15 * time.Minute)
	if got := mentioned(e.chat.taken()); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("after restart step 2 mentioned %v, want bob once", got)
	}
	if p := e.pd.taken(); len(p) != 0 {
		t.Fatal("a duplicated step-2 job ran step 3 early")
	}
	e.at(15 * time.Minute)
	if p := e.pd.taken(); len(p) != 1 {
		t.Fatalf("PagerDuty paged %d times, want 1", len(p))
	}
}

func TestEscalationDeadlinesBySeverity(t *testing.T) {
	// The clock starts on Wednesday 2026-11-18 03:00 UTC.
	for _, tt := range []struct {
		severity string
		deadline time.Duration // to step 2; 0: never escalated
	}{
		{"error", time.Hour},        // P1
		{"warning", 30 * time.Hour}, // P2: next business day, Thursday 09:00
		{"info", 0},                 // P3
	} {
		t.Run(tt.severity, func(t *testing.T) {
			e := startEscalation(t, "business_hours: {time_zone: UTC, days: mon-fri, start: \"09:00\"}\n")
			id := e.fire(tt.severity)
			e.runDue()
			if tt.deadline == 0 {
				e.at(72 * time.Hour)
				if h := e.history(id, klaxon.EventEscalated); len(h) != 0 || len(firstPost(t, e.chat.recorder).Message.Mention) != 0 {
					t.Fatalf("P3 escalated: %q", h)
				}
				return
			}
			if m := firstPost(t, e.chat.recorder).Message.Mention; len(m) != 1 || m[0].Name != "alice" {
				t.Fatalf("first message mentions %+v", m)
			}
			e.at(tt.deadline - time.Minute)
			if p := e.chat.taken(); len(p) != 0 {
				t.Fatalf("escalated before %s: %v", tt.deadline, mentioned(p))
			}
			e.at(time.Minute)
			if got := mentioned(e.chat.taken()); !slices.Equal(got, []string{"bob"}) {
				t.Fatalf("step 2 at %s mentioned %v", tt.deadline, got)
			}
		})
	}
}

func TestOverrideChangesWhoIsCalled(t *testing.T) {
	e := startEscalation(t, "")
	now := e.clock.Now()
	if _, err := e.oncall.AddOverride(context.Background(), klaxon.Override{Schedule: "primary", User: "bob", Start: now.Add(-time.Hour), End: now.Add(time.Hour), CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	e.fire("critical")
	e.runDue()
	first := firstPost(t, e.chat.recorder)
	if m := first.Message.Mention; len(m) != 1 || m[0].Name != "bob" {
		t.Fatalf("with an override the first message mentions %+v, want bob", m)
	}
}

func TestHandoffNotice(t *testing.T) {
	e := startEscalation(t, "")
	e.cfg.Schedules[0].HandoffNotice = "ops" // primary: alice, then carol from Monday 23 Nov 09:00 UTC
	e.restart()
	if err := e.svc.QueueHandoffs(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.at(5*24*time.Hour + 5*time.Hour) // Monday 08:00
	if p := e.chat.taken(); len(p) != 0 {
		t.Fatalf("notice before the hand-off: %+v", p)
	}
	e.at(time.Hour)
	p := e.chat.taken()
	if len(p) != 1 || p[0].Ref != "" || p[0].Message != nil || len(p[0].People) != 1 || p[0].People[0].Name != "carol" ||
		!strings.Contains(p[0].Text, "Hand-off on primary: carol is on call until Mon 30 Nov 09:00 UTC, taking over from alice.") {
		t.Fatalf("hand-off notice: %+v", p)
	}
	// The next one is queued for the following hand-off, once.
	e.at(7 * 24 * time.Hour)
	if p := e.chat.taken(); len(p) != 1 || p[0].People[0].Name != "alice" {
		t.Fatalf("second hand-off: %+v", p)
	}
}

func TestHandoffNoticeForOverride(t *testing.T) {
	e := startEscalation(t, "")
	e.cfg.Schedules[0].HandoffNotice = "ops"
	e.restart()
	now := e.clock.Now()
	if _, err := e.oncall.AddOverride(context.Background(), klaxon.Override{Schedule: "primary", User: "bob", Start: now.Add(time.Hour), End: now.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour)
	if p := e.chat.taken(); len(p) != 1 || !strings.Contains(p[0].Text, "bob is on call until Wed 18 Nov 06:00 UTC, taking over from alice") {
		t.Fatalf("override start notice: %+v", p)
	}
	e.at(2 * time.Hour)
	if p := e.chat.taken(); len(p) != 1 || !strings.Contains(p[0].Text, "alice is on call until Mon 23 Nov 09:00 UTC, taking over from bob") {
		t.Fatalf("override end notice: %+v", p)
	}
}

func TestOnCallChatCommands(t *testing.T) {
	e := startEscalation(t, "")
	cmds := &notify.Commands{Alerts: e.alerts, Severity: klaxon.DefaultSeverityPolicy(), OnCall: e.oncall, Now: e.clock.Now}
	say := func(actor, text string) string {
		return cmds.Command(context.Background(), notify.Command{Channel: "ops", Actor: actor, Text: text, Addressed: true}).Text
	}
	if got := say("slack:UBOB", "oncall primary"); got != "primary: alice until Mon 23 Nov 09:00 UTC; next carol from Mon 23 Nov 09:00 UTC" {
		t.Fatalf("oncall: %q", got)
	}
	if got := say("slack:UBOB", "override primary dave 2h"); !strings.Contains(got, `no user "dave"`) || !strings.Contains(got, "alice, bob, carol") {
		t.Fatalf("override for an unknown person: %q", got)
	}
	if got := say("slack:UBOB", "override tertiary bob 2h"); !strings.Contains(got, `no schedule "tertiary"`) || !strings.Contains(got, "primary, secondary") {
		t.Fatalf("override on an unknown schedule: %q", got)
	}
	if got := say("slack:UBOB", "override primary me 2h"); !strings.Contains(got, "bob is on call for primary from Wed 18 Nov 03:00 UTC until Wed 18 Nov 05:00 UTC") {
		t.Fatalf("override me: %q", got)
	}
	if got := say("slack:UBOB", "oncall primary"); !strings.HasPrefix(got, "primary: bob until Wed 18 Nov 05:00 UTC; next alice") {
		t.Fatalf("oncall after the override: %q", got)
	}
	// An ack from chat is recorded as the person.
	id := e.fire("critical")
	say("slack:UBOB", fmt.Sprintf("ack %d", id))
	if a, err := e.store.Alert(context.Background(), id); err != nil || a.AckedBy != "bob" {
		t.Fatalf("acked by %q, %v; want bob", a.AckedBy, err)
	}
}
