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

func (s instrumented) Account(ctx context.Context, username string) (a *klaxon.Account, err error) {
	defer observe("account", time.Now(), &err)
	return s.Store.Account(ctx, username)
}

func (s instrumented) AccountByID(ctx context.Context, id int64) (a *klaxon.Account, err error) {
	defer observe("account_by_id", time.Now(), &err)
	return s.Store.AccountByID(ctx, id)
}

func (s instrumented) AccountBySubject(ctx context.Context, subject string) (a *klaxon.Account, err error) {
	defer observe("account_by_subject", time.Now(), &err)
	return s.Store.AccountBySubject(ctx, subject)
}

func (s instrumented) Accounts(ctx context.Context) (as []*klaxon.Account, err error) {
	defer observe("accounts", time.Now(), &err)
	return s.Store.Accounts(ctx)
}

func (s instrumented) APITokenByHash(ctx context.Context, hash []byte) (k *klaxon.APIToken, err error) {
	defer observe("api_token_by_hash", time.Now(), &err)
	return s.Store.APITokenByHash(ctx, hash)
}

func (s instrumented) APITokens(ctx context.Context, accountID int64) (ks []*klaxon.APIToken, err error) {
	defer observe("api_tokens", time.Now(), &err)
	return s.Store.APITokens(ctx, accountID)
}

func (s instrumented) SessionByHash(ctx context.Context, hash []byte) (ss *klaxon.Session, err error) {
	defer observe("session_by_hash", time.Now(), &err)
	return s.Store.SessionByHash(ctx, hash)
}

func (s instrumented) AlertFacts(ctx context.Context, since, until time.Time, fn func(klaxon.AlertFact) error) (err error) {
	defer observe("alert_facts", time.Now(), &err)
	return s.Store.AlertFacts(ctx, since, until, fn)
}

func (s instrumented) PageRecords(ctx context.Context, since, until time.Time) (ps []klaxon.PageRecord, err error) {
	defer observe("page_records", time.Now(), &err)
	return s.Store.PageRecords(ctx, since, until)
}

func (s instrumented) ChangeMark(ctx context.Context) (m klaxon.ChangeMark, err error) {
	defer observe("change_mark", time.Now(), &err)
	return s.Store.ChangeMark(ctx)
}
