package incident_test

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
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/jobtest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// chat is a chat platform that records what it is asked to post: pages
// (posts in its own room) and incident rooms with their posts.
type chat struct {
	mu     sync.Mutex
	posts  []string            // "room: text [@people]"
	rooms  map[string][]string // room ref → invited user names
	topics map[string]string
	fail   error // returned by OpenRoom when set
}

func newChat() *chat { return &chat{rooms: map[string][]string{}, topics: map[string]string{}} }

func names(us []klaxon.User) string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Name
	}
	return strings.Join(out, ",")
}

func (c *chat) Send(context.Context, notify.Delivery) (string, error) { return "m", nil }
func (c *chat) MentionOf(u klaxon.User) string                        { return u.Slack }
func (c *chat) Page(_ context.Context, p notify.PageDelivery) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, fmt.Sprintf("main: %s [%s]", p.Text, names(p.People)))
	return "", nil
}
func (c *chat) OpenRoom(_ context.Context, r notify.RoomRequest) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return "", c.fail
	}
	ref := "R-" + r.Name
	c.rooms[ref] = strings.Split(names(r.Invite), ",")
	c.topics[ref] = r.Topic
	c.posts = append(c.posts, fmt.Sprintf("%s: %s [%s]", ref, r.Text, names(r.Invite)))
	return ref, nil
}
func (c *chat) PostRoom(_ context.Context, p notify.RoomPost) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, fmt.Sprintf("%s: %s [%s]", p.Room, p.Text, names(p.People)))
	return nil
}
func (c *chat) SetTopic(_ context.Context, room, topic string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.topics[room] = topic
	return nil
}

// taken returns and forgets the posts so far.
func (c *chat) taken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.posts
	c.posts = nil
	return out
}

const testConfig = `
channels:
  - {name: ops, type: slack}
users:
  - {name: alice, slack: UALICE}
  - {name: bob, slack: UBOB}
  - {name: carol, slack: UCAROL}
schedules:
  - name: primary
    rotations:
      - {participants: [bob], shift: weekly, start: 2026-01-05}
  - name: seniors
    rotations:
      - {participants: [carol], shift: weekly, start: 2026-01-05}
escalation_policies:
  - name: default
    steps:
      - targets: [{schedule: primary}]
      - after: 10m
        targets: [{schedule: seniors}]
incidents:
  announce: [ops]
  rooms: ops
status_page:
  components:
    - {name: API, services: [api]}
`

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *jobtest.Clock
	store *jobtest.Store
	svc   *incident.Service
	chat  *chat
	cmds  *notify.Commands
}

