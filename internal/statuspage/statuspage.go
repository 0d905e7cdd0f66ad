// Package statuspage serves Klaxon's public status page: components,
// public incidents with their public updates, scheduled maintenance and 90
// days of history, as HTML, Atlassian Statuspage-compatible JSON and Atom.
package statuspage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// Options configures a Page.
type Options struct {
	Store       klaxon.Store
	Title       string
	BaseURL     string // Klaxon's external URL, for links and the Atom feed's IDs
	Components  []config.Component
	Maintenance []config.Maintenance
	LevelNames  []string         // incident names of levels: SEV1…
	Now         func() time.Time // nil: time.Now
	Logger      *slog.Logger
}

// Page is the public status page.
type Page struct {
	opts Options
	log  *slog.Logger

	// The handler keeps what it loaded for a few seconds: the page is
	// public and unauthenticated, and each load reads every public
	// incident's timeline.
	mu       sync.Mutex
	cached   *view
	cachedAt time.Time
}

const (
	historyDays = 90
	cacheFor    = 5 * time.Second
	pageID      = "klaxon"
)

// Component statuses, best first; a component shows the worst that applies.
var componentStatuses = []string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}

// New returns a Page.
func New(opts Options) *Page {
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.Title == "" {
		opts.Title = "Status"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Page{opts: opts, log: log}
}

// Summary is the page's content, in Atlassian Statuspage's summary.json shape.
func (p *Page) Summary(ctx context.Context) (*Summary, error) {
	v, err := p.load(ctx, p.opts.Now())
	if err != nil {
		return nil, err
	}
	return v.summary, nil
}

// SetComponent sets a component's status by hand (status one of
// operational, degraded_performance, partial_outage, major_outage,
// under_maintenance), or clears it with "" so incidents decide again.
// EINVALID names the known components / statuses for an unknown one.
func (p *Page) SetComponent(ctx context.Context, component, status, actor string) error {
	var names []string
	name := ""
	for _, c := range p.opts.Components {
		names = append(names, c.Name)
		if strings.EqualFold(c.Name, strings.TrimSpace(component)) {
			name = c.Name
		}
	}
	if len(names) == 0 {
		return klaxon.Errorf(klaxon.EINVALID, "the status page has no components: configure status_page.components")
	}
	if name == "" {
		return klaxon.Errorf(klaxon.EINVALID, "no component %q (components: %s)", component, strings.Join(names, ", "))
	}
	status = strings.ToLower(strings.TrimSpace(status))
	if status != "" && !slices.Contains(componentStatuses, status) {
		return klaxon.Errorf(klaxon.EINVALID, "no component status %q (statuses: %s; or an empty one to clear)", status, strings.Join(componentStatuses, ", "))
	}
	cs := klaxon.ComponentStatus{Component: name, Status: status, SetBy: actor, SetAt: p.opts.Now().UTC()}
	err := p.opts.Store.Update(ctx, func(tx klaxon.Tx) error { return tx.SetComponentStatus(ctx, cs) })
	if err != nil {
		return err
	}
	p.log.Info("status page component set", "component", name, "status", status, "actor", actor)
	p.mu.Lock()
	p.cached = nil
	p.mu.Unlock()
	return nil
}

// view is everything the page shows, loaded at one instant.
type view struct {
	now     time.Time
	summary *Summary
	// history is the resolved public incidents of the last 90 days,
	// newest first.
	history []Incident
	levels  map[string]string // incident ID → level name
}

// cachedView returns a recent view, loading one if there is none.
func (p *Page) cachedView(ctx context.Context) (*view, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	if age := now.Sub(p.cachedAt); p.cached != nil && age >= 0 && age < cacheFor {
		return p.cached, nil
	}
	v, err := p.load(ctx, now)
	if err != nil {
		return nil, err
	}
	p.cached, p.cachedAt = v, now
	return v, nil
}

func (p *Page) load(ctx context.Context, now time.Time) (*view, error) {
	now = now.UTC()
	since := now.AddDate(0, 0, -historyDays)
	all, err := p.opts.Store.Incidents(ctx, klaxon.IncidentFilter{Since: since})
	if err != nil {
		return nil, err
	}
	manual, err := p.opts.Store.ComponentStatuses(ctx)
	if err != nil {
		return nil, err
	}
	var open, resolved []*klaxon.Incident
	for _, in := range all {
		switch {
		case !in.Public:
		case in.Open():
			open = append(open, in)
		case in.ResolvedAt.IsZero() || !in.ResolvedAt.Before(since):
			resolved = append(resolved, in)
		}
	}

	v := &view{now: now, levels: map[string]string{}}
	comps := p.components(now, open, resolved, manual)
	updated := time.Time{}
	for _, c := range comps {
		updated = later(updated, c.UpdatedAt)
	}
	toIncident := func(in *klaxon.Incident) (Incident, error) {
		tl, err := p.opts.Store.Timeline(ctx, in.ID)
		if err != nil {
			return Incident{}, err
		}
		out := p.incident(in, tl, comps)
		updated = later(updated, out.UpdatedAt)
		if int(in.Level) < len(p.opts.LevelNames) {
			v.levels[out.ID] = p.opts.LevelNames[in.Level]
		}
		return out, nil
	}
	s := &Summary{
		Components:            comps,
		Incidents:             []Incident{},
		ScheduledMaintenances: []Incident{},
	}
	for _, in := range open {
		out, err := toIncident(in)
		if err != nil {
			return nil, err
		}
		s.Incidents = append(s.Incidents, out)
	}
	for _, in := range resolved {
		out, err := toIncident(in)
		if err != nil {
			return nil, err
		}
		v.history = append(v.history, out)
	}
	for _, m := range p.opts.Maintenance {
		if now.Before(m.End) {
			out := p.maintenance(m, now, comps)
			s.ScheduledMaintenances = append(s.ScheduledMaintenances, out)
			if out.Status != "scheduled" { // the page changes when it starts, not before
				updated = later(updated, out.UpdatedAt)
			}
		}
	}
	slices.SortStableFunc(s.ScheduledMaintenances, func(a, b Incident) int { return a.ScheduledFor.Compare(*b.ScheduledFor) })
	if updated.IsZero() {
		updated = now
	}
	// Components nothing has happened to date from the page's last change;
	// incidents and maintenances hold copies of them.
	lists := [][]Component{s.Components}
	for _, in := range slices.Concat(s.Incidents, s.ScheduledMaintenances, v.history) {
		lists = append(lists, in.Components)
	}
	for _, list := range lists {
		for i := range list {
			if list[i].UpdatedAt.IsZero() {
				list[i].CreatedAt, list[i].UpdatedAt = updated, updated
			}
		}
	}
	s.Page = PageInfo{ID: pageID, Name: p.opts.Title, URL: p.opts.BaseURL + "/status", TimeZone: "Etc/UTC", UpdatedAt: updated}
	s.Status = overall(comps, s.Incidents)
	v.summary = s
	return v, nil
}

// components works out each configured component's status.
func (p *Page) components(now time.Time, open, resolved []*klaxon.Incident, manual []klaxon.ComponentStatus) []Component {
	out := make([]Component, 0, len(p.opts.Components))
	for i, c := range p.opts.Components {
		status, at := "operational", time.Time{}
		// Resolved incidents and ended maintenance only say since when it
		// has been operational.
		for _, in := range resolved {
			if affects(c, in) {
				at = later(at, in.ResolvedAt)
			}
		}
		for _, m := range p.opts.Maintenance {
			if slices.Contains(m.Components, c.Name) && !now.Before(m.End) {
				at = later(at, m.End)
			}
		}
		worst := -1
		for _, in := range open {
			if !affects(c, in) {
				continue
			}
			st := levelStatus(in.Level)
			if r := slices.Index(componentStatuses, st); r > worst {
				worst, status, at = r, st, in.DeclaredAt
			}
		}
		for _, m := range p.opts.Maintenance {
			if slices.Contains(m.Components, c.Name) && !now.Before(m.Start) && now.Before(m.End) {
				status, at = "under_maintenance", m.Start
			}
		}
		for _, cs := range manual {
			if cs.Component == c.Name && cs.Status != "" {
				status, at = cs.Status, cs.SetAt
			}
		}
		co := Component{
			ID:        componentID(c.Name),
			Name:      c.Name,
			Status:    status,
			CreatedAt: at.UTC(), // Klaxon does not record when a component was configured
			UpdatedAt: at.UTC(),
			Position:  i + 1,
			PageID:    pageID,
		}
		if c.Description != "" {
			co.Description = &c.Description
		}
		out = append(out, co)
	}
	return out
}

// affects reports whether an incident's service is one of the component's.
func affects(c config.Component, in *klaxon.Incident) bool {
	services := c.Services
	if len(services) == 0 {
		services = config.StringList{c.Name}
	}
	return slices.ContainsFunc(services, func(s string) bool { return strings.EqualFold(s, in.Service) })
}

func levelStatus(l klaxon.Level) string {
	switch l {
	case 0:
		return "major_outage"
	case 1:
		return "partial_outage"
	default:
		return "degraded_performance"
	}
}

func levelImpact(l klaxon.Level) string {
	switch l {
	case 0:
		return "critical"
	case 1:
		return "major"
	case 2:
		return "minor"
	default:
		return "none"
	}
}

// overall is the page's indicator: the worst of its components and open
// incidents, with Statuspage's words for it.
func overall(comps []Component, open []Incident) Status {
	indicators := []string{"none", "maintenance", "minor", "major", "critical"}
	worst := 0
	for _, c := range comps {
		worst = max(worst, slices.Index(componentStatuses, c.Status))
	}
	for _, in := range open {
		worst = max(worst, slices.Index(indicators, in.Impact))
	}
	descriptions := []string{"All Systems Operational", "Service Under Maintenance", "Minor Service Outage", "Partial System Outage", "Major Service Outage"}
	return Status{Indicator: indicators[worst], Description: descriptions[worst]}
}

func (p *Page) incident(in *klaxon.Incident, tl []klaxon.TimelineEntry, comps []Component) Incident {
	id := fmt.Sprintf("klaxon-%d", in.ID)
	out := Incident{
		ID:              id,
		Name:            in.Title,
		Status:          string(in.Status),
		CreatedAt:       in.DeclaredAt.UTC(),
		UpdatedAt:       later(in.DeclaredAt, in.ResolvedAt).UTC(),
		Impact:          levelImpact(in.Level),
		Shortlink:       p.opts.BaseURL + "/status#" + id,
		StartedAt:       in.DetectedAt.UTC(),
		PageID:          pageID,
		IncidentUpdates: []IncidentUpdate{},
		Components:      []Component{},
	}
	if out.StartedAt.IsZero() {
		out.StartedAt = out.CreatedAt
	}
	if !in.ResolvedAt.IsZero() {
		t := in.ResolvedAt.UTC()
		out.ResolvedAt = &t
	}
	prev := klaxon.IncidentStatus("")
	for _, e := range tl { // oldest first
		// monitoring_at is when it last went into monitoring.
		if e.Status == klaxon.IncidentMonitoring && prev != klaxon.IncidentMonitoring {
			t := e.At.UTC()
			out.MonitoringAt = &t
		}
		if e.Status != "" {
			prev = e.Status
		}
		if !e.Public {
			continue
		}
		st := e.Status
		if st == "" {
			st = in.Status
		}
		at := e.At.UTC()
		out.IncidentUpdates = append(out.IncidentUpdates, IncidentUpdate{
			ID:         fmt.Sprintf("%s-%d", id, e.ID),
			Status:     string(st),
			Body:       e.Text,
			IncidentID: id,
			CreatedAt:  at,
			UpdatedAt:  at,
			DisplayAt:  at,
		})
		out.UpdatedAt = later(out.UpdatedAt, at)
	}
	slices.Reverse(out.IncidentUpdates)
	for i, c := range p.opts.Components {
		if affects(c, in) {
			out.Components = append(out.Components, comps[i])
		}
	}
	return out
}

// maintenance shows scheduled work as Statuspage does, with one update
// for the phase it is in.
func (p *Page) maintenance(m config.Maintenance, now time.Time, comps []Component) Incident {
	start, end := m.Start.UTC(), m.End.UTC()
	sum := sha256.Sum256([]byte(m.Title + "\x00" + start.Format(time.RFC3339)))
	id := "maintenance-" + hex.EncodeToString(sum[:6])
	status, at, body := "scheduled", start, m.Text
	switch {
	case !now.Before(end):
		status, at = "completed", end
	case !now.Before(start):
		status = "in_progress"
	}
	if body == "" {
		body = m.Title
	}
	out := Incident{
		ID:        id,
		Name:      m.Title,
		Status:    status,
		CreatedAt: start, // Klaxon does not record when it was scheduled
		UpdatedAt: at,
		Impact:    "maintenance",
		Shortlink: p.opts.BaseURL + "/status#" + id,
		StartedAt: start,
		PageID:    pageID,
		IncidentUpdates: []IncidentUpdate{{
			ID: id + "-" + status, Status: status, Body: body, IncidentID: id,
			CreatedAt: at, UpdatedAt: at, DisplayAt: at,
		}},
		Components:     []Component{},
		ScheduledFor:   &start,
		ScheduledUntil: &end,
	}
	if status == "completed" {
		out.ResolvedAt = &end
	}
	for i, c := range p.opts.Components {
		if slices.Contains(m.Components, c.Name) {
			out.Components = append(out.Components, comps[i])
		}
	}
	return out
}

// componentID is a stable, Statuspage-like ID: names may hold anything.
func componentID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:6])
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Summary is Statuspage's /api/v2/summary.json.
type Summary struct {
	Page                  PageInfo    `json:"page"`
	Status                Status      `json:"status"`
	Components            []Component `json:"components"`
	Incidents             []Incident  `json:"incidents"`
	ScheduledMaintenances []Incident  `json:"scheduled_maintenances"`
}

