package httpapi

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
)

func TestParseAlertQuery(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := &Server{Now: func() time.Time { return now }, severity: klaxon.DefaultSeverityPolicy()}
	tests := []struct {
		query    string
		want     alerting.Query
		matchers []string // Matchers hold compiled expressions: compare what they say
	}{
		{"", alerting.Query{Limit: 100}, nil},
		{"state=open&level=p0,P1", alerting.Query{
			States: []klaxon.State{klaxon.StateFiring, klaxon.StateAcknowledged}, Levels: []klaxon.Level{0, 1}, Limit: 100}, nil},
		{"match=" + url.QueryEscape(`{namespace="prod",alertname=~"Kube.*"}`) + "&q=disk", alerting.Query{Search: "disk", Limit: 100},
			[]string{`namespace="prod"`, `alertname=~"Kube.*"`}},
		{"since=24h&until=1h", alerting.Query{Since: now.Add(-24 * time.Hour), Until: now.Add(-time.Hour), Limit: 100}, nil},
		{"since=7d", alerting.Query{Since: now.Add(-7 * 24 * time.Hour), Limit: 100}, nil},
		{"since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00%2B02:00", alerting.Query{
			Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			Until: time.Date(2026, 11, 2, 0, 0, 0, 0, time.FixedZone("", 2*60*60)), Limit: 100}, nil},
		{"before=1234&limit=20", alerting.Query{Before: 1234, Limit: 20}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, err := s.parseAlertQuery(v)
			if err != nil {
				t.Fatal(err)
			}
			gotMatchers := matcherStrings(got.Matchers)
			got.Matchers = nil
			if !reflect.DeepEqual(got, tt.want) || !slices.Equal(gotMatchers, tt.matchers) {
				t.Errorf("got %+v %q, want %+v %q", got, gotMatchers, tt.want, tt.matchers)
			}
		})
	}
}

func matcherStrings(ms []*labels.Matcher) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

func TestParseAlertQueryNamesTheBadParameter(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := &Server{Now: func() time.Time { return now }, severity: klaxon.DefaultSeverityPolicy()}
	for query, param := range map[string]string{
		"state=burning": "state:",
		"level=P9":      "level:",
		"level=P0,":     "level:",
		"match=" + url.QueryEscape("{namespace}"): "match:",
		"match=" + url.QueryEscape(`{pod=~"("}`):  "match:",
		"q=" + strings.Repeat("x", 201):           "q:",
		"since=yesterday":                         "since:",
		"since=-1h":                               "since:",
		"until=0d":                                "until:",
		"since=1h&until=2h":                       "until:",
		"limit=0":                                 "limit:",
		"limit=1001":                              "limit:",
		"before=x":                                "before:",
	} {
		v, _ := url.ParseQuery(query)
		_, err := s.parseAlertQuery(v)
		if klaxon.ErrorCode(err) != klaxon.EINVALID || !strings.HasPrefix(klaxon.ErrorMessage(err), param) {
			t.Errorf("%s: got %v, want EINVALID starting %q", query, err, param)
		}
	}
}
