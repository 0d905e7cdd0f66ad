package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/insights"
)

// insights answers GET /api/v1/insights?since=&until=&service=&level=
// with an insights.Report. since and until are RFC 3339 times (default:
// the last 30 days); level is severity names ("P0,P1", or level
// repeated). It is routed only when s.Insights is set.
func (s *Server) insights(w http.ResponseWriter, r *http.Request) {
	q, err := s.insightsQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	report, err := s.Insights.Report(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, report)
}

func (s *Server) insightsQuery(v url.Values) (insights.Query, error) {
	var (
		q   insights.Query
		err error
	)
	if q.Since, err = timeParam(v, "since", time.Time{}); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v, "until", time.Time{}); err != nil {
		return q, err
	}
	q.Service = strings.TrimSpace(v.Get("service"))
	for _, list := range v["level"] {
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			l, err := s.Insights.Level(name)
			if err != nil {
				return q, klaxon.Errorf(klaxon.EINVALID, "level: %s", klaxon.ErrorMessage(err))
			}
			q.Levels = append(q.Levels, l)
		}
	}
	return q, nil
}
