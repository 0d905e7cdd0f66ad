package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon/internal/insights"
)

// InsightsQuery selects an insights report. Zero fields take the server's
// defaults: the last 30 days, every service and severity.
type InsightsQuery struct {
	Since, Until time.Time
	Service      string
	Levels       []string // severity names: "P0"
}

// Insights returns MTTA, MTTR, volume, the noisiest rules and the on-call
// load for q.
func (c *Client) Insights(ctx context.Context, q InsightsQuery) (*insights.Report, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339))
	}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	if len(q.Levels) > 0 {
		v.Set("level", strings.Join(q.Levels, ","))
	}
	var out insights.Report
	return &out, c.do(ctx, http.MethodGet, "/api/v1/insights?"+v.Encode(), nil, &out)
}
