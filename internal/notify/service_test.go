package notify_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// recorder is a Channel that records what it is sent, failing as told.
type recorder struct {
	mu    sync.Mutex
	sends []notify.Delivery
	fail  func(d notify.Delivery) error // nil: accept
	sent  chan notify.Delivery
}

func newRecorder() *recorder { return &recorder{sent: make(chan notify.Delivery, 1000)} }

func (r *recorder) Send(_ context.Context, d notify.Delivery) (string, error) {
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(d); err != nil {
			return "", err
		}
	}
	r.mu.Lock()
	r.sends = append(r.sends, d)
	r.mu.Unlock()
	r.sent <- d
	ref := d.Ref
	if ref == "" {
		ref = fmt.Sprintf("msg-%d", d.Message.GroupID)
	}
	return ref, nil
}

func (r *recorder) setFail(f func(notify.Delivery) error) {
	r.mu.Lock()
	r.fail = f
	r.mu.Unlock()
}

// next waits for the next accepted send.
func (r *recorder) next(t *testing.T) notify.Delivery {
	t.Helper()
	select {
	case d := <-r.sent:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no message delivered within 10s")
		return notify.Delivery{}
	}
}

// quiet asserts nothing more is sent for a while.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r.sent:
		t.Fatalf("unexpected send: group %d %s", got.Message.GroupID, got.Message.Headline())
	case <-time.After(d):
	}
}

type env struct {
	store  klaxon.Store
	alerts *alerting.Service
	svc    *notify.Service
	ch     *recorder
}

