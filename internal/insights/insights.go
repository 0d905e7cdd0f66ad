// Package insights turns stored alert history and pages into the numbers
// that tell a team which alerts waste its nights: MTTA and MTTR over time,
// alert volume, the noisiest rules, the ack rate and the on-call load per
// person.
package insights

import (
	"context"
	"fmt"
	"strings"
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
	Resolved     int           `json:"resolved"`
	MTTA         time.Duration `json:"mtta"` // mean, over acked alerts; whole seconds
	MTTR         time.Duration `json:"mttr"` // mean, over resolved alerts; whole seconds
}

// Point is one bucket of the series.
type Point struct {
	Start time.Time `json:"start"`
	Summary
	ByLevel []int `json:"by_level"` // alert count per level, index = Level
	// Levels is the bucket's Summary per level, index = Level: MTTA and
	// MTTR over time per severity.
	Levels []Summary `json:"levels"`
}

// Slice is a Summary for one service or level.
type Slice struct {
	Name string `json:"name"`
	Summary
}

// Rule is one alert name's noise.
type Rule struct {
	Name string `json:"name"` // the alertname label; "" for alerts without one
	// Service is the service most of the rule's alerts belong to.
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

// Defaults and bounds of a Report.
const (
	day               = 24 * time.Hour
	week              = 7 * day
	defaultSpan       = 30 * day
	weeklyPast        = 90 * day // longer spans get a point per week
	defaultFlapWindow = time.Hour
	defaultNightStart = 22
	defaultNightEnd   = 7
	maxNoisiest       = 20
	maxSpan           = 366 * day
	// maxBuckets bounds the series, and with it what one query may cost.
	maxBuckets = 1000
)

// Service computes reports.
type Service struct{ opts Options }

// New returns a Service.
func New(opts Options) *Service {
	if opts.FlapWindow <= 0 {
		opts.FlapWindow = defaultFlapWindow
	}
	if opts.NightStart == 0 && opts.NightEnd == 0 {
		opts.NightStart, opts.NightEnd = defaultNightStart, defaultNightEnd
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}
}

// ServiceOf names the service an alert belongs to: its service label, else
// job, else namespace, else "other".
func ServiceOf(labels map[string]string) string {
	for _, k := range []string{"service", "job", "namespace"} {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return "other"
}

// LevelNames are the severities' names, most severe first.
func (s *Service) LevelNames() []string { return s.opts.Severity.Names }

// Level returns the level a severity name stands for ("P0", any case), as
// Report.LevelNames spells them.
func (s *Service) Level(name string) (klaxon.Level, error) {
	for i, n := range s.opts.Severity.Names {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return klaxon.Level(i), nil
		}
	}
	return 0, klaxon.Errorf(klaxon.EINVALID, "unknown severity %q: want one of %s", name, strings.Join(s.opts.Severity.Names, ", "))
}

// Report computes the numbers for q. Alert facts are streamed: only the
// resolve time of each occurrence is kept, to recognise flaps.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	q, err := s.complete(q)
	if err != nil {
		return nil, err
	}
	b := newBuilder(q, s.opts.FlapWindow)
	if err := s.opts.Store.AlertFacts(ctx, q.Since, q.Until, b.add); err != nil {
		return nil, fmt.Errorf("insights: read alerts: %w", err)
	}
	pages, err := s.opts.Store.PageRecords(ctx, q.Since, q.Until)
	if err != nil {
		return nil, fmt.Errorf("insights: read pages: %w", err)
	}
	r := b.report(s.opts.Severity)
	r.Load = s.load(pages)
	return r, nil
}

// complete fills q's defaults and checks its span.
func (s *Service) complete(q Query) (Query, error) {
	if q.Until.IsZero() {
		q.Until = s.opts.Now()
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-defaultSpan)
	}
	if !q.Since.Before(q.Until) {
		return q, klaxon.Errorf(klaxon.EINVALID, "since (%s) must be before until (%s)", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	if span := q.Until.Sub(q.Since); span > maxSpan {
		return q, klaxon.Errorf(klaxon.EINVALID, "since, until: at most 366 days apart (got %d days)", int(span/day))
	}
	if q.Bucket < 0 {
		return q, klaxon.Errorf(klaxon.EINVALID, "bucket: got %s, want a positive duration", q.Bucket)
	}
	if q.Bucket == 0 {
		q.Bucket = day
		if q.Until.Sub(q.Since) > weeklyPast {
			q.Bucket = week
		}
	}
	if n := bucketCount(q); n > maxBuckets {
		return q, klaxon.Errorf(klaxon.EINVALID, "%s buckets from %s to %s make %d points, more than %d: ask for wider buckets or a shorter span",
			q.Bucket, q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339), n, maxBuckets)
	}
	return q, nil
}

// firstBucket is where the series starts: Since rounded down to the
// bucket, which for a day (or a week) is midnight UTC (on a Monday).
func firstBucket(q Query) time.Time { return q.Since.UTC().Truncate(q.Bucket) }

// bucketCount is how many buckets cover [Since, Until).
func bucketCount(q Query) int64 {
	span := q.Until.Sub(firstBucket(q))
	n := int64(span / q.Bucket)
	if span%q.Bucket != 0 {
		n++
	}
	return n
}
