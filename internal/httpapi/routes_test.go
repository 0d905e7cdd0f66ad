package httpapi

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/insights"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// openRoutes take no API token, each for its reason.
var openRoutes = map[string]string{
	"POST /api/v1/ingest/alertmanager":      "an integration's token",
	"POST /api/v1/ingest/generic":           "an integration's token",
	"POST /v2/enqueue":                      "an integration's routing key",
	"POST /api/v1/heartbeat/{name}":         "a configured token",
	"POST /api/v1/chat/{channel}/{kind...}": "the chat platform's signature",
	"GET /calendar/schedules/{file}":        "the feed's signed URL",
	"GET /calendar/users/{file}":            "the feed's signed URL",
	"POST /api/v1/login":                    "a password, rate-limited",
	"GET /healthz":                          "public",
	"GET /readyz":                           "public",
	"GET /metrics":                          "public",
	"GET /status":                           "the public status page",
	"GET /status/":                          "the public status page",
	"/api/":                                 "a JSON 404 for any other API path",
	"/":                                     "the web UI, whose pages check their own browser session",
}

// registers reports whether call registers a route: mux.Handle,
// mux.HandleFunc, or a route helper.
func registers(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		return fn.Sel.Name == "Handle" || fn.Sel.Name == "HandleFunc"
	case *ast.Ident:
		return fn.Name == "route"
	}
	return false
}

// TestEveryRouteIsClassified reads the package's source for the patterns
// routes are registered with: each must need a role (routeRoles) or be
// knowingly open.
func TestEveryRouteIsClassified(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 || !registers(call) {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil {
				found[v] = true
				_, needsRole := routeRoles[v]
				_, open := openRoutes[v]
				switch {
				case needsRole && open:
					t.Errorf("%s: route %q is in both routeRoles and openRoutes", fset.Position(lit.Pos()), v)
				case !needsRole && !open:
					t.Errorf("%s: route %q needs a role in routeRoles (or, if it takes no API token, a reason in openRoutes)", fset.Position(lit.Pos()), v)
				}
			}
			return true
		})
	}
	if len(found) != len(routeRoles)+len(openRoutes) {
		t.Errorf("found %d routes registered in the source, want the %d of routeRoles and openRoutes", len(found), len(routeRoles)+len(openRoutes))
	}
}

// TestRouteRolesAreRegistered: every pattern routeRoles names is one the
// server routes requests to, spelled the same.
func TestRouteRolesAreRegistered(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// Every optional service is on, so every route is registered.
	s := &Server{Alerts: alerting.New(store, alerting.Options{}), Insights: insights.New(insights.Options{})}
	s.Handler()
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	for pattern := range routeRoles {
		method, path, _ := strings.Cut(pattern, " ")
		r := httptest.NewRequest(method, wildcard.ReplaceAllString(path, "1"), nil)
		if _, got := s.mux.Handler(r); got != pattern {
			t.Errorf("%s: a request for %s %s is routed to %q", pattern, method, r.URL.Path, got)
		}
	}
}

// TestEveryRouteRefusesStrangers: a request to any route that needs a role,
// with no token or a wrong one, is answered 401 and reaches no handler (the
// services here are nil: reaching one would panic). The open write routes
// refuse a wrong token too.
func TestEveryRouteRefusesStrangers(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	authn, err := auth.New(store, auth.Options{ConfigTokens: []auth.ConfigToken{{Name: "ops", Token: "the-real-token-0123456789", Role: klaxon.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokens()
	tokens.Add("the-real-ingest-token-0123456789", Credential{Name: "am", Type: "alertmanager"})
	s := &Server{Alerts: alerting.New(store, alerting.Options{}), Insights: insights.New(insights.Options{}), Auth: authn, Tokens: tokens,
		Logger: slog.New(slog.DiscardHandler)}
	h := s.Handler()
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	patterns := slices.Sorted(maps.Keys(routeRoles))
	patterns = append(patterns, "POST /api/v1/ingest/alertmanager", "POST /api/v1/ingest/generic", "POST /api/v1/heartbeat/{name}")
	for _, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		for _, token := range []string{"", "the-real-token-012345678X", "the-real-ingest-token-012345678X"} {
			r := httptest.NewRequest(method, wildcard.ReplaceAllString(path, "1"), strings.NewReader(`{}`))
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: got %d %s, want 401", pattern, token, w.Code, w.Body)
			}
		}
	}
	if list, err := store.Alerts(context.Background(), klaxon.AlertFilter{}); err != nil || len(list) != 0 {
		t.Errorf("refused requests stored %d alerts (%v)", len(list), err)
	}
}
