package incident

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// The methods below are what the API, the CLI (through the API) and the
// chat commands call. Every change is recorded on the timeline with actor.

// New returns a Service.
func New(store klaxon.Store, opts Options) *Service {
	s := &Service{
		store:    store,
		cfg:      opts.Config.Incidents,
		severity: opts.Severity,
		oncall:   opts.OnCall,
		channels: opts.Channels,
		baseURL:  opts.BaseURL,
		log:      opts.Logger,
		now:      opts.Now,
	}
	for _, c := range opts.Config.StatusPage.Components {
		s.componentServices = append(s.componentServices, c.Services...)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// LevelName is a level's incident name, e.g. "SEV1".
func (s *Service) LevelName(l klaxon.Level) string { return s.levelName(l) }

// ParseLevel reads a typed severity: "sev1", "SEV1", "1" (SEV1) or an alert
// name ("P0"). EINVALID names the levels there are.
func (s *Service) ParseLevel(word string) (klaxon.Level, error) {
	w := strings.TrimSpace(word)
	if n, err := strconv.Atoi(w); err == nil && n >= 1 && n <= len(s.cfg.Names) {
		return klaxon.Level(n - 1), nil
	}
	for _, names := range [][]string{s.cfg.Names, s.severity.Names} {
		for i, n := range names {
			if strings.EqualFold(n, w) {
				return klaxon.Level(i), nil
			}
		}
	}
	return 0, klaxon.Errorf(klaxon.EINVALID, "%q is not a severity (%s, or 1–%d)", word, strings.Join(s.cfg.Names, ", "), len(s.cfg.Names))
}

// isLevel reports whether word reads as a severity.
func (s *Service) isLevel(word string) bool {
	_, err := s.ParseLevel(word)
	return err == nil && !isNumber(word)
}

func isNumber(w string) bool {
	_, err := strconv.Atoi(w)
	return err == nil
}

// Declare opens an incident. EINVALID for a missing service or summary, an
// unknown alert (ENOTFOUND), an unknown commander.
func (s *Service) Declare(ctx context.Context, d Declaration) (*klaxon.Incident, error) {
	now := s.clock()
	var alert *klaxon.Alert
	if d.AlertID != 0 {
		a, err := s.store.Alert(ctx, d.AlertID)
		if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
			return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no alert %d", d.AlertID)
		}
		if err != nil {
			return nil, err
		}
		alert = a
		if d.Service == "" {
			d.Service = alertService(a)
		}
		if d.Summary == "" {
			d.Summary = cmp.Or(a.Summary, a.Name())
		}
		if d.Level == nil && d.Assessment == nil {
			l := min(a.Level, klaxon.Level(len(s.cfg.Names)-1))
			d.Level = &l
		}
	}
	d.Service, d.Summary = strings.TrimSpace(d.Service), strings.TrimSpace(d.Summary)
	switch {
	case d.Service == "":
		return nil, klaxon.Errorf(klaxon.EINVALID, "name the affected service, e.g. `incident declare sev2 api 50%% of requests failing`")
	case d.Summary == "":
		return nil, klaxon.Errorf(klaxon.EINVALID, "say what is happening, e.g. `incident declare sev2 %s 50%% of requests failing`", d.Service)
	case d.Reporter == "":
		return nil, klaxon.Errorf(klaxon.EINVALID, "missing reporter")
	}
	level := klaxon.Level(1)
	switch {
	case d.Level != nil:
		level = *d.Level
	case d.Assessment != nil:
		level, _ = Suggest(*d.Assessment)
	}
	if level < 0 || int(level) >= len(s.cfg.Names) {
		return nil, klaxon.Errorf(klaxon.EINVALID, "severity %d is not on the ladder (%s)", level, strings.Join(s.cfg.Names, ", "))
	}
	commander := d.Reporter
	if d.Commander != "" {
		p, err := s.person(d.Reporter, d.Commander)
		if err != nil {
			return nil, err
		}
		commander = p
	}
	inc := &klaxon.Incident{
		Title:      fmt.Sprintf("INCIDENT: %s - %s", d.Service, d.Summary),
		Service:    d.Service,
		Summary:    d.Summary,
		Level:      level,
		Status:     klaxon.IncidentInvestigating,
		Public:     slices.Contains(s.componentServices, d.Service),
		Reporter:   d.Reporter,
		DetectedAt: now,
		DeclaredAt: now,
		Commander:  commander,
		Alerts:     []int64{},
	}
	if d.Public != nil {
		inc.Public = *d.Public
	}
	if alert != nil {
		inc.Alerts = []int64{alert.ID}
		if !alert.StartsAt.IsZero() && alert.StartsAt.Before(now) {
			inc.DetectedAt = alert.StartsAt.UTC()
		}
	}
	if room := s.cfg.Rooms; room != "" && (d.Room == nil || *d.Room) {
		inc.Room = klaxon.IncidentRoom{Channel: room, Name: roomName(inc, now)}
	} else if d.Room != nil && *d.Room {
		return nil, klaxon.Errorf(klaxon.EINVALID, "no channel opens incident rooms: set incidents.rooms in Klaxon's config")
	}
	for _, item := range s.cfg.Checklist(int(level)) {
		inc.Checklist = append(inc.Checklist, klaxon.ChecklistItem{Text: item})
	}
	// Declaring is the checklist's first step when it says so.
	if len(inc.Checklist) > 0 && strings.Contains(strings.ToLower(inc.Checklist[0].Text), "declared") {
		inc.Checklist[0].DoneBy, inc.Checklist[0].DoneAt = d.Reporter, now
	}
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		if every := s.cadence(level); every > 0 {
			inc.NextUpdateAt = now.Add(every)
		}
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return err
		}
		if !inc.NextUpdateAt.IsZero() {
			if err := tx.Enqueue(ctx, klaxon.UpdateDue{IncidentID: inc.ID, Due: inc.NextUpdateAt}, inc.NextUpdateAt); err != nil {
				return err
			}
		}
		// Timeline texts do not repeat what their kind says: the
		// postmortem and the CLI label each entry by its kind.
		entries := []*klaxon.TimelineEntry{{
			Actor: d.Reporter, Kind: klaxon.TimelineDeclared,
			Text: fmt.Sprintf("%s at %s. Commander: %s.", inc.Title, s.levelName(level), commander),
		}}
		if inc.Public {
			// The status page's first word on it, without names.
			entries = append(entries, &klaxon.TimelineEntry{Actor: d.Reporter, Kind: klaxon.TimelineUpdate, Public: true,
				Text: fmt.Sprintf("We are investigating: %s.", strings.TrimSuffix(inc.Summary, "."))})
		}
		if alert != nil {
			entries = append(entries, &klaxon.TimelineEntry{Actor: d.Reporter, Kind: klaxon.TimelineAlertLinked, AlertID: alert.ID,
				Text: fmt.Sprintf("#%d %s", alert.ID, describeAlert(alert))})
		}
		for _, e := range entries {
			e.IncidentID, e.At, e.Status = inc.ID, now, inc.Status
		}
		if err := tx.AddTimeline(ctx, entries...); err != nil {
			return err
		}
		if err := s.scheduleDiagnosis(ctx, tx, inc, now); err != nil {
			return err
		}
		if inc.Room.Channel != "" {
			if err := tx.Enqueue(ctx, klaxon.IncidentRoomOpen{IncidentID: inc.ID}, now); err != nil {
				return err
			}
		}
		for _, ch := range s.cfg.Announce {
			j := klaxon.IncidentPost{IncidentID: inc.ID, Channel: ch, Key: fmt.Sprintf("klaxon-incident-%d-declared-%s", inc.ID, ch), Text: s.declaredText(inc)}
			if err := tx.Enqueue(ctx, j, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	incidentsDeclared.WithLabelValues(s.levelName(level)).Inc()
	return inc, nil
}

// alertService is the service an alert is about, for an incident promoted
// from it.
func alertService(a *klaxon.Alert) string {
	for _, k := range []string{"service", "app", "job", "deployment", "namespace"} {
		if v := a.Labels[k]; v != "" {
			return v
		}
	}
	return a.Name()
}

func describeAlert(a *klaxon.Alert) string {
	d := cmp.Or(a.Name(), a.Summary)
	if w := a.Where(); w != "" {
		d += " " + w
	}
	return d
}

// Incident returns one incident, ENOTFOUND naming what is open.
func (s *Service) Incident(ctx context.Context, id int64) (*klaxon.Incident, error) {
	inc, err := s.store.Incident(ctx, id)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d. %s", id, s.openList(ctx))
	}
	return inc, err
}

// Incidents lists incidents, newest first.
func (s *Service) Incidents(ctx context.Context, f klaxon.IncidentFilter) ([]*klaxon.Incident, error) {
	return s.store.Incidents(ctx, f)
}

// alertKinds are the alert history entries an incident's timeline shows.
var alertKinds = map[klaxon.EventKind]bool{
	klaxon.EventFired: true, klaxon.EventRefired: true, klaxon.EventAcknowledged: true,
	klaxon.EventUnacked: true, klaxon.EventResolved: true, klaxon.EventDiagnosed: true,
	klaxon.EventEscalated: true,
}

// Timeline is the incident's timeline merged with its linked alerts'
// histories, oldest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]klaxon.TimelineEntry, error) {
	inc, err := s.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	out, err := s.store.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, alertID := range inc.Alerts {
		events, err := s.store.AlertEvents(ctx, alertID)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			if !alertKinds[ev.Kind] {
				continue
			}
			out = append(out, klaxon.TimelineEntry{IncidentID: id, At: ev.At, Actor: ev.Actor, Kind: klaxon.TimelineKind(ev.Kind), Text: ev.Message, AlertID: alertID})
		}
	}
	slices.SortStableFunc(out, func(a, b klaxon.TimelineEntry) int { return a.At.Compare(b.At) })
	return out, nil
}

