package app

import (
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/insights"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// newInsights counts night pages in each person's own time zone.
func newInsights(store klaxon.Store, severity klaxon.SeverityPolicy, onCall *oncall.Service, now func() time.Time) *insights.Service {
	return insights.New(insights.Options{
		Store:    store,
		Severity: severity,
		Zone: func(person string) *time.Location {
			return onCall.Directory().Users[person].TimeZone
		},
		Now: now,
	})
}