func newEnv(t *testing.T, yaml string) *env {
	t.Helper()
	cfg, err := config.Parse("klaxon.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := jobtest.NewClock(time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC))
	store := &jobtest.Store{Store: db}
	dir, err := oncall.Compile(cfg, config.DefaultLevelNames)
	if err != nil {
		t.Fatal(err)
	}
	oc := oncall.NewService(store, dir, oncall.Options{Now: clock.Now})
	c := newChat()
	svc := incident.New(store, incident.Options{
		Config:   cfg,
		Severity: klaxon.DefaultSeverityPolicy(),
		OnCall:   oc,
		Channels: map[string]notify.Channel{"ops": c},
		BaseURL:  "https://klaxon.example",
		Now:      clock.Now,
	})
	alerts := alerting.New(store, alerting.Options{Severity: klaxon.DefaultSeverityPolicy(), Now: clock.Now})
	t.Cleanup(alerts.Close)
	cmds := &notify.Commands{Alerts: alerts, Severity: klaxon.DefaultSeverityPolicy(), OnCall: oc, Incidents: svc, Now: clock.Now}
	return &env{t: t, ctx: context.Background(), clock: clock, store: store, svc: svc, chat: c, cmds: cmds}
}

// say runs a chat command as actor in room ("" for the main room).
func (e *env) say(actor, room, text string) string {
	e.t.Helper()
	return e.cmds.Command(e.ctx, notify.Command{Channel: "ops", Room: room, Actor: actor, Text: text}).Text
}

// advance moves the clock and works every job due.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if err := e.store.Work(e.ctx, e.clock.Now(), e.svc); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) incident(id int64) *klaxon.Incident {
	e.t.Helper()
	inc, err := e.svc.Incident(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc
}

func (e *env) timeline(id int64) []string {
	e.t.Helper()
	tl, err := e.svc.Timeline(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(tl))
	for i, en := range tl {
		out[i] = fmt.Sprintf("%s %s %s: %s", en.At.Format("15:04"), en.Actor, en.Kind, en.Text)
	}
	return out
}

func has(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

func TestDeclareRoomAndCadence(t *testing.T) {
	e := newEnv(t, testConfig)
	reply := e.say("slack:UALICE", "", "@klaxon incident declare sev2 api 30% of requests failing")
	if !strings.Contains(reply, "Declared #1 INCIDENT: api - 30% of requests failing at SEV2") || !strings.Contains(reply, "Next update: 14:35 UTC") {
		t.Fatalf("declare reply: %q", reply)
	}
	inc := e.incident(1)
	if inc.Commander != "alice" || inc.Reporter != "alice" || !inc.Public || inc.Status != klaxon.IncidentInvestigating || inc.Room.Channel != "ops" {
		t.Fatalf("incident: %+v", inc)
	}
	e.advance(0)
	posts := e.chat.taken()
	room := "R-incident-20261121-api-30-of-requests-failing"
	if !has(posts, "main: 🟠 INCIDENT DECLARED #1") || !has(posts, room+": 🟠 INCIDENT DECLARED #1") || !has(posts, "Next update: 14:35 UTC") {
		t.Fatalf("posts after declaring: %q", posts)
	}
	// The on-call engineer (bob, primary) is invited with the commander.
	if got := e.chat.rooms[room]; !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("invited %v, want alice and bob", got)
	}
	if inc := e.incident(1); inc.Room.Ref != room || !inc.Checklist[1].Done() {
		t.Errorf("room %+v, checklist %+v", inc.Room, inc.Checklist[:2])
	}

	// Roles from the room, shown in its topic.
	if r := e.say("slack:UALICE", room, "role comms @bob"); !strings.Contains(r, "Comms lead: bob") {
		t.Fatalf("role reply: %q", r)
	}
	e.advance(0)
	if topic := e.chat.topics[room]; !strings.Contains(topic, "Commander: alice | Comms: bob") {
		t.Errorf("topic %q", topic)
	}
	e.chat.taken()

	// SEV2 is due every 5m: at 14:35 the leads are reminded, the miss counted.
	e.advance(5 * time.Minute)
	posts = e.chat.taken()
	if len(posts) != 1 || !strings.HasPrefix(posts[0], room+": ⏰ #1 status update due") || !strings.HasSuffix(posts[0], "[alice,bob]") {
		t.Fatalf("reminder: %q", posts)
	}
	if inc := e.incident(1); inc.MissedUpdates != 1 || !inc.NextUpdateAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("after a missed update: missed %d, next %v", inc.MissedUpdates, inc.NextUpdateAt)
	}

	// An update in time resets the cadence: the 14:40 reminder does nothing.
	e.advance(2 * time.Minute)
	if r := e.say("slack:UBOB", room, "update --public --status identified Found the bad deploy, rolling back"); !strings.Contains(r, "shown on the status page") || !strings.Contains(r, "Next update: 14:42 UTC") {
		t.Fatalf("update reply: %q", r)
	}
	e.advance(0)
	posts = e.chat.taken()
	if !has(posts, room+": 🟠 #1 INCIDENT: api - 30% of requests failing (SEV2, identified)\nUpdate from bob: Found the bad deploy") || !has(posts, "main: 🟠 #1") {
		t.Fatalf("update posts: %q", posts)
	}
	e.advance(3 * time.Minute) // 14:40: the old due time
	if posts := e.chat.taken(); len(posts) != 0 {
		t.Fatalf("reminded although an update came in: %q", posts)
	}
	e.advance(2 * time.Minute) // 14:42
	if posts := e.chat.taken(); len(posts) != 1 || !strings.Contains(posts[0], "missed so far: 2") {
		t.Fatalf("second reminder: %q", posts)
	}

	// The checklist, action items, and commands typed in the room are on
	// the timeline, with who and when.
	if r := e.say("slack:UCAROL", room, "check 4"); !strings.Contains(r, "☑ 4. Diagnosis: cause identified (carol, 14:42 UTC)") || !strings.Contains(r, "☐ 5. Fix applied") {
		t.Errorf("check 4: %q", r)
	}
	if r := e.say("slack:UCAROL", room, "action add @bob Alert on connection pool saturation"); !strings.Contains(r, "Action item 1 added to #1: Alert on connection pool saturation (owner: bob)") {
		t.Errorf("action add: %q", r)
	}
	if r := e.say("slack:UBOB", room, "action done 1"); !strings.Contains(r, "Action item 1 done") {
		t.Errorf("action done: %q", r)
	}
	if r := e.say("slack:UBOB", room, "actions"); !strings.Contains(r, "☑ 1. Alert on connection pool saturation (owner: bob)") {
		t.Errorf("actions: %q", r)
	}
	if r := e.say("slack:UBOB", room, "ack 999"); !strings.Contains(r, "No alert 999") {
		t.Errorf("ack in the room: %q", r)
	}
	e.say("slack:UCAROL", room, "note Rolled back to v1.4.2")
	tl := e.timeline(1)
	for _, want := range []string{
		"14:30 alice declared: INCIDENT: api - 30% of requests failing at SEV2. Commander: alice.",
		"14:30 klaxon room: Opened room",
		"14:30 alice role: Comms lead: nobody → bob",
		"14:35 klaxon missed_update: due at 14:35 UTC, not posted; reminded alice, bob",
		"14:37 bob status: investigating → identified",
		"14:37 bob update: Found the bad deploy, rolling back",
		"14:42 carol checklist: Ticked 4. Diagnosis: cause identified",
		"14:42 carol action: #1 Alert on connection pool saturation (owner: bob)",
		"14:42 bob action: #1 done",
		"14:42 bob command: Ran `ack 999`: No alert 999.",
		"14:42 carol note: Rolled back to v1.4.2",
	} {
		if !has(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, strings.Join(tl, "\n"))
		}
	}
}

