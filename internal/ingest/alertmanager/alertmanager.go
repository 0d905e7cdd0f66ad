// Package alertmanager decodes Alertmanager's webhook payload (version 4)
// into signals. The alert's identity is Alertmanager's fingerprint, a hash of
// its label set, so the same alert from every notification maps to one
// Klaxon alert.
package alertmanager

import (
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest"
)

// Message is the webhook body, as Alertmanager documents it.
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"` // RFC 3339; parsed in Decode so errors name the field
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Decode parses and validates a webhook body.
func Decode(body []byte) (*Message, []klaxon.Signal, error) {
	var m Message
	if err := ingest.DecodeJSON(body, &m, false); err != nil {
		return nil, nil, err
	}
	var p ingest.Problems
	if m.Version != "4" {
		p.Addf("version: got %q, want \"4\" (Alertmanager webhook payload version 4)", m.Version)
	}
	if m.Alerts == nil {
		p.Addf("alerts: missing")
	}
	for i, a := range m.Alerts {
		if a.Fingerprint == "" {
			p.Addf("alerts[%d].fingerprint: missing", i)
		}
		if a.Status != "firing" && a.Status != "resolved" {
			p.Addf("alerts[%d].status: got %q, want \"firing\" or \"resolved\"", i, a.Status)
		}
		if len(a.Labels) == 0 {
			p.Addf("alerts[%d].labels: missing or empty", i)
		}
		starts, err := ingest.ParseTime(a.StartsAt)
		switch {
		case err != nil:
			p.Addf("alerts[%d].startsAt: %v", i, err)
		case starts.IsZero():
			p.Addf("alerts[%d].startsAt: missing", i)
		}
		if _, err := ingest.ParseTime(a.EndsAt); err != nil {
			p.Addf("alerts[%d].endsAt: %v", i, err)
		}
	}
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	signals := make([]klaxon.Signal, len(m.Alerts))
	for i, a := range m.Alerts {
		action := klaxon.ActionTrigger
		if a.Status == "resolved" {
			action = klaxon.ActionResolve
		}
		signals[i] = klaxon.Signal{
			Key:         a.Fingerprint,
			Action:      action,
			Summary:     summary(a),
			Labels:      a.Labels,
			Annotations: orEmpty(a.Annotations),
			SourceURL:   a.GeneratorURL,
			StartsAt:    must(ingest.ParseTime(a.StartsAt)),
		}
	}
	return &m, signals, nil
}

// summary is the one-line "what": the summary annotation, or what older
// rule sets (kube-prometheus' "message") or descriptions say, or the name.
func summary(a Alert) string {
	for _, k := range []string{"summary", "message", "description"} {
		if s := a.Annotations[k]; s != "" {
			return s
		}
	}
	return a.Labels["alertname"]
}

// must unwraps a time Decode already validated.
func must(t time.Time, _ error) time.Time { return t }

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
