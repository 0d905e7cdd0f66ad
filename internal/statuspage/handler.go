package statuspage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Handler serves, without authentication: GET /status (HTML),
// /status/api/v2/summary.json, /status/api/v2/status.json,
// /status/api/v2/incidents.json, /status/history.atom
func (p *Page) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", p.serveHTML)
	mux.HandleFunc("GET /status/{$}", p.serveHTML)
	mux.HandleFunc("GET /status/api/v2/summary.json", p.serveJSON(func(v *view) any { return v.summary }))
	mux.HandleFunc("GET /status/api/v2/status.json", p.serveJSON(func(v *view) any {
		return struct {
			Page   PageInfo `json:"page"`
			Status Status   `json:"status"`
		}{v.summary.Page, v.summary.Status}
	}))
	mux.HandleFunc("GET /status/api/v2/incidents.json", p.serveJSON(func(v *view) any {
		// Statuspage lists the 50 most recent, open or not.
		all := append(slices.Clone(v.summary.Incidents), v.history...)
		return struct {
			Page      PageInfo   `json:"page"`
			Incidents []Incident `json:"incidents"`
		}{v.summary.Page, all[:min(len(all), 50)]}
	}))
	mux.HandleFunc("GET /status/history.atom", p.serveAtom)
	return mux
}

// view loads the page's content, answering 500 if it cannot.
func (p *Page) view(w http.ResponseWriter, r *http.Request) *view {
	v, err := p.cachedView(r.Context())
	if err != nil {
		p.log.Error("status page", "err", err)
		http.Error(w, "The status page is unavailable; try again shortly.", http.StatusInternalServerError)
		return nil
	}
	return v
}

func setCommon(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "public, max-age=15")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (p *Page) serveJSON(body func(*view) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := p.view(w, r)
		if v == nil {
			return
		}
		b, err := json.Marshal(body(v))
		if err != nil {
			p.log.Error("status page json", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		setCommon(w, "application/json")
		// Widgets on other sites read these, as they read Statuspage's.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(b)
	}
}

// Atom (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     atomText `xml:"title"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

// atom is the feed of the public updates of the last 90 days, newest first.
func (p *Page) atom(v *view) atomFeed {
	base := p.opts.BaseURL
	feed := atomFeed{
		ID:    base + "/status/history.atom",
		Title: p.opts.Title,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: base + "/status/history.atom"},
			{Rel: "alternate", Type: "text/html", Href: base + "/status"},
		},
		Author: atomPerson{Name: p.opts.Title},
	}
	if base == "" {
		// An Atom ID must be an absolute IRI.
		feed.ID = "urn:klaxon:status"
	}
	since := v.now.AddDate(0, 0, -historyDays)
	type update struct {
		in *Incident
		u  IncidentUpdate
	}
	var updates []update
	for _, list := range [][]Incident{v.summary.Incidents, v.history} {
		for i := range list {
			for _, u := range list[i].IncidentUpdates {
				if !u.CreatedAt.Before(since) {
					updates = append(updates, update{&list[i], u})
				}
			}
		}
	}
	slices.SortStableFunc(updates, func(a, b update) int { return b.u.CreatedAt.Compare(a.u.CreatedAt) })
	updated := v.summary.Page.UpdatedAt
	if len(updates) > 0 {
		updated = updates[0].u.CreatedAt
	}
	feed.Updated = updated.UTC().Format(time.RFC3339)
	for _, x := range updates {
		id := base + "/status#" + x.u.ID
		if base == "" {
			id = "urn:klaxon:status:" + x.u.ID
		}
		at := x.u.CreatedAt.UTC().Format(time.RFC3339)
		feed.Entries = append(feed.Entries, atomEntry{
			ID:        id,
			Title:     atomText{Type: "text", Text: x.in.Name + ": " + statusLabel(x.u.Status)},
			Updated:   at,
			Published: at,
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: x.in.Shortlink},
			Content:   atomText{Type: "text", Text: x.u.Body},
		})
	}
	return feed
}

