// Package insights turns stored alert history and pages into the numbers
// that tell a team which alerts waste its nights: MTTA and MTTR over time,
// alert volume, the noisiest rules, the ack rate and the on-call load per
// person.
package insights

import (
	"context"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Options configures a Service.
type Options struct {
	Store    klaxon.Store
	Severity klaxon.SeverityPolicy
	// Zone returns a person's time zone (users[].time_zone), for night
	// pages; nil or a nil answer: time.Local.
	Zone func(person string) *time.Location
	// Night is the local hours [start, end) a page counts as a night page
	// (default 22 to 7).
	NightStart, NightEnd int
	// FlapWindow: an alert that fires again within it after resolving is
	// a flap (default 1h).
	FlapWindow time.Duration
	Now        func() time.Time
}

// Query selects what a Report covers.
type Query struct {
	Since, Until time.Time // default: the last 30 days
	Service      string    // "": every service
	Levels       []klaxon.Level
	// Bucket is the width of each point of the series (default a day,
	// a week past 90 days).
	Bucket time.Duration
}

// Summary is the numbers for one slice of alerts.
type Summary struct {
	Alerts       int           `json:"alerts"`
	Acked        int           `json:"acked"`
	AckRate      float64       `json:"ack_rate"` // Acked / Alerts, 0..1
	AutoResolved int           `json:"auto_resolved_unacked"`
	Flaps        int           `json:"flaps"`
	MTTA         time.Duration `json:"mtta"` // mean, over acked alerts
	MTTR         time.Duration `json:"mttr"` // mean, over resolved alerts
}

// Point is one bucket of the series.
type Point struct {
	Start time.Time `json:"start"`
	Summary
	ByLevel []int `json:"by_level"` // alert count per level, index = Level
}

// Slice is a Summary for one service or level.
type Slice struct {
	Name string `json:"name"`
	Summary
}

// Rule is one alert name's noise.
type Rule struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	Summary
	// Noise orders the noisiest first: fires, plus auto-resolved
	// without ack and flaps counted again.
	Noise int `json:"noise"`
}

// Load is one person's pages.
type Load struct {
	Person     string `json:"person"`
	Pages      int    `json:"pages"`
	NightPages int    `json:"night_pages"`
}

// Report is what the Insights page and API show.
type Report struct {
	Since      time.Time     `json:"since"`
	Until      time.Time     `json:"until"`
	Bucket     time.Duration `json:"bucket"`
	LevelNames []string      `json:"level_names"`
	Total      Summary       `json:"total"`
	Series     []Point       `json:"series"`
	ByService  []Slice       `json:"by_service"`
	ByLevel    []Slice       `json:"by_level"`
	Noisiest   []Rule        `json:"noisiest"` // at most 20
	Load       []Load        `json:"load"`     // most pages first
	Services   []string      `json:"services"` // every service seen, for a filter
}

// Service computes reports.
type Service struct{ opts Options }

// New returns a Service.
func New(opts Options) *Service { return &Service{opts: opts} }

// Service names the service an alert belongs to: its service label, else
// job, else namespace, else "other".
func ServiceOf(labels map[string]string) string {
	for _, k := range []string{"service", "job", "namespace"} {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return "other"
}

// Report computes the numbers for q.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) { panic("unimplemented") }
