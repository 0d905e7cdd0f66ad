package klaxon

import (
	"fmt"
	"strings"
)

// Level is a severity on Klaxon's ladder: 0 is the most severe (P0, SEV1).
type Level int

// SeverityPolicy maps a source's severity word to a Level and names the
// levels the way a team speaks (P0–P3 by default, SEV1–SEV4 just as well).
type SeverityPolicy struct {
	Label   string   // the label that carries severity, "severity" by default
	Names   []string // display name of each level, most severe first
	Values  []map[string]bool
	Default Level // for a missing or unknown severity
}

// DefaultSeverityPolicy is P0–P3 with the words Alertmanager rules and the
// PagerDuty Events API use: critical → P0, error → P1, warning → P2, info → P3.
// An alert that names no severity is P2: not ignorable, not a page.
func DefaultSeverityPolicy() SeverityPolicy {
	return SeverityPolicy{
		Label: "severity",
		Names: []string{"P0", "P1", "P2", "P3"},
		Values: []map[string]bool{
			{"critical": true, "page": true, "p0": true, "sev1": true},
			{"error": true, "high": true, "major": true, "p1": true, "sev2": true},
			{"warning": true, "warn": true, "medium": true, "minor": true, "p2": true, "sev3": true},
			{"info": true, "low": true, "none": true, "p3": true, "sev4": true},
		},
		Default: 2,
	}
}

// Level returns the level for a source's severity word (case-insensitive).
func (p SeverityPolicy) Level(severity string) Level {
	s := strings.ToLower(strings.TrimSpace(severity))
	for i, vals := range p.Values {
		if vals[s] {
			return Level(i)
		}
	}
	return p.Default
}

// Name returns the display name of a level.
func (p SeverityPolicy) Name(l Level) string {
	if int(l) >= 0 && int(l) < len(p.Names) {
		return p.Names[l]
	}
	return fmt.Sprintf("L%d", l)
}
