// Package webui serves Klaxon's pages for people: what is firing now, the
// alerts, incidents, schedules, runbooks and insights. Pages are rendered on
// the server with html/template; one small script (static/app.js) adds live
// updates and nothing a page needs to work. Every page but /login needs a
// signed-in browser session; every form carries the session's CSRF token.
package webui

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/insights"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// contentSecurityPolicy allows only Klaxon's own script and stylesheet:
// markup smuggled in through an alert label or a runbook cannot run, load
// or submit anything.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// UI serves the pages. Nil services hide their pages' content behind a
// note saying what to configure.
type UI struct {
	Auth      *auth.Service
	Alerts    *alerting.Service
	Incidents *incident.Service
	OnCall    *oncall.Service
	Runbooks  *runbook.Catalog
	Insights  *insights.Service
	// Changes reads how far stored history has come; /events polls it.
	Changes func(context.Context) (klaxon.ChangeMark, error)
	Logger  *slog.Logger
	Now     func() time.Time
	// LivePoll is how often Changes is read while any live page is open
	// (one reader for them all); 1s when zero.
	LivePoll time.Duration

	templates *template.Template
	stop      chan struct{} // closed by Shutdown: live streams end
	feed      *changeFeed
	stopOnce  sync.Once
}

// Handler returns every page's route.
func (u *UI) Handler() http.Handler {
	if u.Logger == nil {
		u.Logger = slog.New(slog.DiscardHandler)
	}
	if u.Now == nil {
		u.Now = time.Now
	}
	if u.LivePoll <= 0 {
		u.LivePoll = time.Second
	}
	u.stop = make(chan struct{})
	if u.Changes != nil {
		u.feed = newChangeFeed(u.Changes, u.LivePoll, u.Logger)
	}
	u.templates = template.Must(template.New("").Funcs(u.funcs()).ParseFS(templateFS, "templates/*.html"))
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cached(http.FileServerFS(static))))
	mux.HandleFunc("GET /theme", u.theme)
	u.authRoutes(mux)
	u.nowRoutes(mux)
	u.alertRoutes(mux)
	u.incidentRoutes(mux)
	u.onCallRoutes(mux)
	u.runbookRoutes(mux)
	u.insightsRoutes(mux)
	u.liveRoutes(mux)
	mux.HandleFunc("/", u.need(klaxon.RoleViewer, u.notFound))
	return mux
}

// Shutdown ends every live-update stream (/events), so that a server
// shutting down is not held up by browsers that never hang up. Register it
// with http.Server.RegisterOnShutdown.
func (u *UI) Shutdown() {
	u.stopOnce.Do(func() {
		if u.stop != nil {
			close(u.stop)
		}
	})
}

// notFound answers a path no page serves.
func (u *UI) notFound(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "There is no page at %s.", r.URL.Path))
}

// view is the part of every page the layout reads.
type view struct {
	Title string
	Nav   string // which menu entry is current: now, alerts, incidents, oncall, runbooks, insights, account, users
	User  *auth.Principal
	Theme string // auto, light, dark
	// Live marks a page that reloads its <main> when history changes.
	Live  bool
	Flash string // a one-line result of the last form ("Acknowledged alert 12.")
	Error string // a one-line problem with the last form
	// Zone is the viewer's time zone (see UI.zone), for the "at" function;
	// render fills it.
	Zone *time.Location
	// Data is the page's own content.
	Data any
}

// CSRF is the token forms carry.
func (v *view) CSRF() string {
	if v.User == nil {
		return ""
	}
	return v.User.CSRF
}

// Can reports whether the signed-in person has at least role ("responder",
// "admin").
func (v *view) Can(role string) bool {
	r, err := klaxon.ParseRole(role)
	return err == nil && v.User != nil && v.User.Role.Allows(r)
}

// page is a handler of a signed-in person's request.
type page func(w http.ResponseWriter, r *http.Request, p *auth.Principal)

// need wraps a page: no session sends the browser to /login (and back
// afterwards); too small a role is a 403 page; an unsafe method without
// the session's CSRF token is refused.
func (u *UI) need(role klaxon.Role, h page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Auth.FromSession(r)
		if err != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, nil, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := u.Auth.CheckCSRF(r, p); err != nil {
				u.fail(w, r, p, err)
				return
			}
		}
		if !p.Role.Allows(role) {
			u.fail(w, r, p, klaxon.Errorf(klaxon.EFORBIDDEN, "this needs the %s role; you are a %s", role, p.Role))
			return
		}
		h(w, r, p)
	}
}