func start(t *testing.T, routesYAML string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{JobPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.yaml", []byte("channels:\n  - {name: ops, type: test}\n"+routesYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	routes, err := notify.CompileRoutes(cfg.Routes)
	if err != nil {
		t.Fatal(err)
	}
	ch := newRecorder()
	svc := notify.New(store, notify.Options{
		Routes: routes, Channels: map[string]notify.Channel{"ops": ch}, BaseURL: "https://k.example",
		PollInterval: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	alerts := alerting.New(store, alerting.Options{Observer: svc})
	if err := store.StartJobs(ctx, svc); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		alerts.Close()
		store.Close()
	})
	return &env{store: store, alerts: alerts, svc: svc, ch: ch}
}

func (e *env) fire(t *testing.T, name, pod string) int64 {
	t.Helper()
	res, err := e.alerts.Ingest(context.Background(), "am", []klaxon.Signal{{
		Key: name + "/" + pod, Action: klaxon.ActionTrigger, Severity: "critical", Summary: name + " on " + pod,
		Labels: map[string]string{"alertname": name, "pod": pod, "severity": "critical"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].AlertID
}

func TestGroupPostedThenEdited(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n  group_interval: 300ms\n")
	first := e.fire(t, "PodCrash", "a")
	d := e.ch.next(t)
	if d.Ref != "" || d.Message.Counts.Firing != 1 || d.Message.Primary().ID != first || d.Attempt != 1 {
		t.Fatalf("first post: ref %q counts %+v", d.Ref, d.Message.Counts)
	}
	// Two more members join inside one group_interval: they are edited
	// into the same message, in one edit (two if the first change arrived
	// while the post was still being recorded).
	e.fire(t, "PodCrash", "b")
	e.fire(t, "PodCrash", "c")
	var edit notify.Delivery
	for edits := 1; ; edits++ {
		edit = e.ch.next(t)
		if edit.Ref != "msg-"+fmt.Sprint(d.Message.GroupID) || edit.Message.GroupID != d.Message.GroupID {
			t.Fatalf("edit: ref %q group %d", edit.Ref, edit.Message.GroupID)
		}
		if edit.Message.Counts.Firing == 3 {
			break
		}
		if edits == 2 {
			t.Fatalf("two edits and still counts %+v", edit.Message.Counts)
		}
	}
	if edit.IdempotencyKey() == d.IdempotencyKey() {
		t.Fatal("an edit must carry a new idempotency key")
	}
	e.ch.quiet(t, 500*time.Millisecond)

	// A person's ack updates at once, not after group_interval.
	before := time.Now()
	if _, err := e.alerts.Ack(context.Background(), first, "@alice"); err != nil {
		t.Fatal(err)
	}
	ack := e.ch.next(t)
	if ack.Message.Counts.Acknowledged != 1 || time.Since(before) > 250*time.Millisecond {
		t.Fatalf("ack edit: counts %+v after %s", ack.Message.Counts, time.Since(before))
	}
	// Another alertname is another group: another message.
	e.fire(t, "DiskFull", "a")
	other := e.ch.next(t)
	if other.Ref != "" || other.Message.GroupID == d.Message.GroupID || other.Message.Title != "DiskFull" {
		t.Fatalf("new group: %+v", other.Message)
	}
}

func TestResolvedGroupCloses(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n  group_interval: 50ms\n")
	id := e.fire(t, "PodCrash", "a")
	first := e.ch.next(t)
	if _, err := e.alerts.Resolve(context.Background(), id, "bob"); err != nil {
		t.Fatal(err)
	}
	if d := e.ch.next(t); d.Message.State != klaxon.StateResolved || d.Message.GroupID != first.Message.GroupID {
		t.Fatalf("resolve edit: %+v", d.Message)
	}
	// The same alert firing again is a new occurrence in a new group: a new
	// message, not an edit of the resolved one.
	e.fire(t, "PodCrash", "a")
	if d := e.ch.next(t); d.Ref != "" || d.Message.GroupID == first.Message.GroupID {
		t.Fatalf("refire must post anew: ref %q group %d", d.Ref, d.Message.GroupID)
	}
}

func TestFailingChannelKeepsOrder(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n")
	var mu sync.Mutex
	failures := 0
	e.ch.setFail(func(d notify.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		if failures < 4 {
			failures++
			if failures == 2 {
				return notify.RetryAfter(30*time.Millisecond, errors.New("429"))
			}
			return errors.New("HTTP 503")
		}
		return nil
	})
	var want []int64
	for i := range 5 {
		id := e.fire(t, fmt.Sprintf("Alert%d", i), "p")
		want = append(want, id)
	}
	for _, id := range want {
		d := e.ch.next(t)
		if got := d.Message.Primary().ID; got != id {
			t.Fatalf("delivered alert %d, want %d: a failing message was overtaken", got, id)
		}
	}
	if first := e.ch.sends[0]; first.Attempt != 5 {
		t.Errorf("first message delivered on attempt %d, want 5", first.Attempt)
	}
	e.ch.quiet(t, 200*time.Millisecond)
}

func TestPermanentFailureIsRecorded(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n")
	e.ch.setFail(func(d notify.Delivery) error {
		if d.Message.Title == "Bad" {
			return notify.Permanent(errors.New("channel_not_found"))
		}
		return nil
	})
	bad := e.fire(t, "Bad", "p")
	good := e.fire(t, "Good", "p")
	if d := e.ch.next(t); d.Message.Primary().ID != good {
		t.Fatalf("delivered %d, want the next message %d", d.Message.Primary().ID, good)
	}
	events, err := e.store.AlertEvents(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != klaxon.EventNotifyFailed || last.Actor != "ops" || !strings.Contains(last.Message, "channel_not_found") {
		t.Fatalf("history lacks the failure: %+v", events)
	}
	msgs, err := e.store.AlertMessages(context.Background(), bad)
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].LastError, "channel_not_found") || msgs[0].Sends != 0 {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
}

func TestStormIsBounded(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n  group_interval: 200ms\n")
	const names, perName = 20, 50
	var signals []klaxon.Signal
	for i := range names * perName {
		name := fmt.Sprintf("Alert%02d", i%names)
		signals = append(signals, klaxon.Signal{Key: fmt.Sprint(i), Action: klaxon.ActionTrigger,
			Labels: map[string]string{"alertname": name, "pod": fmt.Sprint(i)}})
	}
	for start := 0; start < len(signals); start += 100 {
		if _, err := e.alerts.Ingest(context.Background(), "am", signals[start:start+100]); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until every group shows all its members.
	complete := map[int64]bool{}
	posts := 0
	deadline := time.After(20 * time.Second)
	for len(complete) < names {
		select {
		case d := <-e.ch.sent:
			if d.Ref == "" {
				posts++
			}
			if d.Message.Counts.Total() == perName {
				complete[d.Message.GroupID] = true
			}
		case <-deadline:
			t.Fatalf("after 20s only %d of %d groups show all members", len(complete), names)
		}
	}
	e.ch.mu.Lock()
	sends := len(e.ch.sends)
	e.ch.mu.Unlock()
	if posts != names || sends > names*4 {
		t.Fatalf("%d alerts gave %d posts and %d sends; want %d posts and a few edits each", names*perName, posts, sends, names)
	}
}

func TestReminderWhileFiring(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n")
	// The reminder job runs at repeat_interval; run it now by hand.
	id := e.fire(t, "PodCrash", "a")
	first := e.ch.next(t)
	if err := e.svc.HandleJob(context.Background(), klaxon.GroupReminder{GroupID: first.Message.GroupID}); err != nil {
		t.Fatal(err)
	}
	if d := e.ch.next(t); !d.Remind || d.Ref == "" {
		t.Fatalf("reminder: remind %v ref %q", d.Remind, d.Ref)
	}
	// Acknowledged: no reminder.
	if _, err := e.alerts.Ack(context.Background(), id, "bob"); err != nil {
		t.Fatal(err)
	}
	e.ch.next(t) // the ack edit
	if err := e.svc.HandleJob(context.Background(), klaxon.GroupReminder{GroupID: first.Message.GroupID}); err != nil {
		t.Fatal(err)
	}
	e.ch.quiet(t, 200*time.Millisecond)
}

func TestGroupSaysWhoActed(t *testing.T) {
	e := start(t, "routes:\n  receiver: ops\n  group_interval: 50ms\n")
	a := e.fire(t, "PodCrash", "a")
	b := e.fire(t, "PodCrash", "b")
	for e.ch.next(t).Message.Counts.Total() != 2 {
	}
	for _, ack := range []struct {
		id    int64
		actor string
	}{{a, "alice"}, {b, "bob"}} {
		if _, err := e.alerts.Ack(context.Background(), ack.id, ack.actor); err != nil {
			t.Fatal(err)
		}
	}
	for {
		d := e.ch.next(t)
		if d.Message.State == klaxon.StateAcknowledged {
			if d.Message.LastFrom != "acknowledged by bob" {
				t.Fatalf("LastFrom = %q, want the latest ack's actor", d.Message.LastFrom)
			}
			return
		}
		if d.Message.LastFrom != "" {
			t.Fatalf("still firing, yet LastFrom = %q", d.Message.LastFrom)
		}
	}
}
