package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultRateLimit is an integration's limit unless it sets rate_limit.
//
// It counts requests, not alerts, as PagerDuty counts events per routing
// key: Alertmanager sends one request per alert group however many alerts
// it holds, so even a storm of 10,000 alerts in 10 s with every alert its
// own group (group_by: ['...']) stays under it. It must: Alertmanager's
// webhook sender does not retry a 429 but waits for the group's next
// group_interval. What it stops is a runaway sender taking the whole
// server from every other integration.
var DefaultRateLimit = RateLimit{Requests: 1000, Per: time.Second}

// RateLimit bounds how fast one integration may send: up to Requests at
// once, then Requests per Per (a token bucket). It is written 100/s,
// 6000/m or off; the zero RateLimit is off.
type RateLimit struct {
	Requests int
	Per      time.Duration // time.Second or time.Minute
}

var rateUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute}

// ParseRateLimit reads a rate limit: requests per second (100/s), per
// minute (6000/m), or off.
func ParseRateLimit(s string) (RateLimit, error) {
	if s == "off" {
		return RateLimit{}, nil
	}
	count, unit, _ := strings.Cut(s, "/")
	per, ok := rateUnits[unit]
	n, err := strconv.Atoi(count)
	switch {
	case !ok || err != nil:
		return RateLimit{}, fmt.Errorf("%q: want requests per second or minute (100/s, 6000/m) or off", s)
	case n < 1:
		return RateLimit{}, fmt.Errorf("%q: allow at least 1 request, or write off for no limit", s)
	}
	return RateLimit{Requests: n, Per: per}, nil
}

// String writes l as ParseRateLimit reads it.
func (l RateLimit) String() string {
	if l.Requests == 0 {
		return "off"
	}
	for unit, per := range rateUnits {
		if l.Per == per {
			return fmt.Sprintf("%d/%s", l.Requests, unit)
		}
	}
	return fmt.Sprintf("%d/%s", l.Requests, l.Per)
}

// UnmarshalYAML reads what ParseRateLimit reads. Parse's walk has already
// reported a bad value with its key; this catches what the walk does not
// look at (a list).
func (l *RateLimit) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: rate_limit: want 100/s, 6000/m or off", n.Line)}}
	}
	r, err := ParseRateLimit(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: rate_limit: %v", n.Line, err)}}
	}
	*l = r
	return nil
}

// MarshalYAML writes the limit as it is configured.
func (l RateLimit) MarshalYAML() (any, error) { return l.String(), nil }

// UnmarshalYAML starts from DefaultRateLimit, so an integration without
// rate_limit has the default while rate_limit: off (the zero RateLimit)
// stays off.
func (in *Integration) UnmarshalYAML(n *yaml.Node) error {
	type plain Integration // the same fields without this method
	p := plain{RateLimit: DefaultRateLimit}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*in = Integration(p)
	return nil
}

// checkRateLimit reports a bad rate_limit at its key and line; the
// decoder's own error would name neither.
func (d *doc) checkRateLimit(n *yaml.Node, path string) {
	if _, err := ParseRateLimit(n.Value); err != nil {
		d.addf(path, "%v", err)
	}
}
