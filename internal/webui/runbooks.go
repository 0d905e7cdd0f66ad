package webui

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

const (
	// coverageSpan is how far back the coverage report looks at alerts;
	// it reads them coveragePage at a time, at most coverageMax.
	coverageSpan = 30 * 24 * time.Hour
	coveragePage = 500
	coverageMax  = 10_000
)

func (u *UI) runbookRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /runbooks", u.need(klaxon.RoleViewer, u.runbookList))
	mux.HandleFunc("GET /runbooks/{$}", u.need(klaxon.RoleViewer, u.runbookList))
	mux.HandleFunc("GET /runbooks/coverage", u.need(klaxon.RoleViewer, u.runbookCoverage))
	mux.HandleFunc("GET /runbooks/{slug}", u.need(klaxon.RoleViewer, u.runbookPage))
}

// runbookSet is the runbooks in use; an empty set without a catalog.
func (u *UI) runbookSet() *runbook.Set {
	if u.Runbooks == nil {
		return runbook.NewSet()
	}
	return u.Runbooks.Current()
}

// runbookListData is the runbooks page.
type runbookListData struct {
	Runbooks []*runbook.Runbook
	Problems []runbook.Problem
}

func (u *UI) runbookList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	set := u.runbookSet()
	data := &runbookListData{Runbooks: set.All(), Problems: set.Problems()}
	u.render(w, r, http.StatusOK, "runbooks.html", view{Title: "Runbooks", Nav: "runbooks", User: p, Data: data})
}

// runbookData is a runbook's page; Filled is there for ?alert=N.
type runbookData struct {
	Runbook *runbook.Runbook
	Filled  *filledSteps
}

// filledSteps is an alert's view of a runbook: its diagnose steps with
// the alert's labels in place.
type filledSteps struct {
	Alert *klaxon.Alert
	What  string
	Steps []string
}

func (u *UI) runbookPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	slug := r.PathValue("slug")
	rb := u.runbookSet().Get(slug)
	if rb == nil {
		u.render(w, r, http.StatusNotFound, "notfound.html", view{Title: "No such runbook", Nav: "runbooks", User: p, Data: slug})
		return
	}
	data := &runbookData{Runbook: rb}
	if v := r.URL.Query().Get("alert"); v != "" && u.Alerts != nil {
		// A link from an alert's message: an unknown alert shows the
		// plain runbook, as a link must not break when alerts are pruned.
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			a, _, err := u.Alerts.Alert(r.Context(), id)
			switch klaxon.ErrorCode(err) {
			case "":
				l := notify.LinkRunbook(rb, a, "", len(rb.Steps))
				what := a.Name()
				if where := a.Where(); where != "" {
					what += " " + where
				}
				data.Filled = &filledSteps{Alert: a, What: what, Steps: l.Steps}
			case klaxon.ENOTFOUND:
			default:
				u.Logger.Error("runbook page: read alert", "alert", id, "err", err)
			}
		}
	}
	u.render(w, r, http.StatusOK, "runbook.html", view{Title: rb.Title, Nav: "runbooks", User: p, Data: data})
}

// coverageRow is one alert name seen lately and the runbooks its alerts
// got.
type coverageRow struct {
	Alert    string // the alertname label; "" for alerts without one
	Seen     int    // alerts of that name
	Covered  int    // of them, with a runbook
	Runbooks []*runbook.Runbook
	Latest   time.Time // when the newest of them began
}

// AlertsURL lists the row's alerts on the alerts page.
func (c coverageRow) AlertsURL() string {
	q := url.Values{"match": {"alertname=" + strconv.Quote(c.Alert)}, "since": {"30d"}}
	return "/alerts?" + q.Encode()
}

// coverageData is the coverage report: which alert names of the last
// coverageSpan had a runbook.
type coverageData struct {
	Since     time.Time
	Examined  int  // alerts read
	Capped    bool // more alerts than coverageMax: only the newest were read
	Uncovered []coverageRow
	Partly    []coverageRow // some alerts of the name matched a runbook, some not
	Covered   []coverageRow
	Unused    []*runbook.Runbook // runbooks no alert seen matched
	Runbooks  int
}

// Names counts the alert names seen.
func (d *coverageData) Names() int { return len(d.Uncovered) + len(d.Partly) + len(d.Covered) }

// Percent is the share of alert names with a runbook for every alert.
func (d *coverageData) Percent() int {
	if d.Names() == 0 {
		return 100
	}
	return len(d.Covered) * 100 / d.Names()
}

func (u *UI) runbookCoverage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	set := u.runbookSet()
	data := &coverageData{Since: u.Now().Add(-coverageSpan), Runbooks: len(set.All())}
	if u.Alerts != nil {
		if err := u.coverage(r, set, data); err != nil {
			u.fail(w, r, p, err)
			return
		}
	}
	u.render(w, r, http.StatusOK, "coverage.html", view{Title: "Runbook coverage", Nav: "runbooks", User: p, Data: data})
}

// coverage reads the alerts since data.Since, newest first, and sorts
// their names by whether a runbook matched them.
func (u *UI) coverage(r *http.Request, set *runbook.Set, data *coverageData) error {
	byName := map[string]*coverageRow{}
	used := map[*runbook.Runbook]bool{}
	f := klaxon.AlertFilter{Since: data.Since, Limit: coveragePage}
	for {
		page, err := u.Alerts.Alerts(r.Context(), f)
		if err != nil {
			return err
		}
		for _, a := range page {
			row := byName[a.Name()]
			if row == nil {
				row = &coverageRow{Alert: a.Name(), Latest: a.FirstSeen}
				byName[a.Name()] = row
			}
			row.Seen++
			if rb := set.Match(a.Labels); rb != nil {
				row.Covered++
				if !slices.Contains(row.Runbooks, rb) {
					row.Runbooks = append(row.Runbooks, rb)
				}
				used[rb] = true
			}
		}
		data.Examined += len(page)
		if len(page) < f.Limit {
			break
		}
		if data.Examined >= coverageMax {
			data.Capped = true
			break
		}
		f.Before = page[len(page)-1].ID
	}
	for _, row := range byName {
		slices.SortFunc(row.Runbooks, func(a, b *runbook.Runbook) int { return cmp.Compare(a.Slug, b.Slug) })
		switch row.Covered {
		case 0:
			data.Uncovered = append(data.Uncovered, *row)
		case row.Seen:
			data.Covered = append(data.Covered, *row)
		default:
			data.Partly = append(data.Partly, *row)
		}
	}
	// The noisiest names first: a runbook for them helps most.
	for _, rows := range [][]coverageRow{data.Uncovered, data.Partly, data.Covered} {
		slices.SortFunc(rows, func(a, b coverageRow) int { return cmp.Or(cmp.Compare(b.Seen, a.Seen), cmp.Compare(a.Alert, b.Alert)) })
	}
	for _, rb := range set.All() {
		if !used[rb] {
			data.Unused = append(data.Unused, rb)
		}
	}
	return nil
}
