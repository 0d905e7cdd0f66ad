// Package httpapi is Klaxon's HTTP surface: the ingest endpoints senders
// call, the JSON API people and the CLI use, health and metrics; and the
// Client the CLI uses to call it. Coded domain errors become statuses here,
// in one place.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/insights"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/runbook"
	"github.com/klaxon-oss/klaxon/internal/statuspage"
)

var requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "klaxon_http_request_duration_seconds",
	Help:    "HTTP request latency by route and status code.",
	Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
}, []string{"route", "code"})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{requestDuration, ingestThrottled}
}

// DefaultMaxBody bounds a request body: far above any real Alertmanager
// notification, far below what could hurt the server.
const DefaultMaxBody = 4 << 20

// Server serves the HTTP API.
type Server struct {
	Alerts *alerting.Service
	// Tokens are the configured tokens senders present: integrations'
	// (ingest) and API tokens (heartbeats).
	Tokens *Tokens
	// Auth says who calls the API (configured and personal API tokens,
	// never a browser session) and keeps accounts and tokens.
	Auth *auth.Service
	// Chat holds the inbound endpoints of chat platforms by channel name,
	// served at /api/v1/chat/<name>/…; each authenticates its own requests
	// (platform signatures, not Klaxon tokens).
	Chat map[string]http.Handler
	// Runbooks are matched to alerts in the API; nil means none.
	Runbooks *runbook.Catalog
	// Diagnose queues an alert's diagnostics; nil when they are off.
	Diagnose notify.Diagnoser
	// OnCall answers who is on call and keeps overrides; nil when no
	// schedules are configured (the on-call routes answer 404).
	OnCall *oncall.Service
	// Incidents runs incidents; nil: the incident routes answer 404.
	Incidents *incident.Service
	// StatusPage is served publicly at /status; nil: /status answers 404.
	StatusPage *statuspage.Page
	// Insights computes the numbers behind /api/v1/insights; nil: 404.
	Insights *insights.Service
	// Pages serves the web UI: every path no API route takes.
	Pages    http.Handler
	BaseURL  string
	Ready    func(context.Context) error // database reachable
	Metrics  http.Handler                // nil: promhttp.Handler()
	Logger   *slog.Logger
	MaxBody  int64
	Now      func() time.Time // nil: time.Now
	mux      *http.ServeMux
	severity klaxon.SeverityPolicy
	outage   outageLog
}

// Handler returns the server's routes wrapped in logging, metrics and panic
// recovery.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.MaxBody == 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.Metrics == nil {
		s.Metrics = promhttp.Handler()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.severity = s.Alerts.Severity()
	mux := http.NewServeMux()
	// Senders authenticate with their integration's token; everything
	// under person() needs an API token whose role routeRoles allows.
	mux.HandleFunc("POST /api/v1/ingest/alertmanager", s.ingestAlertmanager)
	mux.HandleFunc("POST /api/v1/ingest/generic", s.ingestGeneric)
	mux.HandleFunc("POST /v2/enqueue", s.enqueueEventsV2)
	mux.HandleFunc("POST /api/v1/heartbeat/{name}", s.heartbeat)

	mux.HandleFunc("GET /api/v1/alerts", s.person(s.listAlerts))
	mux.HandleFunc("GET /api/v1/alerts/{id}", s.person(s.getAlert))
	mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.person(s.changeAlert(s.Alerts.Ack)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/unack", s.person(s.changeAlert(s.Alerts.Unack)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/resolve", s.person(s.changeAlert(s.Alerts.Resolve)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/diagnose", s.person(s.diagnose))
	mux.HandleFunc("GET /api/v1/runbooks", s.person(s.listRunbooks))
	mux.HandleFunc("GET /api/v1/runbooks/{name}", s.person(s.getRunbook))
	s.onCallRoutes(mux)
	s.incidentRoutes(mux)
	s.accountRoutes(mux)
	if s.Insights != nil {
		mux.HandleFunc("GET /api/v1/insights", s.person(s.insights))
	}
	// An API path no route matches is a JSON 404, not a page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "no API route %s %s", r.Method, r.URL.Path))
	})
	if s.Pages != nil {
		mux.Handle("/", s.Pages)
	}

	mux.HandleFunc("POST /api/v1/chat/{channel}/{kind...}", s.chat)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics)
	s.mux = mux
	return s.observe(mux)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	h, ok := s.Chat[r.PathValue("channel")]
	if !ok {
		writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "no chat channel %q takes commands here", r.PathValue("channel")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	h.ServeHTTP(w, r)
}

// observe logs each request (path only: a query may hold ?token=), times
// it by route pattern, and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					writeError(rec, klaxon.Errorf(klaxon.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			requestDuration.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(d.Seconds())
			if rec.status >= 400 {
				s.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", d)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", "err", err)
		http.Error(w, "database unreachable\n", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// readBody reads a bounded body; too large or unreadable is EINVALID.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, klaxon.Errorf(klaxon.EINVALID, "body is larger than the %d-byte limit", s.MaxBody)
	}
	if err != nil {
		return nil, klaxon.Errorf(klaxon.EINVALID, "reading body: %v", err)
	}
	return body, nil
}