// PostUpdate posts a status update (and changes the status if u.Status is set).
func (s *Service) PostUpdate(ctx context.Context, id int64, actor string, u Update) (*klaxon.Incident, error) {
	u.Text = strings.TrimSpace(u.Text)
	if u.Text == "" {
		return nil, klaxon.Errorf(klaxon.EINVALID, "an update needs text, e.g. `update Found the bad deploy, rolling back`")
	}
	if err := checkOpenStatus(u.Status); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		var entries []*klaxon.TimelineEntry
		if u.Status != "" && u.Status != inc.Status {
			entries = append(entries, s.statusEntry(inc, actor, u.Status))
		}
		entries = append(entries, &klaxon.TimelineEntry{Actor: actor, Kind: klaxon.TimelineUpdate, Text: u.Text, Public: u.Public && inc.Public})
		inc.LastUpdateAt = now
		if err := s.scheduleUpdate(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("klaxon-incident-%d-update-%d", inc.ID, now.UnixMicro())
		return entries, s.post(ctx, tx, inc, key, s.updateText(inc, actor, u.Text), nil, true, now)
	})
}

func checkOpenStatus(st klaxon.IncidentStatus) error {
	switch st {
	case "", klaxon.IncidentInvestigating, klaxon.IncidentIdentified, klaxon.IncidentMonitoring:
		return nil
	case klaxon.IncidentResolved:
		return klaxon.Errorf(klaxon.EINVALID, "resolve the incident with its root cause, fix and impact: `resolve cause: …; fix: …; impact: …`")
	}
	return klaxon.Errorf(klaxon.EINVALID, "%q is not a status (investigating, identified, monitoring)", st)
}

