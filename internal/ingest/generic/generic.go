// Package generic decodes Klaxon's own simple JSON format, for scripts and
// tools that speak neither Alertmanager nor PagerDuty:
//
//	{
//	  "key": "backup-db1",            // optional: identity; default a hash of labels
//	  "status": "firing",             // or "resolved"; default "firing"
//	  "summary": "Nightly backup failed on db1",   // required when firing
//	  "severity": "critical",         // optional; default the labels' severity
//	  "labels": {"alertname": "BackupFailed", "host": "db1"},
//	  "annotations": {"description": "…", "runbook_url": "…"},
//	  "starts_at": "2026-11-21T04:00:00Z",          // optional
//	  "url": "https://ci.example/job/42"            // optional link to the source
//	}
//
// The body is one such object or an array of them. Unknown fields are
// refused: a typo must not silently drop data.
package generic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest"
)

// Alert is one alert in the generic format.
type Alert struct {
	Key         string            `json:"key"`
	Status      string            `json:"status"`
	Summary     string            `json:"summary"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"starts_at"`
	URL         string            `json:"url"`
}

// MaxAlerts bounds one request.
const MaxAlerts = 1000

// Decode parses and validates a body.
func Decode(body []byte) ([]klaxon.Signal, error) {
	var alerts []Alert
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := ingest.DecodeJSON(body, &alerts, true); err != nil {
			return nil, err
		}
	} else {
		var a Alert
		if err := ingest.DecodeJSON(body, &a, true); err != nil {
			return nil, err
		}
		alerts = []Alert{a}
	}
	var p ingest.Problems
	if len(alerts) == 0 {
		p.Addf("no alerts in body")
	}
	if len(alerts) > MaxAlerts {
		p.Addf("%d alerts in one request; the limit is %d", len(alerts), MaxAlerts)
	}
	prefix := func(i int) string {
		if len(alerts) == 1 {
			return ""
		}
		return "[" + strconv.Itoa(i) + "]."
	}
	for i, a := range alerts {
		if a.Status != "" && a.Status != "firing" && a.Status != "resolved" {
			p.Addf("%sstatus: got %q, want \"firing\" or \"resolved\"", prefix(i), a.Status)
		}
		if a.Key == "" && len(a.Labels) == 0 {
			p.Addf("%skey: missing, and no labels to derive it from", prefix(i))
		}
		if _, err := ingest.ParseTime(a.StartsAt); err != nil {
			p.Addf("%sstarts_at: %v", prefix(i), err)
		}
		if a.Status != "resolved" && strings.TrimSpace(a.Summary) == "" {
			p.Addf("%ssummary: missing (required when firing)", prefix(i))
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	signals := make([]klaxon.Signal, len(alerts))
	for i, a := range alerts {
		signals[i] = a.signal()
	}
	return signals, nil
}

func (a Alert) signal() klaxon.Signal {
	action := klaxon.ActionTrigger
	if a.Status == "resolved" {
		action = klaxon.ActionResolve
	}
	key := a.Key
	if key == "" {
		key = labelsKey(a.Labels)
	}
	labels := a.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	annotations := map[string]string{}
	for k, v := range a.Annotations {
		annotations[k] = v
	}
	if a.Summary != "" {
		annotations["summary"] = a.Summary
	}
	sig := klaxon.Signal{Key: key, Action: action, Severity: a.Severity, Summary: a.Summary,
		Labels: labels, Annotations: annotations, SourceURL: a.URL}
	sig.StartsAt, _ = ingest.ParseTime(a.StartsAt) // validated in Decode
	return sig
}

// labelsKey derives a stable identity from a label set, as Alertmanager's
// fingerprint does: the same labels are the same alert.
func labelsKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
