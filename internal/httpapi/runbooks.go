package httpapi

import (
	"net/http"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// Runbook is a runbook as the API lists it.
type Runbook struct {
	Slug     string   `json:"slug"`
	Title    string   `json:"title"`
	File     string   `json:"file"`
	Alerts   []string `json:"alerts"`
	Matchers []string `json:"matchers,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	Severity string   `json:"severity,omitempty"`
	URL      string   `json:"url"`
	// Steps are the diagnose steps as written (placeholders unfilled).
	Steps []RunbookStep `json:"steps"`
}

// RunbookStep is a code block of a runbook's diagnose section.
type RunbookStep struct {
	Text string `json:"text"`
	Line int    `json:"line"` // in the runbook's file
	Run  bool   `json:"run"`  // run as diagnostics when enabled
}

// RunbookList is the answer to GET /api/v1/runbooks.
type RunbookList struct {
	Runbooks []Runbook `json:"runbooks"`
	// Problems are the files that could not be loaded, and why.
	Problems []string `json:"problems"`
}

// RunbookMatch is the runbook of one alert, its steps filled from the
// alert's labels.
type RunbookMatch struct {
	Slug  string   `json:"slug"`
	Title string   `json:"title"`
	URL   string   `json:"url"`
	Steps []string `json:"steps"`
}

func (s *Server) runbooks() *runbook.Set {
	if s.Runbooks == nil {
		return runbook.NewSet()
	}
	return s.Runbooks.Current()
}

func (s *Server) runbookView(rb *runbook.Runbook) Runbook {
	out := Runbook{
		Slug: rb.Slug, Title: rb.Title, File: rb.File, Alerts: rb.Alerts, Owner: rb.Owner, Severity: rb.Severity,
		URL: strings.TrimSuffix(s.BaseURL, "/") + "/runbooks/" + rb.Slug, Steps: []RunbookStep{},
	}
	for _, st := range rb.Steps {
		out.Steps = append(out.Steps, RunbookStep{Text: st.Text, Line: st.Line, Run: st.Run})
	}
	for _, m := range rb.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	return out
}

// runbookFor is the alert's runbook with every step filled, or nil.
func (s *Server) runbookFor(a *klaxon.Alert) *RunbookMatch {
	rb := s.runbooks().Match(a.Labels)
	if rb == nil {
		return nil
	}
	l := notify.LinkRunbook(rb, a, s.BaseURL, len(rb.Steps))
	steps := l.Steps
	if steps == nil {
		steps = []string{}
	}
	return &RunbookMatch{Slug: rb.Slug, Title: rb.Title, URL: l.URL, Steps: steps}
}

func (s *Server) listRunbooks(w http.ResponseWriter, r *http.Request) {
	set := s.runbooks()
	out := RunbookList{Runbooks: []Runbook{}, Problems: []string{}}
	for _, rb := range set.All() {
		out.Runbooks = append(out.Runbooks, s.runbookView(rb))
	}
	for _, p := range set.Problems() {
		out.Problems = append(out.Problems, p.String())
	}
	writeJSON(w, http.StatusOK, out)
}

// getRunbook finds a runbook by slug or by the alert name it covers.
func (s *Server) getRunbook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rb := s.runbooks().Find(name)
	if rb == nil {
		writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "no runbook is named %q or covers an alert of that name", name))
		return
	}
	writeJSON(w, http.StatusOK, s.runbookView(rb))
}

// DiagnoseResult is the answer to POST /api/v1/alerts/{id}/diagnose.
type DiagnoseResult struct {
	AlertID  int64 `json:"alert_id"`
	Commands int   `json:"commands"`
}

// diagnose queues the alert's diagnostics; 202, as they run later.
func (s *Server) diagnose(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if s.Diagnose == nil {
		writeError(w, klaxon.Errorf(klaxon.EINVALID, "diagnostics are off: set diagnostics.enabled in the config"))
		return
	}
	n, err := s.Diagnose.Request(r.Context(), id, actor(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, DiagnoseResult{AlertID: id, Commands: n})
}