func TestSEV1StillInvestigatingEscalates(t *testing.T) {
	e := newEnv(t, testConfig)
	e.say("slack:UALICE", "", "@klaxon incident declare api --down users get connection refused --no-room")
	inc := e.incident(1)
	if inc.Level != 0 || inc.Room.Channel != "" {
		t.Fatalf("--down should suggest SEV1 and --no-room open none: %+v", inc)
	}
	e.advance(0)
	e.chat.taken()
	e.advance(5 * time.Minute)
	posts := e.chat.taken()
	if !has(posts, "main: 🚨 #1 SEV1 still investigating after 5m: escalating (policy default, step 1 of 2). Paging bob") {
		t.Fatalf("no escalation at 5m: %q", posts)
	}
	if !has(e.timeline(1), "klaxon escalated: No cause identified after 5m: escalation step 1 of 2 (policy default) paged bob") {
		t.Errorf("timeline: %q", e.timeline(1))
	}
	// The second step (the seniors) follows 10m later while still investigating…
	e.advance(10 * time.Minute)
	if posts := e.chat.taken(); !has(posts, "step 2 of 2). Paging carol") {
		t.Fatalf("no second step: %q", posts)
	}

	// …but not once the cause is identified.
	e2 := newEnv(t, testConfig)
	e2.say("slack:UALICE", "", "@klaxon incident declare sev1 api everything is down --no-room")
	e2.advance(3 * time.Minute)
	e2.say("slack:UALICE", "", "@klaxon status identified")
	e2.advance(10 * time.Minute)
	if has(e2.chat.taken(), "escalating") {
		t.Fatal("escalated an incident whose cause was identified")
	}
	// A SEV2 never escalates this way.
	e3 := newEnv(t, testConfig)
	e3.say("slack:UALICE", "", "@klaxon incident declare sev2 api slow --no-room")
	e3.advance(30 * time.Minute)
	if has(e3.chat.taken(), "escalating") {
		t.Fatal("escalated a SEV2")
	}
}

func TestResolveAndPostmortemReminders(t *testing.T) {
	e := newEnv(t, testConfig)
	e.say("slack:UALICE", "", "@klaxon incident declare sev1 api 60% of requests failing --no-room")
	e.advance(2 * time.Minute)
	e.say("slack:UALICE", "", "@klaxon update --status identified bad deploy")
	e.advance(10 * time.Minute)
	e.chat.taken()

	// Resolve asks for what is missing and changes nothing.
	r := e.say("slack:UALICE", "", "@klaxon incident resolve cause: bad deploy")
	if !strings.Contains(r, "give the fix, impact") {
		t.Fatalf("resolve without fix and impact: %q", r)
	}
	if e.incident(1).Open() == false {
		t.Fatal("a refused resolve resolved")
	}
	r = e.say("slack:UALICE", "", "@klaxon incident 1 resolve cause: v1.5 leaked connections; fix: rolled back to v1.4.2; impact: 60% of API requests failed for 12m")
	if !strings.Contains(r, "RESOLVED #1") || !strings.Contains(r, "Postmortem due: Sun 22 Nov 14:42 UTC") {
		t.Fatalf("closure: %q", r)
	}
	e.advance(0)
	if posts := e.chat.taken(); !has(posts, "main: ✅ RESOLVED #1") {
		t.Fatalf("closure not posted: %q", posts)
	}
	// Reminders every 12h until done.
	e.advance(12 * time.Hour)
	if posts := e.chat.taken(); len(posts) != 1 || !strings.Contains(posts[0], "is due in 12h") || !strings.HasSuffix(posts[0], "[alice]") {
		t.Fatalf("first postmortem reminder: %q", posts)
	}
	e.advance(24 * time.Hour)
	if posts := e.chat.taken(); len(posts) != 2 || !strings.Contains(posts[1], "is overdue by 12h") {
		t.Fatalf("overdue reminders: %q", posts)
	}
	if r := e.say("slack:UBOB", "", "@klaxon incident 1 postmortem done"); !strings.Contains(r, "no more reminders") {
		t.Fatalf("postmortem done: %q", r)
	}
	e.advance(48 * time.Hour)
	if posts := e.chat.taken(); len(posts) != 0 {
		t.Fatalf("reminded after done: %q", posts)
	}
	md, err := e.svc.Postmortem(e.ctx, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Postmortem: INCIDENT: api - 60% of requests failing", "v1.5 leaked connections", "rolled back to v1.4.2", "bad deploy"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("postmortem lacks %q:\n%s", want, md)
		}
	}
}

