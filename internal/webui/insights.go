package webui

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/insights"
)

func (u *UI) insightsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /insights", u.need(klaxon.RoleViewer, u.insights))
}

// insightRange is a span the Insights page offers.
type insightRange struct {
	Value string
	Label string
	Span  time.Duration
}

var insightRanges = []insightRange{
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
	{"90d", "Last 90 days", 90 * 24 * time.Hour},
}

const defaultInsightRange = "30d"

// insightsFilter is the page's filter form, as submitted.
type insightsFilter struct {
	Range    string
	Service  string
	Severity string
}

// insightsData is the Insights page's content.
type insightsData struct {
	Filter   insightsFilter
	Ranges   []insightRange
	Services []string // the service filter's choices
	Levels   []string // the severity filter's choices
	// Unset: no Insights service; Invalid: the filter was refused. Either
	// way there are no numbers to show.
	Unset, Invalid bool

	Report    *insights.Report
	Per       string // "day" or "week": what a point of the chartSeries covers
	Total     summaryView
	ByLevel   []namedSummaryView
	ByService []namedSummaryView
	Rules     []ruleRow
	Charts    insightCharts
}

type insightCharts struct {
	MTTA, MTTR, Volume, Noisiest, Load template.HTML
}

// summaryView shows an insights.Summary the way people read it.
type summaryView struct{ insights.Summary }

// Rate is the ack rate as a percentage, "—" with no alerts.
func (s summaryView) Rate() string {
	if s.Alerts == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", s.AckRate*100)
}

// TTA is the mean time to acknowledge, "—" with nothing acked.
func (s summaryView) TTA() string {
	if s.Acked == 0 {
		return "—"
	}
	return shortDuration(s.MTTA)
}

// TTR is the mean time to resolve, "—" with nothing resolved.
func (s summaryView) TTR() string {
	if s.Resolved == 0 {
		return "—"
	}
	return shortDuration(s.MTTR)
}

type namedSummaryView struct {
	Name string
	summaryView
}

// ruleRow is a row of the noisiest rules, with a link to its alerts.
type ruleRow struct {
	summaryView
	Shown   string // the alertname, or a placeholder for alerts without one
	Service string
	Noise   int
	Link    string
}

// noAlertname stands for a rule whose alerts carry no alertname.
const noAlertname = "(no alertname)"

func (u *UI) insights(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	d := &insightsData{Ranges: insightRanges}
	v := view{Title: "Insights", Nav: "insights", User: p, Data: d}
	if u.Insights == nil {
		d.Unset = true
		u.render(w, r, http.StatusOK, "insights.html", v)
		return
	}
	d.Levels = u.Insights.LevelNames()
	f, q, err := u.parseInsightsFilter(r.URL.Query())
	d.Filter, d.Services = f, withChoice(nil, f.Service)
	if err != nil {
		d.Invalid, v.Error = true, klaxon.ErrorMessage(err)
		u.render(w, r, http.StatusBadRequest, "insights.html", v)
		return
	}
	rep, err := u.Insights.Report(r.Context(), q)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	d.fill(rep)
	u.render(w, r, http.StatusOK, "insights.html", v)
}

// parseInsightsFilter reads the filter form into a query over the range
// up to now; a value it cannot use is an EINVALID error naming the field.
func (u *UI) parseInsightsFilter(v url.Values) (insightsFilter, insights.Query, error) {
	f := insightsFilter{Range: v.Get("range"), Service: strings.TrimSpace(v.Get("service")), Severity: strings.TrimSpace(v.Get("severity"))}
	if f.Range == "" {
		f.Range = defaultInsightRange
	}
	i := slices.IndexFunc(insightRanges, func(r insightRange) bool { return r.Value == f.Range })
	if i < 0 {
		return f, insights.Query{}, klaxon.Errorf(klaxon.EINVALID, "Range: %q is not one of 7d, 30d, 90d.", f.Range)
	}
	now := u.Now()
	q := insights.Query{Since: now.Add(-insightRanges[i].Span), Until: now, Service: f.Service}
	if f.Severity != "" {
		l, err := u.Insights.Level(f.Severity)
		if err != nil {
			return f, q, klaxon.Errorf(klaxon.EINVALID, "Severity: %q is not one of %s.", f.Severity, strings.Join(u.Insights.LevelNames(), ", "))
		}
		f.Severity = u.Insights.LevelNames()[l]
		q.Levels = []klaxon.Level{l}
	}
	return f, q, nil
}

// withChoice is choices with chosen among them, so a select keeps showing
// a service that has no alerts in the range.
func withChoice(choices []string, chosen string) []string {
	if chosen == "" || slices.Contains(choices, chosen) {
		return choices
	}
	return append(slices.Clone(choices), chosen)
}

