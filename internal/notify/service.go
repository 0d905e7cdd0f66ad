package notify

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

var (
	notificationsQueued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_notifications_queued_total",
		Help: "Changes queued for delivery to a channel (coalesced ones included), by channel.",
	}, []string{"channel"})
	notificationsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_notifications_sent_total",
		Help: "Messages the platform accepted (posts and edits), by channel.",
	}, []string{"channel"})
	notificationsRetried = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_notifications_retried_total",
		Help: "Sends that failed and will be retried, by channel.",
	}, []string{"channel"})
	notificationsFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_notifications_failed_total",
		Help: "Sends the platform refused for good (bad token, unknown room…), by channel.",
	}, []string{"channel"})
	notifyLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "klaxon_notification_latency_seconds",
		Help:    "Time from a change being queued (the alert received) to the platform accepting the message, by channel. Includes group_wait and group_interval.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"channel"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{notificationsQueued, notificationsSent, notificationsRetried, notificationsFailed, notifyLatency}
}

// Alerts is what commands do to alerts: the alerting service.
type Alerts interface {
	Ack(ctx context.Context, id int64, actor string) (*klaxon.Alert, error)
	Unack(ctx context.Context, id int64, actor string) (*klaxon.Alert, error)
	Resolve(ctx context.Context, id int64, actor string) (*klaxon.Alert, error)
	Alerts(ctx context.Context, f klaxon.AlertFilter) ([]*klaxon.Alert, error)
	Alert(ctx context.Context, id int64) (*klaxon.Alert, []klaxon.Event, error)
}

// Options configures a Service.
type Options struct {
	Routes   *Route
	Channels map[string]Channel // by configured name
	Severity klaxon.SeverityPolicy
	BaseURL  string
	Logger   *slog.Logger
	Now      func() time.Time
	// PollInterval bounds how late a due notification is noticed when no
	// change in this process woke the sender (e.g. a retry's wait, a
	// change made by another replica). Default 1s.
	PollInterval time.Duration
	// MaxBackoff caps the wait between retries of a failing channel.
	// Default 1m.
	MaxBackoff time.Duration
	// Runbooks, if set, are matched to alerts and shown in messages.
	Runbooks *runbook.Catalog
	// OnCall, if set, runs the routes' escalation policies.
	OnCall *oncall.Service
}

// Service routes alert changes into groups and delivers them.
type Service struct {
	store    klaxon.Store
	routes   *Route
	channels map[string]Channel
	severity klaxon.SeverityPolicy
	baseURL  string
	log      *slog.Logger
	now      func() time.Time
	poll     time.Duration
	backoff  time.Duration
	runbooks *runbook.Catalog
	oncall   *oncall.Service

	mu    sync.Mutex
	wakes map[string]chan struct{} // per channel, capacity 1
}