// PageInfo is the summary's page object.
type PageInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	TimeZone  string    `json:"time_zone"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Status is the page's overall status.
type Status struct {
	Indicator   string `json:"indicator"` // none, minor, major, critical
	Description string `json:"description"`
}

// Component is one component and its status.
type Component struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Status             string    `json:"status"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Position           int       `json:"position"`
	Description        *string   `json:"description"`
	Showcase           bool      `json:"showcase"`
	StartDate          *string   `json:"start_date"`
	GroupID            *string   `json:"group_id"`
	PageID             string    `json:"page_id"`
	Group              bool      `json:"group"`
	OnlyShowIfDegraded bool      `json:"only_show_if_degraded"`
}

// Incident is an incident or a scheduled maintenance.
type Incident struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Status          string           `json:"status"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	MonitoringAt    *time.Time       `json:"monitoring_at"`
	ResolvedAt      *time.Time       `json:"resolved_at"`
	Impact          string           `json:"impact"` // none, minor, major, critical, maintenance
	Shortlink       string           `json:"shortlink"`
	StartedAt       time.Time        `json:"started_at"`
	PageID          string           `json:"page_id"`
	IncidentUpdates []IncidentUpdate `json:"incident_updates"`
	Components      []Component      `json:"components"`
	// Scheduled maintenances only.
	ScheduledFor   *time.Time `json:"scheduled_for,omitempty"`
	ScheduledUntil *time.Time `json:"scheduled_until,omitempty"`
}

// IncidentUpdate is one public update of an incident.
type IncidentUpdate struct {
	ID                   string              `json:"id"`
	Status               string              `json:"status"`
	Body                 string              `json:"body"`
	IncidentID           string              `json:"incident_id"`
	CreatedAt            time.Time           `json:"created_at"`
	UpdatedAt            time.Time           `json:"updated_at"`
	DisplayAt            time.Time           `json:"display_at"`
	AffectedComponents   []AffectedComponent `json:"affected_components"`
	DeliverNotifications bool                `json:"deliver_notifications"`
	CustomTweet          *string             `json:"custom_tweet"`
	TweetID              *string             `json:"tweet_id"`
}

// AffectedComponent is a component an update names, with its status then.
type AffectedComponent struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}