func TestBadCommandsChangeNothing(t *testing.T) {
	e := newEnv(t, testConfig)
	e.say("slack:UALICE", "", "@klaxon incident declare sev2 api slow --no-room")
	e.say("slack:UALICE", "", "@klaxon incident declare sev3 web images missing --no-room")
	before := e.timeline(1)
	for _, tt := range []struct{ text, want string }{
		{"@klaxon incident declare", "Say which service and what is happening. Usage: `incident declare"},
		{"@klaxon incident declare sev9 api x", `"sev9" is not a severity`},
		{"@klaxon incident declare --sev 9 api x", `"9" is not a severity (SEV1, SEV2, SEV3, SEV4, or 1–4)`},
		{"@klaxon incident declare api x --failing lots", `"lots" is not a failure rate`},
		{"@klaxon update nothing named", "Which incident? Say `incident 7 …` with its number. Open: #2"},
		{"@klaxon incident 9 update x", "No incident 9. Open: #2 INCIDENT: web - images missing (SEV3, investigating); #1"},
		{"@klaxon incident 1 role commander @mallory", `No person "@mallory" (people: alice, bob, carol)`},
		{"@klaxon incident 1 role boss @bob", `"boss" is not a role`},
		{"@klaxon incident 1 role commander", "Usage: `role commander|comms|responder @alice`"},
		{"@klaxon incident 1 check 42", "checklist has items 1–9, not 42"},
		{"@klaxon incident 1 check x", "Usage: `check 3`"},
		{"@klaxon incident 1 status resolved", "resolve the incident with its root cause"},
		{"@klaxon incident 1 status sleeping", `"sleeping" is not a status (investigating, identified, monitoring)`},
		{"@klaxon incident 1 severity sev7", `"sev7" is not a severity`},
		{"@klaxon incident 1 link 999", "no alert 999"},
		{"@klaxon incident 1 frobnicate", `I don't know "frobnicate" for an incident`},
	} {
		if got := e.say("slack:UALICE", "", tt.text); !strings.Contains(strings.ToLower(got), strings.ToLower(tt.want)) {
			t.Errorf("%s:\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
	if after := e.timeline(1); !slices.Equal(before, after) {
		t.Errorf("refused commands changed the timeline:\n%q\n%q", before, after)
	}
	e.say("slack:UALICE", "", "@klaxon incident 1 resolve cause: a; fix: b; impact: c")
	if got := e.say("slack:UALICE", "", "@klaxon incident 1 update more"); !strings.Contains(got, "Incident 1 is resolved. Open: #2") {
		t.Errorf("update of a resolved incident: %q", got)
	}
	// Without a mention, talk in the main room is not a command.
	if got := e.say("slack:UBOB", "", "update the ticket when the deploy is done"); got != "" {
		t.Errorf("talk answered: %q", got)
	}
}

func TestPromoteAlert(t *testing.T) {
	e := newEnv(t, testConfig)
	started := e.clock.Now().Add(-7 * time.Minute)
	a := &klaxon.Alert{Integration: "am", Key: "k", State: klaxon.StateFiring, Level: 0, Summary: "API 5xx above 50%",
		Labels: map[string]string{"alertname": "APIErrors", "service": "api"}, StartsAt: started, FirstSeen: started, LastSeen: started, Count: 1}
	err := e.store.Update(e.ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertAlert(e.ctx, a); err != nil {
			return err
		}
		return tx.AddEvents(e.ctx, klaxon.Event{AlertID: a.ID, At: started, Kind: klaxon.EventFired, Actor: "am"})
	})
	if err != nil {
		t.Fatal(err)
	}
	r := e.say("slack:UBOB", "", fmt.Sprintf("@klaxon incident from %d", a.ID))
	if !strings.Contains(r, "Declared #1 INCIDENT: api - API 5xx above 50% at SEV1") {
		t.Fatalf("promote: %q", r)
	}
	inc := e.incident(1)
	if !slices.Equal(inc.Alerts, []int64{a.ID}) || !inc.DetectedAt.Equal(started) || inc.Commander != "bob" {
		t.Fatalf("promoted incident: %+v", inc)
	}
	tl := e.timeline(1)
	if tl[0] != "14:23 am fired: " || !has(tl, "bob alert_linked: #1 APIErrors") {
		t.Errorf("timeline: %q", tl)
	}
}