// statusEntry moves inc to st and returns the entry that says so. Leaving
// investigating ticks nothing by itself: people tick the checklist.
func (s *Service) statusEntry(inc *klaxon.Incident, actor string, st klaxon.IncidentStatus) *klaxon.TimelineEntry {
	from := inc.Status
	inc.Status = st
	return &klaxon.TimelineEntry{Actor: actor, Kind: klaxon.TimelineStatus, Public: inc.Public, Text: fmt.Sprintf("%s → %s", from, st)}
}

// SetStatus changes the status without other text; resolved is refused
// (use Resolve).
func (s *Service) SetStatus(ctx context.Context, id int64, actor string, st klaxon.IncidentStatus) (*klaxon.Incident, error) {
	if st == "" {
		return nil, klaxon.Errorf(klaxon.EINVALID, "name the status (investigating, identified, monitoring)")
	}
	if err := checkOpenStatus(st); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if inc.Status == st {
			return nil, klaxon.Errorf(klaxon.EINVALID, "incident %d is already %s", inc.ID, st)
		}
		e := s.statusEntry(inc, actor, st)
		key := fmt.Sprintf("klaxon-incident-%d-status-%d", inc.ID, now.UnixMicro())
		if err := s.post(ctx, tx, inc, key, s.headline(inc)+"\nStatus: "+e.Text+" (by "+actor+")", nil, true, now); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{e}, s.queueTopic(ctx, tx, inc, now)
	})
}

