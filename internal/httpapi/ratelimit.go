package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
)

var ingestThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "klaxon_ingest_throttled_total",
	Help: "Ingest and heartbeat requests refused (429) for being over their integration's rate limit.",
}, []string{"integration"})

// bucket is a token bucket kept as one time, when it will be full again
// (the generic cell rate algorithm): each request moves that time on by
// one interval, and a request that would move it more than the whole
// bucket past now must wait.
type bucket struct {
	interval time.Duration // one request's share of the period
	depth    time.Duration // interval × the requests allowed at once

	mu   sync.Mutex
	full time.Time
}

func newBucket(l config.RateLimit) *bucket {
	interval := max(l.Per/time.Duration(l.Requests), 1)
	return &bucket{interval: interval, depth: interval * time.Duration(l.Requests)}
}

// take spends one request, or says how long until one is allowed.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := b.full
	if next.Before(now) {
		next = now
	}
	next = next.Add(b.interval)
	if wait := next.Sub(now) - b.depth; wait > 0 {
		return wait
	}
	b.full = next
	return 0
}

// throttle refuses a request over its credential's rate limit with an
// ERATELIMITED error that says when to retry.
func (s *Server) throttle(c Credential) error {
	if c.bucket == nil {
		return nil
	}
	wait := c.bucket.take(s.Now())
	if wait == 0 {
		return nil
	}
	ingestThrottled.WithLabelValues(c.Name).Inc()
	return &auth.LimitedError{
		Err: klaxon.Errorf(klaxon.ERATELIMITED, "integration %q is over its rate limit of %s; retry after %ss",
			c.Name, describeLimit(c.Limit), retryAfter(wait)),
		RetryAfter: wait,
	}
}

// describeLimit says a limit in words: "100 requests/s".
func describeLimit(l config.RateLimit) string {
	requests := "requests"
	if l.Requests == 1 {
		requests = "request"
	}
	per := "s"
	if l.Per == time.Minute {
		per = "min"
	}
	return fmt.Sprintf("%d %s/%s", l.Requests, requests, per)
}

// retryAfter is a Retry-After value: whole seconds, rounded up, at least
// one, so a client that waits that long finds room.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// setRetryAfter sets Retry-After from err, if it says when to retry.
func setRetryAfter(w http.ResponseWriter, err error) {
	var limited *auth.LimitedError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", retryAfter(limited.RetryAfter))
	}
}

// writeEventsV2Throttled answers a throttled /v2/enqueue as PagerDuty
// does: 429, its status and message, and the detail in errors.
func writeEventsV2Throttled(w http.ResponseWriter, err error) {
	setRetryAfter(w, err)
	writeJSON(w, http.StatusTooManyRequests, eventsV2Response{
		Status:  "throttle exceeded",
		Message: "Requests for this service are arriving too quickly. Please retry later.",
		Errors:  []string{klaxon.ErrorMessage(err)},
	})
}
