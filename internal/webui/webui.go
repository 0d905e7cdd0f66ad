// Package webui serves Klaxon's pages for people: for now the runbooks,
// rendered from Markdown, linked from every chat message. Pages are
// server-rendered with html/template and run no script.
package webui

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// contentSecurityPolicy allows no script at all: a runbook or an alert
// label that smuggles markup in still cannot run anything.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Pages serves the runbook pages.
type Pages struct {
	Runbooks *runbook.Catalog
	// Alert looks an alert up, to fill a runbook's steps (?alert=12).
	Alert  func(ctx context.Context, id int64) (*klaxon.Alert, error)
	Logger *slog.Logger
}

// Handler serves GET /runbooks and GET /runbooks/{slug}.
func (p *Pages) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /runbooks", p.index)
	mux.HandleFunc("GET /runbooks/{$}", p.index)
	mux.HandleFunc("GET /runbooks/{slug}", p.runbook)
	return mux
}

func (p *Pages) set() *runbook.Set {
	if p.Runbooks == nil {
		return runbook.NewSet()
	}
	return p.Runbooks.Current()
}

func (p *Pages) index(w http.ResponseWriter, r *http.Request) {
	set := p.set()
	p.render(w, http.StatusOK, "index.html", map[string]any{
		"Title":    "Runbooks",
		"Runbooks": set.All(),
		"Problems": set.Problems(),
	})
}

// filled is an alert's view of a runbook: its steps with the alert's
// labels in place.
type filled struct {
	Alert *klaxon.Alert
	What  string
	Steps []string
}

func (p *Pages) runbook(w http.ResponseWriter, r *http.Request) {
	rb := p.set().Get(r.PathValue("slug"))
	if rb == nil {
		p.render(w, http.StatusNotFound, "notfound.html", map[string]any{"Title": "No such runbook", "Slug": r.PathValue("slug")})
		return
	}
	data := map[string]any{"Title": rb.Title, "Runbook": rb}
	if v := r.URL.Query().Get("alert"); v != "" && p.Alert != nil {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			a, err := p.Alert(r.Context(), id)
			switch klaxon.ErrorCode(err) {
			case "":
				l := notify.LinkRunbook(rb, a, "", len(rb.Steps))
				what := a.Name()
				if where := a.Where(); where != "" {
					what += " " + where
				}
				data["Filled"] = filled{Alert: a, What: what, Steps: l.Steps}
			case klaxon.ENOTFOUND:
			default:
				p.logger().Error("runbook page: read alert", "alert", id, "err", err)
			}
		}
	}
	p.render(w, http.StatusOK, "runbook.html", data)
}

func (p *Pages) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		p.logger().Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}