// SetLevel changes the severity.
func (s *Service) SetLevel(ctx context.Context, id int64, actor string, l klaxon.Level) (*klaxon.Incident, error) {
	if l < 0 || int(l) >= len(s.cfg.Names) {
		return nil, klaxon.Errorf(klaxon.EINVALID, "severity %d is not on the ladder (%s)", l, strings.Join(s.cfg.Names, ", "))
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if inc.Level == l {
			return nil, klaxon.Errorf(klaxon.EINVALID, "incident %d is already %s", inc.ID, s.levelName(l))
		}
		text := fmt.Sprintf("%s → %s", s.levelName(inc.Level), s.levelName(l))
		inc.Level = l
		// The new level's cadence counts from now.
		if err := s.scheduleUpdate(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		if err := s.scheduleDiagnosis(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("klaxon-incident-%d-severity-%d", inc.ID, now.UnixMicro())
		if err := s.post(ctx, tx, inc, key, s.headline(inc)+"\nSeverity: "+text+" (by "+actor+")", nil, true, now); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineSeverity, Text: text}}, s.queueTopic(ctx, tx, inc, now)
	})
}

// ParseRole reads a role as people type it.
func ParseRole(word string) (Role, error) {
	switch strings.ToLower(strings.ReplaceAll(word, "-", "_")) {
	case "commander", "ic", "lead", "incident_commander":
		return RoleCommander, nil
	case "comms", "comms_lead", "communications", "cl":
		return RoleComms, nil
	case "responder", "responders":
		return RoleResponder, nil
	}
	return "", klaxon.Errorf(klaxon.EINVALID, "%q is not a role (commander, comms, responder)", word)
}

// SetRole gives person (a configured user's name or chat identity, or
// "me" for actor) a role; a responder is added to the responders.
// EINVALID lists the known people for an unknown one.
func (s *Service) SetRole(ctx context.Context, id int64, actor string, role Role, person string) (*klaxon.Incident, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	who, err := s.person(actor, person)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		var text string
		switch role {
		case RoleCommander:
			text = fmt.Sprintf("Commander: %s → %s", cmp.Or(inc.Commander, "nobody"), who)
			inc.Commander = who
		case RoleComms:
			text = fmt.Sprintf("Comms lead: %s → %s", cmp.Or(inc.CommsLead, "nobody"), who)
			inc.CommsLead = who
		case RoleResponder:
			if slices.Contains(inc.Responders, who) {
				return nil, klaxon.Errorf(klaxon.EINVALID, "%s is already a responder of incident %d", who, inc.ID)
			}
			inc.Responders = append(inc.Responders, who)
			text = "Responder added: " + who
		}
		key := fmt.Sprintf("klaxon-incident-%d-role-%d", inc.ID, now.UnixMicro())
		if err := s.post(ctx, tx, inc, key, fmt.Sprintf("#%d %s (by %s)", inc.ID, text, actor), []string{who}, false, now); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineRole, Text: text}}, s.queueTopic(ctx, tx, inc, now)
	})
}

