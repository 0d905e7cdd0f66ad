package incident

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
)

var (
	incidentsDeclared = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_incidents_declared_total",
		Help: "Incidents declared, by severity.",
	}, []string{"severity"})
	updatesMissed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "klaxon_incident_updates_missed_total",
		Help: "Status updates not posted by the time they were due.",
	})
	incidentPosts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_incident_posts_total",
		Help: "Incident messages posted to chat, by channel and outcome (ok, failed).",
	}, []string{"channel", "outcome"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{incidentsDeclared, updatesMissed, incidentPosts}
}

// clock formats a time as people read it in an incident: "14:32 UTC".
func clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

// headline names an incident in one line: "🔴 #7 INCIDENT: api - … (SEV1, investigating)".
func (s *Service) headline(inc *klaxon.Incident) string {
	return fmt.Sprintf("%s #%d %s (%s, %s)", mark(inc), inc.ID, inc.Title, s.levelName(inc.Level), inc.Status)
}

// mark is the incident's colour at a glance, most severe red.
func mark(inc *klaxon.Incident) string {
	if !inc.Open() {
		return "✅"
	}
	switch inc.Level {
	case 0:
		return "🔴"
	case 1:
		return "🟠"
	case 2:
		return "🟡"
	}
	return "🟢"
}

// declaredText is the declaration: what happened, the severity, the
// commander, and when the next update is due.
func (s *Service) declaredText(inc *klaxon.Incident) string {
	lines := []string{
		fmt.Sprintf("%s INCIDENT DECLARED #%d: %s", mark(inc), inc.ID, inc.Title),
		"Service: " + inc.Service,
		fmt.Sprintf("Severity: %s", s.levelName(inc.Level)),
		"Detected: " + inc.DetectedAt.UTC().Format("2006-01-02 15:04") + " UTC",
		"Status: " + string(inc.Status),
		"Commander: " + inc.Commander,
		"Reporter: " + inc.Reporter,
	}
	if len(inc.Alerts) > 0 {
		ids := make([]string, len(inc.Alerts))
		for i, id := range inc.Alerts {
			ids[i] = fmt.Sprint(id)
		}
		lines = append(lines, "Alerts: "+strings.Join(ids, ", "))
	}
	lines = append(lines, s.nextUpdateLine(inc))
	if inc.Room.Name != "" {
		lines = append(lines, "Room: "+inc.Room.Name)
	}
	if u := s.incidentURL(inc.ID); u != "" {
		lines = append(lines, "Page: "+u)
	}
	return strings.Join(lines, "\n")
}

// incidentURL links to the incident's page in Klaxon, or "" when no base
// URL is known.
func (s *Service) incidentURL(id int64) string {
	if s.baseURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/incidents/%d", strings.TrimSuffix(s.baseURL, "/"), id)
}

func (s *Service) nextUpdateLine(inc *klaxon.Incident) string {
	if inc.NextUpdateAt.IsZero() {
		return "Next update: when there is news"
	}
	return "Next update: " + clock(inc.NextUpdateAt)
}

// roomText is the room's first message: the declaration and how to run it
// from there.
func (s *Service) roomText(inc *klaxon.Incident) string {
	return s.declaredText(inc) + "\n\nIn this room: `update TEXT`, `status identified`, `role comms @bob`, `checklist`, `check 2`, `note TEXT`, `resolve cause: …; fix: …; impact: …`."
}

func (s *Service) updateText(inc *klaxon.Incident, actor, text string) string {
	return fmt.Sprintf("%s\nUpdate from %s: %s\n%s", s.headline(inc), actor, text, s.nextUpdateLine(inc))
}

// topic is the room's topic: the title and who holds which role.
func (s *Service) topic(inc *klaxon.Incident) string {
	parts := []string{inc.Title, s.levelName(inc.Level), string(inc.Status)}
	if inc.Commander != "" {
		parts = append(parts, "Commander: "+inc.Commander)
	}
	if inc.CommsLead != "" {
		parts = append(parts, "Comms: "+inc.CommsLead)
	}
	if len(inc.Responders) > 0 {
		parts = append(parts, "Responders: "+strings.Join(inc.Responders, ", "))
	}
	return strings.Join(parts, " | ")
}

// maxRoomName is Slack's limit on a channel name.
const maxRoomName = 80

// roomName is "incident-YYYYMMDD-<slug>": the date of declaration and the
// service and summary in lowercase letters, digits and dashes.
func roomName(inc *klaxon.Incident, now time.Time) string {
	name := "incident-" + now.UTC().Format("20060102") + "-"
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(inc.Service + " " + inc.Summary) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.Trim(b.String(), "-")
	if room := maxRoomName - len(name); len(slug) > room {
		slug = strings.Trim(slug[:room], "-")
	}
	return name + slug
}