func (p *Page) serveAtom(w http.ResponseWriter, r *http.Request) {
	v := p.view(w, r)
	if v == nil {
		return
	}
	b, err := xml.MarshalIndent(p.atom(v), "", "  ")
	if err != nil {
		p.log.Error("status page atom", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setCommon(w, "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	w.Write(b)
}

var statusLabels = map[string]string{
	"operational":          "Operational",
	"degraded_performance": "Degraded Performance",
	"partial_outage":       "Partial Outage",
	"major_outage":         "Major Outage",
	"under_maintenance":    "Under Maintenance",
	"investigating":        "Investigating",
	"identified":           "Identified",
	"monitoring":           "Monitoring",
	"resolved":             "Resolved",
	"scheduled":            "Scheduled",
	"in_progress":          "In Progress",
	"completed":            "Completed",
}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

type htmlIncident struct {
	Incident
	Level string // "SEV1", or "" if the level has no name
}

type htmlDay struct {
	Date      time.Time
	Incidents []htmlIncident
}

type htmlData struct {
	Title       string
	Summary     *Summary
	Open        []htmlIncident
	Maintenance []Incident
	History     []htmlDay // days with resolved incidents, newest first
	HistoryDays int
}

func (p *Page) serveHTML(w http.ResponseWriter, r *http.Request) {
	v := p.view(w, r)
	if v == nil {
		return
	}
	d := htmlData{Title: p.opts.Title, Summary: v.summary, Maintenance: v.summary.ScheduledMaintenances, HistoryDays: historyDays}
	for _, in := range v.summary.Incidents {
		d.Open = append(d.Open, htmlIncident{in, v.levels[in.ID]})
	}
	for _, in := range v.history { // newest first
		day := in.CreatedAt.UTC().Truncate(24 * time.Hour)
		if n := len(d.History); n == 0 || !d.History[n-1].Date.Equal(day) {
			d.History = append(d.History, htmlDay{Date: day})
		}
		last := &d.History[len(d.History)-1]
		last.Incidents = append(last.Incidents, htmlIncident{in, v.levels[in.ID]})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		p.log.Error("status page html", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setCommon(w, "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}

// The page's only style sheet; its hash is the CSP's only allowance, so
// no injected markup can style, script or load anything.
const css = `
:root{color-scheme:light dark;--bg:#f7f7f8;--fg:#1d1d1f;--muted:#5f6368;--card:#fff;--line:#dcdde0;
--ok:#1a7f37;--maint:#1f6feb;--minor:#9a6700;--major:#c2410c;--critical:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#111214;--fg:#e8e8ea;--muted:#a0a4ab;--card:#1b1c1f;--line:#33353a;
--ok:#3fb950;--maint:#58a6ff;--minor:#d29922;--major:#f0883e;--critical:#f85149}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:50rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:2rem 0 .75rem}
h3{font-size:1.05rem;margin:0 0 .5rem;overflow-wrap:anywhere}
section,.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem}
.card{padding:1rem;margin:0 0 1rem}
.banner{padding:1rem;border-radius:.5rem;color:#fff;font-weight:600;font-size:1.15rem;background:var(--ok)}
.banner.maintenance{background:var(--maint)}.banner.minor{background:var(--minor)}
.banner.major{background:var(--major)}.banner.critical{background:var(--critical)}
ul{list-style:none;margin:0;padding:0}
.components li{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;padding:.75rem 1rem;border-top:1px solid var(--line)}
.components li:first-child{border-top:0}
.desc{flex-basis:100%;color:var(--muted);font-size:.9rem}
.operational{color:var(--ok)}.under_maintenance{color:var(--maint)}.degraded_performance{color:var(--minor)}
.partial_outage{color:var(--major)}.major_outage{color:var(--critical)}
.impact-critical{border-left:4px solid var(--critical)}.impact-major{border-left:4px solid var(--major)}
.impact-minor{border-left:4px solid var(--minor)}.impact-maintenance{border-left:4px solid var(--maint)}
.updates li{padding:.5rem 0;border-top:1px solid var(--line)}
.body{white-space:pre-wrap;overflow-wrap:anywhere}
.meta,time{color:var(--muted);font-size:.9rem}
.tag{font-size:.8rem;border:1px solid var(--line);border-radius:.25rem;padding:0 .3rem;margin-left:.25rem;vertical-align:middle}
.day{margin:1rem 0 .5rem;font-weight:600}
.empty{color:var(--muted)}
footer{margin:2rem 0 1rem;color:var(--muted);font-size:.9rem}
a{color:inherit}
`

var csp = func() string {
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"label": statusLabel,
	"when":  func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
	"day":   func(t time.Time) string { return t.UTC().Format("Monday, January 2, 2006") },
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"css":   func() template.CSS { return template.CSS(css) },
}).Parse(strings.TrimSpace(`
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Title}} history" href="/status/history.atom">
<style>{{css}}</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="banner {{.Summary.Status.Indicator}}">{{.Summary.Status.Description}}</p>

{{range .Maintenance}}
<article class="card impact-maintenance" id="{{.ID}}">
<h3>{{.Name}} <span class="tag">{{label .Status}}</span></h3>
<p class="meta">From <time datetime="{{iso .ScheduledFor}}">{{when .ScheduledFor}}</time> to <time datetime="{{iso .ScheduledUntil}}">{{when .ScheduledUntil}}</time>{{with .Components}} · {{range $i, $c := .}}{{if $i}}, {{end}}{{$c.Name}}{{end}}{{end}}</p>
{{range .IncidentUpdates}}<p class="body">{{.Body}}</p>{{end}}
</article>
{{end}}

{{if .Open}}<h2>Current incidents</h2>{{end}}
{{range .Open}}{{template "incident" .}}{{end}}

{{with .Summary.Components}}
<h2>Components</h2>
<section>
<ul class="components">
{{range .}}<li><span>{{.Name}}</span> <strong class="{{.Status}}">{{label .Status}}</strong>{{with .Description}}<span class="desc">{{.}}</span>{{end}}</li>
{{end}}</ul>
</section>
{{end}}

<h2>Past incidents</h2>
{{range .History}}
<p class="day">{{day .Date}}</p>
{{range .Incidents}}{{template "incident" .}}{{end}}
{{else}}
<p class="empty">No incidents in the last {{.HistoryDays}} days.</p>
{{end}}

<footer>Updated <time datetime="{{iso .Summary.Page.UpdatedAt}}">{{when .Summary.Page.UpdatedAt}}</time> · <a href="/status/history.atom">Atom feed</a> · <a href="/status/api/v2/summary.json">JSON</a></footer>
</main>
</body>
</html>
{{define "incident"}}
<article class="card impact-{{.Impact}}" id="{{.ID}}">
<h3>{{.Name}} <span class="tag">{{label .Status}}</span>{{with .Level}} <span class="tag">{{.}}</span>{{end}}</h3>
{{with .Components}}<p class="meta">Affects {{range $i, $c := .}}{{if $i}}, {{end}}{{$c.Name}}{{end}}</p>{{end}}
<ul class="updates">
{{range .IncidentUpdates}}<li><strong>{{label .Status}}</strong> · <time datetime="{{iso .DisplayAt}}">{{when .DisplayAt}}</time><div class="body">{{.Body}}</div></li>
{{else}}<li class="meta">Declared <time datetime="{{iso .CreatedAt}}">{{when .CreatedAt}}</time></li>
{{end}}</ul>
</article>
{{end}}
`)))
