package webui

import (
	"fmt"
	"html/template"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// funcs are the helpers every template may use.
func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		// ago says how long before now t was: "3m", "2h 5m", "4d".
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return shortDuration(u.Now().Sub(t))
		},
		"duration": shortDuration,
		// at formats t in zone: "Mon 21 Nov 14:03".
		"at": func(t time.Time, zone *time.Location) string {
			if t.IsZero() {
				return ""
			}
			if zone == nil {
				zone = time.Local
			}
			return t.In(zone).Format("Mon 2 Jan 15:04")
		},
		// zoneName names a time zone for people: "Europe/Berlin", or the
		// server's abbreviation ("CET") for its local zone.
		"zoneName": func(zone *time.Location) string {
			if zone == nil || zone == time.Local {
				return u.Now().In(time.Local).Format("MST")
			}
			return zone.String()
		},
		// severity names an alert's level the way the team does: "P0".
		"severity": u.severityName,
		// alertButtons is the data of the "alert-buttons" template.
		"alertButtons": func(a *klaxon.Alert, csrf, next string) alertButtons {
			return alertButtons{Alert: a, CSRF: csrf, Next: next}
		},
		// iso is t for a <time datetime> attribute.
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
}

// shortDuration rounds d for people: "45s", "12m", "3h 5m", "4d 2h".
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, h)
	}
}

// severityName is the display name of an alert level.
func (u *UI) severityName(l klaxon.Level) string {
	if u.Alerts == nil {
		return klaxon.DefaultSeverityPolicy().Name(l)
	}
	return u.Alerts.Severity().Name(l)
}

// alertButtons is an alert's ack/unack and resolve forms.
type alertButtons struct {
	Alert *klaxon.Alert
	CSRF  string
	Next  string // where the forms come back to
}
