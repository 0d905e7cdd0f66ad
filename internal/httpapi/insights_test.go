package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/insights"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// startInsights serves the API over a store holding two alerts: DiskFull
// (db, P0) acked, HighLatency (api, P2) firing.
func startInsights(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	alerts := alerting.New(store, alerting.Options{})
	t.Cleanup(alerts.Close)
	srv := &httpapi.Server{
		Alerts:   alerts,
		Tokens:   httpapi.NewTokens(),
		Auth:     testAuth(t, store),
		Insights: insights.New(insights.Options{Store: store, Severity: klaxon.DefaultSeverityPolicy()}),
	}
	res, err := alerts.Ingest(ctx, "test", []klaxon.Signal{
		{Key: "disk", Action: klaxon.ActionTrigger, Severity: "critical", Labels: map[string]string{"alertname": "DiskFull", "service": "db"}},
		{Key: "latency", Action: klaxon.ActionTrigger, Severity: "warning", Labels: map[string]string{"alertname": "HighLatency", "job": "api"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alerts.Ack(ctx, res[0].AlertID, "alice"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestInsights(t *testing.T) {
	url := startInsights(t)
	viewer := &httpapi.Client{BaseURL: url, Token: viewerToken}
	ctx := context.Background()
	tests := []struct {
		name      string
		q         httpapi.InsightsQuery
		wantRules []string
		wantAcked int
	}{
		{"everything", httpapi.InsightsQuery{}, []string{"DiskFull", "HighLatency"}, 1},
		{"one service", httpapi.InsightsQuery{Service: "api"}, []string{"HighLatency"}, 0},
		{"severities by name", httpapi.InsightsQuery{Levels: []string{"p0", "P1"}}, []string{"DiskFull"}, 1},
		{"a span", httpapi.InsightsQuery{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)}, []string{"DiskFull", "HighLatency"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := viewer.Insights(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, rule := range r.Noisiest {
				rules = append(rules, rule.Name)
			}
			if !reflect.DeepEqual(rules, tt.wantRules) || r.Total.Alerts != len(tt.wantRules) || r.Total.Acked != tt.wantAcked {
				t.Errorf("got rules %q, %d alerts, %d acked; want %q, %d, %d", rules, r.Total.Alerts, r.Total.Acked, tt.wantRules, len(tt.wantRules), tt.wantAcked)
			}
			if want := []string{"api", "db"}; !reflect.DeepEqual(r.Services, want) {
				t.Errorf("services: got %q, want %q", r.Services, want)
			}
		})
	}
}

func TestInsightsRefusals(t *testing.T) {
	url := startInsights(t)
	ctx := context.Background()
	viewer := &httpapi.Client{BaseURL: url, Token: viewerToken}
	_, err := viewer.Insights(ctx, httpapi.InsightsQuery{Levels: []string{"P9"}})
	wantCode(t, "an unknown severity", err, klaxon.EINVALID)
	_, err = viewer.Insights(ctx, httpapi.InsightsQuery{Since: time.Now(), Until: time.Now().Add(-time.Hour)})
	wantCode(t, "since after until", err, klaxon.EINVALID)
	_, err = (&httpapi.Client{BaseURL: url}).Insights(ctx, httpapi.InsightsQuery{})
	wantCode(t, "no token", err, klaxon.EUNAUTHORIZED)

	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/insights?since=yesterday", nil)
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusBadRequest || body.Error != `since: got "yesterday", want an RFC 3339 time (2026-03-10T09:00:00Z)` {
		t.Errorf("since=yesterday: status %d, %q", resp.StatusCode, body.Error)
	}
}