// routeRoles is the least role each route behind person() needs: reading
// takes a viewer; acting on alerts and incidents, on-call overrides and
// component statuses a responder; managing accounts an admin. A route
// missing here answers 500 rather than run unchecked.
var routeRoles = map[string]klaxon.Role{
	"GET /api/v1/alerts":                  klaxon.RoleViewer,
	"GET /api/v1/alerts/{id}":             klaxon.RoleViewer,
	"POST /api/v1/alerts/{id}/ack":        klaxon.RoleResponder,
	"POST /api/v1/alerts/{id}/unack":      klaxon.RoleResponder,
	"POST /api/v1/alerts/{id}/resolve":    klaxon.RoleResponder,
	"POST /api/v1/alerts/{id}/diagnose":   klaxon.RoleResponder,
	"GET /api/v1/runbooks":                klaxon.RoleViewer,
	"GET /api/v1/runbooks/{name}":         klaxon.RoleViewer,
	"GET /api/v1/oncall":                  klaxon.RoleViewer,
	"GET /api/v1/schedules/{name}/shifts": klaxon.RoleViewer,
	"GET /api/v1/users/{name}/shifts":     klaxon.RoleViewer,
	"GET /api/v1/overrides":               klaxon.RoleViewer,
	"POST /api/v1/overrides":              klaxon.RoleResponder,
	"DELETE /api/v1/overrides/{id}":       klaxon.RoleResponder,

	"GET /api/v1/incidents":                       klaxon.RoleViewer,
	"POST /api/v1/incidents":                      klaxon.RoleResponder,
	"GET /api/v1/incidents/{id}":                  klaxon.RoleViewer,
	"POST /api/v1/incidents/{id}/updates":         klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/status":          klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/severity":        klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/roles":           klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/checklist/{n}":   klaxon.RoleResponder,
	"DELETE /api/v1/incidents/{id}/checklist/{n}": klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/notes":           klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/alerts":          klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/resolve":         klaxon.RoleResponder,
	"GET /api/v1/incidents/{id}/postmortem":       klaxon.RoleViewer,
	"POST /api/v1/incidents/{id}/postmortem/done": klaxon.RoleResponder,
	"POST /api/v1/incidents/{id}/actions":         klaxon.RoleResponder,
	"GET /api/v1/actions":                         klaxon.RoleViewer,
	"POST /api/v1/actions/{id}/done":              klaxon.RoleResponder,
	"GET /api/v1/severity":                        klaxon.RoleViewer,
	"GET /api/v1/insights":                        klaxon.RoleViewer,
	"PUT /api/v1/components/{name}":               klaxon.RoleResponder,

	// Everyone manages their own tokens; the handlers let admins at
	// everyone's.
	"GET /api/v1/me":                 klaxon.RoleViewer,
	"GET /api/v1/tokens":             klaxon.RoleViewer,
	"POST /api/v1/tokens":            klaxon.RoleViewer,
	"DELETE /api/v1/tokens/{id}":     klaxon.RoleViewer,
	"GET /api/v1/users":              klaxon.RoleAdmin,
	"POST /api/v1/users":             klaxon.RoleAdmin,
	"PATCH /api/v1/users/{username}": klaxon.RoleAdmin,
}

// person authenticates an API call with an API token (configured or
// personal) and checks the role its route needs.
func (s *Server) person(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		need, ok := routeRoles[r.Pattern]
		if !ok {
			s.fail(w, r, fmt.Errorf("route %q has no role in routeRoles", r.Pattern))
			return
		}
		token, _ := bearer(r)
		p, err := s.Auth.FromBearer(r.Context(), token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !p.Role.Allows(need) {
			writeError(w, klaxon.Errorf(klaxon.EFORBIDDEN, "this needs the %s role; %s is a %s", need, p.Name, p.Role))
			return
		}
		h(w, r.WithContext(withPrincipal(r.Context(), p)))
	}
}

// errorBody is every JSON error answer.
type errorBody struct {
	Error    string   `json:"error"`
	Code     string   `json:"code"`
	Problems []string `json:"problems,omitempty"`
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

// unavailableRetryAfter is the Retry-After, in seconds, of a 503: soon
// enough that alerts are not held back long once the database is back.
const unavailableRetryAfter = "5"

func errorStatus(err error) int { return statusByCode[klaxon.ErrorCode(err)] }

func writeError(w http.ResponseWriter, err error) {
	body := errorBody{Error: klaxon.ErrorMessage(err), Code: klaxon.ErrorCode(err)}
	var e *klaxon.Error
	if errors.As(err, &e) {
		body.Problems = e.Problems
	}
	setRetryAfter(w, err)
	status := errorStatus(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", unavailableRetryAfter)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
