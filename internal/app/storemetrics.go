package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
)

var storeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "klaxon_store_duration_seconds",
	Help:    "Time spent in store calls by operation and outcome.",
	Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
}, []string{"op", "outcome"})

// instrumented times every store call for /metrics.
type instrumented struct{ klaxon.Store }

// observe is deferred with a pointer to the named result, read at return.
func observe(op string, start time.Time, err *error) {
	outcome := "ok"
	if *err != nil {
		outcome = "error"
	}
	storeDuration.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

func (s instrumented) Update(ctx context.Context, fn func(klaxon.Tx) error) (err error) {
	defer observe("update", time.Now(), &err)
	return s.Store.Update(ctx, fn)
}

func (s instrumented) Alert(ctx context.Context, id int64) (a *klaxon.Alert, err error) {
	defer observe("alert", time.Now(), &err)
	return s.Store.Alert(ctx, id)
}

func (s instrumented) Alerts(ctx context.Context, f klaxon.AlertFilter) (as []*klaxon.Alert, err error) {
	defer observe("alerts", time.Now(), &err)
	return s.Store.Alerts(ctx, f)
}

func (s instrumented) AlertEvents(ctx context.Context, id int64) (es []klaxon.Event, err error) {
	defer observe("alert_events", time.Now(), &err)
	return s.Store.AlertEvents(ctx, id)
}
