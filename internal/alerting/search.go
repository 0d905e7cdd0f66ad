package alerting

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon"
)

// Search bounds, per call.
const (
	// DefaultSearchLimit is a page's size when Query.Limit is 0.
	DefaultSearchLimit = 100
	// MaxSearchLimit is the largest page a search returns.
	MaxSearchLimit = 1000
	// maxSearchScan bounds the alerts one search reads to apply the
	// matchers the store cannot (!=, =~, !~): a rare regular expression
	// over a million alerts is answered a few thousand rows at a time,
	// each call carrying on where the last one stopped.
	maxSearchScan = 5000
	// searchBatch is how many alerts a search reads from the store at a
	// time while it filters.
	searchBatch = 500
)

// searchWindow bounds the IDs one call looks through when free text or
// a label equality is asked for: a rare term would otherwise be a scan of
// the whole table in SQL (seconds with a million alerts). A page that ends
// at the window says Truncated, and Next carries on below it. A variable
// only so that tests can shrink it.
var searchWindow int64 = 50_000

// Query is what the alert list asks for: the store's filters plus label
// matchers in the Prometheus syntax.
type Query struct {
	States []klaxon.State // empty: every state
	Levels []klaxon.Level // empty: every level
	// Matchers are Prometheus label matchers, as labels.ParseMatchers
	// reads {namespace="prod",alertname=~"Kube.*",pod!=""}; every one must
	// match. A missing label matches as the empty string.
	Matchers []*labels.Matcher
	// Search keeps alerts whose summary or any label value contains it,
	// case-insensitively.
	Search string
	Since  time.Time // first seen at or after; zero: no bound
	Until  time.Time // first seen before; zero: no bound
	Before int64     // only alerts with a lower ID: the previous Page's Next
	Limit  int       // 0: DefaultSearchLimit; at most MaxSearchLimit
}

// Page is one page of a search, newest first.
type Page struct {
	Alerts []*klaxon.Alert
	// Next is the Before of the next page's Query, 0 when there is none.
	Next int64
	// Truncated says the search stopped after reading its bound of alerts
	// before it filled the page; Next carries on from where it stopped.
	Truncated bool
}

// Search lists the alerts a query selects, newest first. Equality
// matchers and the other filters go to the store, which answers them from
// its indexes or in SQL; the other matchers are applied here to further
// store pages, reading at most maxSearchScan alerts per call. (Free text is
// the store's too: a rare term is a scan of the table in SQL, see
// docs/benchmarks.md.)
func (s *Service) Search(ctx context.Context, q Query) (Page, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultSearchLimit
	case limit > MaxSearchLimit:
		limit = MaxSearchLimit
	}
	f := klaxon.AlertFilter{
		States: q.States,
		Levels: q.Levels,
		Search: q.Search,
		Since:  q.Since,
		Until:  q.Until,
		Before: q.Before,
	}
	var rest []*labels.Matcher // what the store cannot filter
	for _, m := range q.Matchers {
		if _, dup := f.Labels[m.Name]; m.Type != labels.MatchEqual || dup {
			rest = append(rest, m)
			continue
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[m.Name] = m.Value
	}

	if f.Search != "" || len(f.Labels) > 0 {
		if err := s.window(ctx, &f); err != nil {
			return Page{}, err
		}
	}
	var (
		page Page
		err  error
	)
	if len(rest) == 0 {
		f.Limit = limit
		page.Alerts, err = s.store.Alerts(ctx, f)
		if err != nil {
			return Page{}, fmt.Errorf("search alerts: %w", err)
		}
		if len(page.Alerts) == limit {
			page.Next = page.Alerts[limit-1].ID
		}
	} else if page, err = s.scan(ctx, f, rest, limit); err != nil {
		return Page{}, err
	}
	if page.Next == 0 && f.After > 0 {
		// The window is done but older alerts remain.
		page.Next, page.Truncated = f.After+1, true
	}
	return page, nil
}

// window bounds f to the searchWindow IDs below f.Before (or below the
// newest alert).
func (s *Service) window(ctx context.Context, f *klaxon.AlertFilter) error {
	top := f.Before
	if top == 0 {
		newest, err := s.store.Alerts(ctx, klaxon.AlertFilter{Limit: 1})
		if err != nil {
			return fmt.Errorf("search alerts: %w", err)
		}
		if len(newest) == 0 {
			return nil
		}
		top = newest[0].ID + 1
	}
	f.After = max(0, top-1-searchWindow)
	return nil
}

// scan reads store pages of f and keeps the alerts every matcher in rest
// matches, until it has limit of them, the store has no more, or it has
// read maxSearchScan alerts.
func (s *Service) scan(ctx context.Context, f klaxon.AlertFilter, rest []*labels.Matcher, limit int) (Page, error) {
	var (
		page    Page
		scanned int
	)
	for {
		f.Limit = min(max(limit, searchBatch), maxSearchScan-scanned)
		batch, err := s.store.Alerts(ctx, f)
		if err != nil {
			return Page{}, fmt.Errorf("search alerts: %w", err)
		}
		for _, a := range batch {
			scanned++
			if !matchesAll(rest, a.Labels) {
				continue
			}
			page.Alerts = append(page.Alerts, a)
			if len(page.Alerts) == limit {
				page.Next = a.ID
				return page, nil
			}
		}
		if len(batch) < f.Limit {
			return page, nil // the store has no more
		}
		f.Before = batch[len(batch)-1].ID
		if scanned >= maxSearchScan {
			page.Next, page.Truncated = f.Before, true
			return page, nil
		}
	}
}

func matchesAll(ms []*labels.Matcher, lset map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(lset[m.Name]) {
			return false
		}
	}
	return true
}