// fill lays out rep: its tables and charts.
func (d *insightsData) fill(rep *insights.Report) {
	d.Report = rep
	d.Services = withChoice(rep.Services, d.Filter.Service)
	d.Per = "day"
	if rep.Bucket >= 7*24*time.Hour {
		d.Per = "week"
	}
	d.Total = summaryView{rep.Total}
	for _, s := range rep.ByLevel {
		d.ByLevel = append(d.ByLevel, namedSummaryView{s.Name, summaryView{s.Summary}})
	}
	for _, s := range rep.ByService {
		d.ByService = append(d.ByService, namedSummaryView{s.Name, summaryView{s.Summary}})
	}
	for _, rule := range rep.Noisiest {
		d.Rules = append(d.Rules, ruleRow{summaryView: summaryView{rule.Summary}, Shown: cmp.Or(rule.Name, noAlertname),
			Service: rule.Service, Noise: rule.Noise, Link: alertsMatching(rule.Name)})
	}
	days := make([]string, len(rep.Series))
	for i, p := range rep.Series {
		days[i] = p.Start.UTC().Format("Jan 2")
	}
	d.Charts = insightCharts{
		MTTA:     d.durationChart("mtta", "Mean time to acknowledge, per "+d.Per, days, func(s insights.Summary) (time.Duration, bool) { return s.MTTA, s.Acked > 0 }),
		MTTR:     d.durationChart("mttr", "Mean time to resolve, per "+d.Per, days, func(s insights.Summary) (time.Duration, bool) { return s.MTTR, s.Resolved > 0 }),
		Volume:   d.volumeChart(days),
		Noisiest: d.noisiestChart(),
		Load:     loadChart(rep.Load),
	}
}

// alertsMatching is the alert list of one alertname.
func alertsMatching(alertname string) string {
	return "/alerts?" + url.Values{"match": {"{alertname=" + strconv.Quote(alertname) + "}"}}.Encode()
}

// levelClass is the chart class of a severity: s0 to s3, the last for
// every level below.
func levelClass(level int) string { return "s" + strconv.Itoa(min(level, 3)) }

// levels are the severities the report covers: the one filtered on, or
// every level.
func (d *insightsData) levels() []int {
	var out []int
	for l, name := range d.Report.LevelNames {
		if d.Filter.Severity == "" || d.Filter.Severity == name {
			out = append(out, l)
		}
	}
	return out
}

// durationChart draws MTTA or MTTR over time, a line per severity: of
// says what a bucket's value is, and whether it has one.
func (d *insightsData) durationChart(id, title string, days []string, of func(insights.Summary) (time.Duration, bool)) template.HTML {
	c := chart{ID: id, Title: title, Categories: days}
	most := 0.0
	for _, l := range d.levels() {
		s := chartSeries{Name: d.Report.LevelNames[l], Class: levelClass(l), Values: make([]float64, len(days))}
		seen := false
		for i, p := range d.Report.Series {
			s.Values[i] = math.NaN()
			if v, ok := of(p.Levels[l]); ok {
				s.Values[i], seen = v.Seconds(), true
				most = max(most, v.Seconds())
			}
		}
		if seen { // a severity with no value would only crowd the legend
			c.Series = append(c.Series, s)
		}
	}
	c.Unit = durationUnit(most)
	return c.lineChart()
}

// volumeChart stacks each bucket's alerts by severity.
func (d *insightsData) volumeChart(days []string) template.HTML {
	c := chart{ID: "volume", Title: "Alerts per " + d.Per + " by severity", Categories: days, Unit: countUnit}
	for _, l := range d.levels() {
		s := chartSeries{Name: d.Report.LevelNames[l], Class: levelClass(l), Values: make([]float64, len(days))}
		total := 0
		for i, p := range d.Report.Series {
			s.Values[i] = float64(p.ByLevel[l])
			total += p.ByLevel[l]
		}
		if total > 0 {
			c.Series = append(c.Series, s)
		}
	}
	return c.stackedBars()
}

// chartedRules is how many of the noisiest rules the chart shows; the
// table lists them all.
const chartedRules = 10

// noisiestChart shows each noisy rule's noise as what makes it up.
func (d *insightsData) noisiestChart() template.HTML {
	c := chart{ID: "noisiest", Title: "The noisiest rules: what fired, auto-resolved unacked, flapped", Unit: countUnit, Series: []chartSeries{
		{Name: "Fired", Class: "fires"},
		{Name: "Auto-resolved unacked", Class: "auto"},
		{Name: "Flapped", Class: "flaps"},
	}}
	for _, r := range d.Rules[:min(len(d.Rules), chartedRules)] {
		c.Categories = append(c.Categories, r.Shown)
		c.Series[0].Values = append(c.Series[0].Values, float64(r.Alerts))
		c.Series[1].Values = append(c.Series[1].Values, float64(r.AutoResolved))
		c.Series[2].Values = append(c.Series[2].Values, float64(r.Flaps))
	}
	return c.horizontalBars()
}

// loadChart shows each person's pages, the night ones apart.
func loadChart(load []insights.Load) template.HTML {
	c := chart{ID: "load", Title: "Pages per person", Unit: countUnit, Series: []chartSeries{
		{Name: "Day", Class: "daytime"},
		{Name: "Night", Class: "night"},
	}}
	for _, l := range load {
		c.Categories = append(c.Categories, l.Person)
		c.Series[0].Values = append(c.Series[0].Values, float64(l.Pages-l.NightPages))
		c.Series[1].Values = append(c.Series[1].Values, float64(l.NightPages))
	}
	return c.horizontalBars()
}