// New returns a Service. Call Run to deliver.
func New(store klaxon.Store, opts Options) *Service {
	s := &Service{
		store: store, routes: opts.Routes, channels: opts.Channels,
		severity: opts.Severity, baseURL: opts.BaseURL, log: opts.Logger, now: opts.Now,
		poll: opts.PollInterval, backoff: opts.MaxBackoff, runbooks: opts.Runbooks, oncall: opts.OnCall,
		wakes: make(map[string]chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.poll <= 0 {
		s.poll = time.Second
	}
	if s.backoff <= 0 {
		s.backoff = time.Minute
	}
	if s.severity.Names == nil {
		s.severity = klaxon.DefaultSeverityPolicy()
	}
	for name := range s.channels {
		s.wakes[name] = make(chan struct{}, 1)
	}
	return s
}

// wake tells a channel's sender to look for due notifications.
func (s *Service) wake(channel string) {
	if ch, ok := s.wakes[channel]; ok {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Committed wakes every sender: something may have been queued, and waking
// a sender with nothing to do costs one query.
func (s *Service) Committed() {
	for name := range s.wakes {
		s.wake(name)
	}
}

// AlertsChanged routes the changed alerts into their groups and queues the
// groups' channels, in the caller's transaction.
func (s *Service) AlertsChanged(ctx context.Context, tx klaxon.Tx, changes []klaxon.AlertChange) error {
	if s.routes == nil || len(changes) == 0 {
		return nil
	}
	now := s.now().UTC()
	type queued struct {
		group *klaxon.Group
		at    time.Time
	}
	touched := map[int64]*queued{} // by group ID
	touch := func(g *klaxon.Group, at time.Time) {
		if q, ok := touched[g.ID]; !ok || at.Before(q.at) {
			touched[g.ID] = &queued{group: g, at: at}
		}
	}
	escalations := groupChanges{}

	// Alerts already in groups (acks, resolves, updates): their groups.
	var existing []int64
	for _, c := range changes {
		if c.Kind != klaxon.EventFired && c.Kind != klaxon.EventRefired {
			existing = append(existing, c.Alert.ID)
		}
	}
	memberOf := map[int64][]*klaxon.Group{}
	if len(existing) > 0 {
		var err error
		if memberOf, err = tx.AlertGroups(ctx, existing...); err != nil {
			return err
		}
	}
	var resolvedGroups []int64
	openGroups := map[string]*klaxon.Group{} // route+key → group, within this batch
	joined := map[int64][]int64{}            // group ID → alerts that join it
	for _, c := range changes {
		a := c.Alert
		if c.Kind == klaxon.EventFired || c.Kind == klaxon.EventRefired {
			for _, r := range s.routes.Match(a.Labels) {
				if len(r.Receivers) == 0 {
					continue
				}
				g, created, err := s.openGroup(ctx, tx, openGroups, r, a, now)
				if err != nil {
					return err
				}
				joined[g.ID] = append(joined[g.ID], a.ID)
				escalations.add(g, created, c)
				if created {
					touch(g, now.Add(r.GroupWait))
					if r.RepeatInterval > 0 {
						if err := tx.Enqueue(ctx, klaxon.GroupReminder{GroupID: g.ID}, now.Add(r.RepeatInterval)); err != nil {
							return err
						}
					}
				} else {
					touch(g, now.Add(r.GroupInterval))
				}
			}
			continue
		}
		for _, g := range memberOf[a.ID] {
			at := now
			if !c.ByPerson {
				if r := s.routes.Find(g.Route); r != nil {
					at = now.Add(r.GroupInterval)
				}
			}
			touch(g, at)
			escalations.add(g, false, c)
			if c.Kind == klaxon.EventResolved {
				resolvedGroups = append(resolvedGroups, g.ID)
			}
		}
	}
	if err := addMembers(ctx, tx, joined); err != nil {
		return err
	}
	if len(resolvedGroups) > 0 {
		if err := tx.CloseResolvedGroups(ctx, now, resolvedGroups...); err != nil {
			return err
		}
	}
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] }) // queue in a stable order
	for _, id := range ids {
		q := touched[id]
		if err := s.queue(ctx, tx, q.group, q.at, false); err != nil {
			return err
		}
	}
	return s.escalate(ctx, tx, escalations, now)
}

// addMembers adds each group's new members with one statement per group,
// not one per alert: in a storm a request's alerts mostly share a group, and
// on PostgreSQL every statement is a round trip. Groups go in ID order, as
// queue takes them.
func addMembers(ctx context.Context, tx klaxon.Tx, joined map[int64][]int64) error {
	for _, id := range slices.Sorted(maps.Keys(joined)) {
		if err := tx.AddGroupMembers(ctx, id, joined[id]...); err != nil {
			return err
		}
	}
	return nil
}

// openGroup finds or creates the open group of route r for alert a.
func (s *Service) openGroup(ctx context.Context, tx klaxon.Tx, batch map[string]*klaxon.Group, r *Route, a *klaxon.Alert, now time.Time) (*klaxon.Group, bool, error) {
	key, lbls := r.GroupKey(a.Integration, a.Key, a.Labels)
	if g, ok := batch[r.Path+key]; ok {
		return g, false, nil
	}
	g, err := tx.OpenGroup(ctx, r.Path, key)
	if err != nil {
		return nil, false, err
	}
	created := g == nil
	if created {
		g = &klaxon.Group{Route: r.Path, Key: key, Labels: lbls, CreatedAt: now}
		if err := tx.InsertGroup(ctx, g); err != nil {
			return nil, false, err
		}
	}
	batch[r.Path+key] = g
	return g, created, nil
}

// queue queues every receiver of the group's route.
func (s *Service) queue(ctx context.Context, tx klaxon.Tx, g *klaxon.Group, at time.Time, remind bool) error {
	r := s.routes.Find(g.Route)
	if r == nil {
		s.log.Warn("group's route is gone from the configuration; not notifying", "group", g.ID, "route", g.Route)
		return nil
	}
	return s.queueChannels(ctx, tx, g, r.Receivers, at, remind)
}

// queueChannels queues the group's state for the named channels.
func (s *Service) queueChannels(ctx context.Context, tx klaxon.Tx, g *klaxon.Group, channels []string, at time.Time, remind bool) error {
	now := s.now().UTC()
	for _, ch := range channels {
		if _, ok := s.channels[ch]; !ok {
			continue
		}
		n := klaxon.Notification{Channel: ch, GroupID: g.ID, NotBefore: at, Remind: remind, CreatedAt: now}
		if err := tx.QueueNotification(ctx, n); err != nil {
			return err
		}
		notificationsQueued.WithLabelValues(ch).Inc()
	}
	return nil
}

// HandleJob works the notifier's jobs: reminders, thread notes,
// escalation steps, pages and hand-off notices.
func (s *Service) HandleJob(ctx context.Context, job klaxon.Job) error {
	switch j := job.(type) {
	case klaxon.GroupReminder:
		return s.remind(ctx, j)
	case klaxon.PostNote:
		return s.postNote(ctx, j)
	case klaxon.EscalationStep:
		return s.escalationStep(ctx, j)
	case klaxon.Page:
		return s.page(ctx, j)
	case klaxon.HandoffNotice:
		return s.handoff(ctx, j)
	}
	return fmt.Errorf("notify: unknown job kind %q", job.Kind())
}

// remind re-posts a group still firing unacknowledged after
// repeat_interval, and sets the next reminder.
func (s *Service) remind(ctx context.Context, j klaxon.GroupReminder) error {
	g, counts, _, err := s.store.GroupView(ctx, j.GroupID, 0)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	r := s.routes.Find(g.Route)
	if !g.ClosedAt.IsZero() || r == nil || r.RepeatInterval <= 0 {
		return nil
	}
	now := s.now().UTC()
	err = s.store.Update(ctx, func(tx klaxon.Tx) error {
		if counts.Firing > 0 {
			if err := s.queue(ctx, tx, g, now, true); err != nil {
				return err
			}
		}
		return tx.Enqueue(ctx, klaxon.GroupReminder{GroupID: g.ID}, now.Add(r.RepeatInterval))
	})
	if err == nil {
		s.Committed()
	}
	return err
}