// queueTopic brings the room's topic up to date with the incident.
func (s *Service) queueTopic(ctx context.Context, tx klaxon.Tx, inc *klaxon.Incident, now time.Time) error {
	if inc.Room.Channel == "" {
		return nil
	}
	return tx.Enqueue(ctx, klaxon.IncidentTopic{IncidentID: inc.ID}, now)
}

// Check ticks (done) or unticks checklist item n, counted from 1.
func (s *Service) Check(ctx context.Context, id int64, actor string, n int, done bool) (*klaxon.Incident, error) {
	return s.changeAny(ctx, id, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if n < 1 || n > len(inc.Checklist) {
			return nil, klaxon.Errorf(klaxon.EINVALID, "incident %d's checklist has items 1–%d, not %d (say `checklist` to see them)", inc.ID, len(inc.Checklist), n)
		}
		item := &inc.Checklist[n-1]
		if item.Done() == done {
			state := "not ticked"
			if done {
				state = "already ticked by " + item.DoneBy
			}
			return nil, klaxon.Errorf(klaxon.EINVALID, "item %d (%s) is %s", n, item.Text, state)
		}
		text := fmt.Sprintf("Ticked %d. %s", n, item.Text)
		item.DoneBy, item.DoneAt = actor, now
		if !done {
			text = fmt.Sprintf("Unticked %d. %s", n, item.Text)
			item.DoneBy, item.DoneAt = "", time.Time{}
		}
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineChecklist, Text: text}}, nil
	})
}

// Note adds a note to the timeline.
func (s *Service) Note(ctx context.Context, id int64, actor, text string) (*klaxon.Incident, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, klaxon.Errorf(klaxon.EINVALID, "a note needs text, e.g. `note Rolled back to v1.4.2`")
	}
	return s.changeAny(ctx, id, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineNote, Text: text}}, nil
	})
}

// LinkAlert links an alert to the incident.
func (s *Service) LinkAlert(ctx context.Context, id int64, actor string, alertID int64) (*klaxon.Incident, error) {
	a, err := s.store.Alert(ctx, alertID)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no alert %d", alertID)
	}
	if err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		added, err := tx.LinkAlert(ctx, inc.ID, alertID)
		if err != nil {
			return nil, err
		}
		if !added {
			return nil, klaxon.Errorf(klaxon.EINVALID, "alert %d is already linked to incident %d", alertID, inc.ID)
		}
		inc.Alerts = append(inc.Alerts, alertID)
		slices.Sort(inc.Alerts)
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineAlertLinked, AlertID: alertID, Text: fmt.Sprintf("#%d %s", alertID, describeAlert(a))}}, nil
	})
}

// Resolve closes the incident. Root cause, fix and impact are all
// required (EINVALID says which are missing).
func (s *Service) Resolve(ctx context.Context, id int64, actor string, c Closure) (*klaxon.Incident, error) {
	c.RootCause, c.Fix, c.Impact = strings.TrimSpace(c.RootCause), strings.TrimSpace(c.Fix), strings.TrimSpace(c.Impact)
	var missing []string
	for _, f := range []struct{ name, v string }{{"cause", c.RootCause}, {"fix", c.Fix}, {"impact", c.Impact}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, klaxon.Errorf(klaxon.EINVALID, "to resolve, give the %s: `resolve cause: …; fix: …; impact: …`", strings.Join(missing, ", "))
	}
	return s.change(ctx, id, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		inc.Status, inc.ResolvedAt, inc.NextUpdateAt = klaxon.IncidentResolved, now, time.Time{}
		inc.RootCause, inc.Fix, inc.Impact = c.RootCause, c.Fix, c.Impact
		if due := s.postmortemDue(inc.Level); due > 0 {
			inc.PostmortemDue = now.Add(due)
			first := now.Add(min(s.cfg.PostmortemRemind, due))
			if err := tx.Enqueue(ctx, klaxon.PostmortemDue{IncidentID: inc.ID, At: first}, first); err != nil {
				return nil, err
			}
		}
		key := fmt.Sprintf("klaxon-incident-%d-resolved", inc.ID)
		if err := s.post(ctx, tx, inc, key, ClosureText(inc, s.levelName(inc.Level)), nil, true, now); err != nil {
			return nil, err
		}
		if err := s.queueTopic(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		text := fmt.Sprintf("After %s. Root cause: %s. Fix: %s. Impact: %s.", FormatDuration(now.Sub(inc.DetectedAt)), c.RootCause, c.Fix, c.Impact)
		entries := []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineResolved, Text: text}}
		if inc.Public {
			// The cause stays internal; the status page says it is over.
			entries = append(entries, &klaxon.TimelineEntry{Actor: actor, Kind: klaxon.TimelineUpdate, Public: true, Text: "This incident has been resolved."})
		}
		return entries, nil
	})
}

