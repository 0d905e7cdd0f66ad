package httpapi

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/ingest/alertmanager"
	"github.com/klaxon-oss/klaxon/internal/ingest/eventsv2"
	"github.com/klaxon-oss/klaxon/internal/ingest/generic"
)

// IngestResult is the answer to an accepted ingest request: the alerts
// were committed before it was sent.
type IngestResult struct {
	Accepted int           `json:"accepted"`
	Alerts   []IngestAlert `json:"alerts"`
}

// IngestAlert is what happened to one alert of the request.
type IngestAlert struct {
	ID      int64          `json:"id,omitempty"`
	Key     string         `json:"key"`
	Outcome klaxon.Outcome `json:"outcome"`
}

// sender authenticates an ingest request with the token of an integration
// of the endpoint's type.
func (s *Server) sender(r *http.Request, typ string) (Credential, error) {
	c, ok := s.Tokens.Lookup(senderToken(r))
	if !ok || c.Type != typ {
		return Credential{}, klaxon.Errorf(klaxon.EUNAUTHORIZED,
			"missing or unknown token for a %s integration (send it as a bearer token, basic-auth password or ?token=)", typ)
	}
	return c, nil
}

func (s *Server) ingestAlertmanager(w http.ResponseWriter, r *http.Request) {
	s.ingest(w, r, config.TypeAlertmanager, func(body []byte) ([]klaxon.Signal, error) {
		m, signals, err := alertmanager.Decode(body)
		if err == nil && m.TruncatedAlerts > 0 {
			// Alertmanager dropped alerts from this notification (max_alerts);
			// they are not lost at the source, but we cannot see them.
			s.Logger.Warn("alertmanager truncated a notification", "group_key", m.GroupKey, "truncated", m.TruncatedAlerts)
		}
		return signals, err
	})
}

func (s *Server) ingestGeneric(w http.ResponseWriter, r *http.Request) {
	s.ingest(w, r, config.TypeGeneric, generic.Decode)
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request, typ string, decode func([]byte) ([]klaxon.Signal, error)) {
	c, err := s.sender(r, typ)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.throttle(c); err != nil {
		writeError(w, err)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	signals, err := decode(body)
	if err != nil {
		writeError(w, err)
		return
	}
	results, err := s.Alerts.Ingest(r.Context(), c.Name, signals)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := IngestResult{Accepted: len(signals), Alerts: make([]IngestAlert, len(signals))}
	for i, res := range results {
		out.Alerts[i] = IngestAlert{ID: res.AlertID, Key: signals[i].Key, Outcome: res.Outcome}
	}
	writeJSON(w, http.StatusOK, out)
}

// fail answers an error from a service: user errors as they are, anything
// else logged here and answered 5xx so the sender retries.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logFailure(r, err)
	writeError(w, err)
}

// logFailure logs an error that is not the caller's doing: every internal
// error, and the database being unavailable as outageLog allows.
func (s *Server) logFailure(r *http.Request, err error) {
	switch klaxon.ErrorCode(err) {
	case klaxon.EINTERNAL:
		s.Logger.Error("request failed", "path", r.URL.Path, "err", err)
	case klaxon.EUNAVAILABLE:
		if ok, unlogged := s.outage.record(s.Now()); ok {
			s.Logger.Error("database unavailable", "path", r.URL.Path, "err", err, "unlogged_failures", unlogged)
		}
	}
}

// outageLogEvery is how often requests failing on an unavailable database
// are logged: every alert sender retrying every few seconds would otherwise
// bury the cause under thousands of lines.
const outageLogEvery = 10 * time.Second

// outageLog picks which requests failed by an unavailable database get a log
// line: the first, then at most one every outageLogEvery, which counts those
// left out.
type outageLog struct {
	mu       sync.Mutex
	next     time.Time
	unlogged int
}

// record notes a failure at now and says whether to log it, and if so how
// many failures since the last line were not logged.
func (o *outageLog) record(now time.Time) (log bool, unlogged int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now.Before(o.next) {
		o.unlogged++
		return false, 0
	}
	unlogged, o.unlogged = o.unlogged, 0
	o.next = now.Add(outageLogEvery)
	return true, unlogged
}

// eventsV2Response is PagerDuty's answer shape, success and failure alike.
type eventsV2Response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// enqueueEventsV2 answers exactly as PagerDuty's /v2/enqueue does, so its
// clients work unchanged. The routing_key is the integration's token.
func (s *Server) enqueueEventsV2(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		writeEventsV2Error(w, err)
		return
	}
	ev, sig, err := eventsv2.Decode(body)
	if err != nil {
		writeEventsV2Error(w, err)
		return
	}
	c, ok := s.Tokens.Lookup(ev.RoutingKey)
	if !ok || c.Type != config.TypeEventsV2 {
		writeJSON(w, http.StatusUnauthorized, eventsV2Response{Status: "invalid event", Message: "Invalid routing key",
			Errors: []string{"'routing_key' is not the token of an events-v2 integration"}})
		return
	}
	// The routing key is in the body, so the body is read before the
	// limit is checked; it is still checked before anything is stored.
	if err := s.throttle(c); err != nil {
		writeEventsV2Throttled(w, err)
		return
	}
	if _, err := s.Alerts.Ingest(r.Context(), c.Name, []klaxon.Signal{sig}); err != nil {
		s.failEventsV2(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, eventsV2Response{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey})
}

// failEventsV2 answers an error from ingest with a 5xx, which PagerDuty's
// clients retry: 503 with Retry-After while the database is unavailable,
// 500 otherwise.
func (s *Server) failEventsV2(w http.ResponseWriter, r *http.Request, err error) {
	if klaxon.ErrorCode(err) == klaxon.EUNAVAILABLE {
		s.logFailure(r, err)
		w.Header().Set("Retry-After", unavailableRetryAfter)
		writeJSON(w, http.StatusServiceUnavailable, eventsV2Response{Status: "error", Message: klaxon.ErrorMessage(err) + ", retry"})
		return
	}
	s.Logger.Error("request failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, eventsV2Response{Status: "error", Message: "internal error, retry"})
}

func writeEventsV2Error(w http.ResponseWriter, err error) {
	problems := []string{klaxon.ErrorMessage(err)}
	var e *klaxon.Error
	if errors.As(err, &e) && len(e.Problems) > 0 {
		problems = e.Problems
	}
	writeJSON(w, http.StatusBadRequest, eventsV2Response{Status: "invalid event", Message: "Event object is invalid", Errors: problems})
}

// heartbeat records a check-in. Any integration or API token may check in:
// cron jobs and scripts carry whichever token they were given.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	c, ok := s.Tokens.Lookup(senderToken(r))
	if !ok {
		writeError(w, klaxon.Errorf(klaxon.EUNAUTHORIZED, "missing or unknown token"))
		return
	}
	if err := s.throttle(c); err != nil {
		writeError(w, err)
		return
	}
	if err := s.Alerts.CheckIn(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