var statusByCode = map[string]int{
	klaxon.EINVALID:      http.StatusBadRequest,
	klaxon.ENOTFOUND:     http.StatusNotFound,
	klaxon.ECONFLICT:     http.StatusConflict,
	klaxon.EUNAUTHORIZED: http.StatusUnauthorized,
	klaxon.EFORBIDDEN:    http.StatusForbidden,
	klaxon.ERATELIMITED:  http.StatusTooManyRequests,
	klaxon.EUNAVAILABLE:  http.StatusServiceUnavailable,
	klaxon.EINTERNAL:     http.StatusInternalServerError,
}

// fail renders an error page for err: its message for a coded error, a
// generic one (and a log line) for anything else.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	code := klaxon.ErrorCode(err)
	if code == klaxon.EINTERNAL {
		u.Logger.Error("page failed", "path", r.URL.Path, "err", err)
	}
	u.render(w, r, statusByCode[code], "error.html", view{Title: "Problem", User: p, Error: klaxon.ErrorMessage(err)})
}

// done answers a successful form: back to next (a local path) with a
// one-line flash message.
func (u *UI) done(w http.ResponseWriter, r *http.Request, next, flash string) {
	if !localPath(next) {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: "klaxon_flash", Value: url.QueryEscape(flash), Path: "/", MaxAge: 30, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// back answers a form whose input was refused with a problem the person
// can fix (EINVALID, ECONFLICT, ENOTFOUND): back to next, the message
// shown above the page. Any other error is an error page.
func (u *UI) back(w http.ResponseWriter, r *http.Request, p *auth.Principal, next string, err error) {
	switch klaxon.ErrorCode(err) {
	case klaxon.EINVALID, klaxon.ECONFLICT, klaxon.ENOTFOUND:
	default:
		u.fail(w, r, p, err)
		return
	}
	if !localPath(next) {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: "klaxon_error", Value: url.QueryEscape(klaxon.ErrorMessage(err)), Path: "/", MaxAge: 30, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath reports whether next is a path on this server, not a URL that
// would send the browser elsewhere after signing in. Browsers read "/\"
// as "//" and drop tabs and newlines ("/\t/evil" is "//evil"), so those
// are refused too.
func localPath(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return false
	}
	for _, c := range next {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// render writes a page. v.Theme, v.Flash and v.Error are filled from
// cookies, v.Zone from v.User.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if v.Zone == nil {
		v.Zone = u.zone(v.User)
	}
	v.Theme = "auto"
	if c, err := r.Cookie("klaxon_theme"); err == nil && (c.Value == "light" || c.Value == "dark") {
		v.Theme = c.Value
	}
	if c, err := r.Cookie("klaxon_flash"); err == nil && v.Flash == "" {
		v.Flash, _ = url.QueryUnescape(c.Value)
		http.SetCookie(w, &http.Cookie{Name: "klaxon_flash", Path: "/", MaxAge: -1})
	}
	if c, err := r.Cookie("klaxon_error"); err == nil && v.Error == "" {
		v.Error, _ = url.QueryUnescape(c.Value)
		http.SetCookie(w, &http.Cookie{Name: "klaxon_error", Path: "/", MaxAge: -1})
	}
	var b bytes.Buffer
	if err := u.templates.ExecuteTemplate(&b, name, &v); err != nil {
		u.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// theme remembers light, dark or auto in a cookie and goes back.
func (u *UI) theme(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("set")
	if t != "light" && t != "dark" {
		t = "auto"
	}
	http.SetCookie(w, &http.Cookie{Name: "klaxon_theme", Value: t, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	next := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && localPath(ref.RequestURI()) {
		next = ref.RequestURI()
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// cached lets browsers keep static files for an hour.
func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// zone is the time zone times are shown in for p: their users[].time_zone
// when they are a configured person, else the server's.
func (u *UI) zone(p *auth.Principal) *time.Location {
	if u.OnCall != nil && p != nil {
		if usr, ok := u.OnCall.Directory().Users[p.Name]; ok && usr.TimeZone != nil {
			return usr.TimeZone
		}
	}
	return time.Local
}