// AddAction adds a follow-up action item.
func (s *Service) AddAction(ctx context.Context, id int64, actor, text, owner string) (*klaxon.ActionItem, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, klaxon.Errorf(klaxon.EINVALID, "an action item needs text, e.g. `action add @bob Alert on connection pool saturation`")
	}
	if owner != "" {
		p, err := s.person(actor, owner)
		if err != nil {
			return nil, err
		}
		owner = p
	}
	var item *klaxon.ActionItem
	_, err := s.changeAny(ctx, id, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		item = &klaxon.ActionItem{IncidentID: inc.ID, Text: text, Owner: owner, CreatedBy: actor, CreatedAt: now}
		if err := tx.InsertAction(ctx, item); err != nil {
			return nil, err
		}
		msg := fmt.Sprintf("#%d %s", item.ID, text)
		if owner != "" {
			msg += " (owner: " + owner + ")"
		}
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelineAction, Text: msg}}, nil
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// CompleteAction marks an action item done.
func (s *Service) CompleteAction(ctx context.Context, actionID int64, actor string) (*klaxon.ActionItem, error) {
	var item *klaxon.ActionItem
	now := s.clock()
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		a, err := tx.ActionForUpdate(ctx, actionID)
		if err != nil {
			return err
		}
		if !a.DoneAt.IsZero() {
			return klaxon.Errorf(klaxon.EINVALID, "action item %d is already done (by %s)", a.ID, a.DoneBy)
		}
		a.DoneBy, a.DoneAt = actor, now
		if err := tx.UpdateAction(ctx, a); err != nil {
			return err
		}
		item = a
		return tx.AddTimeline(ctx, &klaxon.TimelineEntry{IncidentID: a.IncidentID, At: now, Actor: actor, Kind: klaxon.TimelineAction,
			Text: fmt.Sprintf("#%d done: %s", a.ID, a.Text), Status: klaxon.IncidentResolved})
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// Actions lists action items.
func (s *Service) Actions(ctx context.Context, f klaxon.ActionFilter) ([]klaxon.ActionItem, error) {
	return s.store.Actions(ctx, f)
}

// PostmortemDone marks the postmortem written: its reminders stop.
func (s *Service) PostmortemDone(ctx context.Context, id int64, actor string) (*klaxon.Incident, error) {
	return s.changeAny(ctx, id, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if inc.Open() {
			return nil, klaxon.Errorf(klaxon.EINVALID, "incident %d is still %s: resolve it first", inc.ID, inc.Status)
		}
		if !inc.PostmortemDone.IsZero() {
			return nil, klaxon.Errorf(klaxon.EINVALID, "incident %d's postmortem was already marked done", inc.ID)
		}
		inc.PostmortemDone = now
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: klaxon.TimelinePostmortem, Text: "Postmortem marked done"}}, nil
	})
}

// Postmortem renders the incident's postmortem draft as Markdown.
func (s *Service) Postmortem(ctx context.Context, id int64, author string) ([]byte, error) {
	inc, err := s.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	timeline, err := s.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	actions, err := s.store.Actions(ctx, klaxon.ActionFilter{IncidentID: id})
	if err != nil {
		return nil, err
	}
	return RenderPostmortem(PostmortemInput{
		Incident:  inc,
		LevelName: s.levelName(inc.Level),
		Timeline:  timeline,
		Actions:   actions,
		Author:    cmp.Or(author, inc.Commander),
		BaseURL:   s.baseURL,
	}), nil
}
