// Package config loads Klaxon's YAML configuration: ${ENV} expansion so
// secrets stay out of the file, defaults, and validation whose errors name
// the key and line. Secrets never print: Secret redacts itself.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon"
)

// Integration types: the sender formats Klaxon ingests.
const (
	TypeAlertmanager = "alertmanager"
	TypeEventsV2     = "events-v2"
	TypeGeneric      = "generic"
)

// Defaults for a first look.
const (
	DefaultListen  = "127.0.0.1:8080"
	DefaultDataDir = "klaxon-data"
)

// Config is the whole configuration. Later features add top-level keys
// (channels, routes, schedules…) without changing these.
type Config struct {
	Listen       string        `yaml:"listen"`
	Database     string        `yaml:"database"`
	APITokens    []APIToken    `yaml:"api_tokens"`
	Integrations []Integration `yaml:"integrations"`
	Heartbeats   []Heartbeat   `yaml:"heartbeats"`
	Severity     Severity      `yaml:"severity"`
	// URL is where people reach this Klaxon, for links in messages
	// (default http://<listen>).
	URL         string      `yaml:"url"`
	Channels    []Channel   `yaml:"channels"`
	Routes      *Route      `yaml:"routes"`
	Runbooks    Runbooks    `yaml:"runbooks"`
	Diagnostics Diagnostics `yaml:"diagnostics"`

	Users              []User             `yaml:"users"`
	Schedules          []Schedule         `yaml:"schedules"`
	EscalationPolicies []EscalationPolicy `yaml:"escalation_policies"`
	BusinessHours      BusinessHours      `yaml:"business_hours"`
	Calendar           Calendar           `yaml:"calendar"`

	Incidents  Incidents  `yaml:"incidents"`
	StatusPage StatusPage `yaml:"status_page"`

	Auth Auth `yaml:"auth"`
}

// APIToken lets a person or script use the API; its name is recorded as the
// actor of what it does.
type APIToken struct {
	Name  string      `yaml:"name"`
	Token Secret      `yaml:"token"`
	Role  klaxon.Role `yaml:"role,omitempty"` // admin by default
}

// Integration is one alert source with its own token.
type Integration struct {
	Name  string `yaml:"name"`
	Type  string `yaml:"type"`
	Token Secret `yaml:"token"`
	// RateLimit bounds the requests its token may make: 100/s, 6000/m or
	// off (DefaultRateLimit when unset). Each replica counts its own.
	RateLimit RateLimit `yaml:"rate_limit"`
}

// Heartbeat is a check-in that must arrive every Timeout.
type Heartbeat struct {
	Name      string        `yaml:"name"`
	AlertName string        `yaml:"alertname"`
	Timeout   time.Duration `yaml:"timeout"`
	Severity  string        `yaml:"severity"`
}

// Severity maps source severities onto Klaxon's levels, most severe first.
type Severity struct {
	Label   string          `yaml:"label"`
	Default string          `yaml:"default"`
	Levels  []SeverityLevel `yaml:"levels"`
	// AckDeadlines maps a level name to how long an unacknowledged group
	// waits before its escalation's next step: a duration,
	// next_business_day or none (never escalates). See DefaultAckDeadlines.
	AckDeadlines map[string]string `yaml:"ack_deadlines"`
}

// SeverityLevel is one rung of the ladder and the words that mean it.
type SeverityLevel struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

// DefaultLevelNames names the default severity ladder (see
// klaxon.DefaultSeverityPolicy).
var DefaultLevelNames = []string{"P0", "P1", "P2", "P3"}

// Secret is a string that never prints.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// MarshalYAML redacts the secret in Config.String and any YAML output.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// String renders the configuration with every secret redacted.
func (c *Config) String() string {
	redacted := *c
	redacted.Database = redactURL(c.Database)
	b, err := yaml.Marshal(&redacted)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return string(b)
}

// Check validates what this package cannot: e.g. each channel's own keys,
// which its platform package knows. Its *Error problems are reported with
// the file's other problems.
type Check func(*Config) error

// Load reads, expands, decodes, defaults and validates the file at path,
// then runs checks. Every problem found is reported in one *Error.
func Load(path string, checks ...Check) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv, checks...)
}

// Parse is Load on bytes, with lookup for ${ENV} expansion.
func Parse(name string, data []byte, lookup func(string) (string, bool), checks ...Check) (*Config, error) {
	d := &doc{name: name, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: name, Problems: []Problem{{Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	cfg := &Config{}
	if len(root.Content) > 0 {
		d.walk(root.Content[0], "", typeOfConfig, lookup)
		if len(d.problems) == 0 {
			if err := root.Content[0].Decode(cfg); err != nil {
				d.addYAMLError(err)
			}
		}
	}
	for i := range cfg.Channels {
		cfg.Channels[i].file, cfg.Channels[i].path = name, fmt.Sprintf("channels[%d]", i)
	}
	if len(d.problems) == 0 {
		cfg.setDefaults()
		cfg.validate(d)
		for _, check := range checks {
			var ce *Error
			if err := check(cfg); errors.As(err, &ce) {
				d.problems = append(d.problems, ce.Problems...)
			} else if err != nil {
				d.problems = append(d.problems, Problem{Message: err.Error()})
			}
		}
	}
	if len(d.problems) > 0 {
		return nil, &Error{File: name, Problems: d.problems}
	}
	return cfg, nil
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Database == "" {
		c.Database = "sqlite://" + DefaultDataDir + "/klaxon.db"
	}
	if c.URL == "" {
		c.URL = "http://" + c.Listen
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	if c.Routes == nil && len(c.Channels) > 0 {
		// No routes: every alert goes to every channel.
		c.Routes = &Route{}
		for _, ch := range c.Channels {
			c.Routes.Receiver = append(c.Routes.Receiver, ch.Name)
		}
	}
	if c.Severity.Label == "" {
		c.Severity.Label = "severity"
	}
	c.Diagnostics.setDefaults()
	c.setOncallDefaults()
	c.setIncidentDefaults()
	c.setAuthDefaults()
	for i := range c.Heartbeats {
		if c.Heartbeats[i].Severity == "" {
			c.Heartbeats[i].Severity = "critical"
		}
	}
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// minTokenLen keeps guessable tokens out: 16 characters of a random token
// is already 80+ bits.
const minTokenLen = 16

func (c *Config) validate(d *doc) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		d.addf("listen", "%q is not host:port", c.Listen)
	}
	if _, _, err := ParseDatabase(c.Database); err != nil {
		d.addf("database", "%v", err)
	}
	tokens := map[Secret]string{}
	checkToken := func(key string, t Secret) {
		switch {
		case t == "":
			d.addf(key, "missing")
		case len(t) < minTokenLen:
			d.addf(key, "too short (%d characters; use at least %d, e.g. `openssl rand -hex 16`)", len(t), minTokenLen)
		case tokens[t] != "":
			d.addf(key, "the same token is already used by %s; every token must identify one sender", tokens[t])
		default:
			tokens[t] = key
		}
	}
	names := map[string]bool{}
	for i, t := range c.APITokens {
		key := fmt.Sprintf("api_tokens[%d]", i)
		d.checkName(key+".name", t.Name, names)
		checkToken(key+".token", t.Token)
	}
	// API tokens and integrations share one namespace: a name is an actor
	// in history and what `klaxon config token NAME` looks up.
	for i, in := range c.Integrations {
		key := fmt.Sprintf("integrations[%d]", i)
		d.checkName(key+".name", in.Name, names)
		if !slices.Contains([]string{TypeAlertmanager, TypeEventsV2, TypeGeneric}, in.Type) {
			d.addf(key+".type", "got %q, want one of %s, %s, %s", in.Type, TypeAlertmanager, TypeEventsV2, TypeGeneric)
		}
		checkToken(key+".token", in.Token)
	}
	names = map[string]bool{}
	alertNames := map[string]bool{}
	for i, hb := range c.Heartbeats {
		key := fmt.Sprintf("heartbeats[%d]", i)
		d.checkName(key+".name", hb.Name, names)
		if hb.Timeout < time.Second {
			d.addf(key+".timeout", "must be at least 1s (got %s)", hb.Timeout)
		}
		if hb.AlertName != "" {
			if alertNames[hb.AlertName] {
				d.addf(key+".alertname", "%q already feeds another heartbeat", hb.AlertName)
			}
			alertNames[hb.AlertName] = true
		}
	}
	c.Severity.validate(d)
	c.validateChannels(d)
	c.validateRunbooks(d)
	c.validateOncall(d)
	c.validateIncidents(d)
	c.validateAuth(d)
}

func (d *doc) checkName(key, name string, seen map[string]bool) {
	switch {
	case name == "":
		d.addf(key, "missing")
	case !namePattern.MatchString(name):
		d.addf(key, "%q: use letters, digits, '.', '_' and '-'", name)
	case seen[name]:
		d.addf(key, "%q is used twice", name)
	}
	seen[name] = true
}

func (s *Severity) validate(d *doc) {
	seen, names := map[string]string{}, map[string]bool{}
	for i, l := range s.Levels {
		key := fmt.Sprintf("severity.levels[%d]", i)
		d.checkName(key+".name", l.Name, names)
		for j, v := range l.Values {
			v = strings.ToLower(v)
			if other, ok := seen[v]; ok {
				d.addf(fmt.Sprintf("%s.values[%d]", key, j), "%q already means %s", v, other)
			}
			seen[v] = l.Name
		}
	}
	if len(s.Levels) == 0 {
		for _, n := range DefaultLevelNames {
			names[n] = true
		}
	}
	if s.Default != "" && !names[s.Default] {
		d.addf("severity.default", "%q is not one of the levels", s.Default)
	}
}

// ParseDatabase splits a database URL into its kind ("sqlite" or
// "postgres") and what the driver needs: a file path or the URL itself.
func ParseDatabase(url string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" {
			return "", "", fmt.Errorf("sqlite:// needs a file path, e.g. sqlite:///var/lib/klaxon/klaxon.db")
		}
		return "sqlite", path, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "postgres", url, nil
	}
	return "", "", fmt.Errorf("%q: want sqlite:///path/klaxon.db or postgres://user@host/db", redactURL(url))
}

// redactURL hides a password in a URL-shaped string.
func redactURL(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if scheme := strings.Index(s, "://"); scheme >= 0 && scheme < at {
			if colon := strings.Index(s[scheme+3:at], ":"); colon >= 0 {
				s = s[:scheme+3+colon] + ":<redacted>" + s[at:]
			}
		}
	}
	return dsnPassword.ReplaceAllString(s, "${1}<redacted>")
}

// dsnPassword finds a password given as a parameter, which PostgreSQL
// takes too: in a URL's query (?password=…) or a key=value DSN.
var dsnPassword = regexp.MustCompile(`(?i)((?:^|[?&\s])(?:ssl)?password=)([^&\s]*)`)

// secretKey names channel keys that hold credentials.
var secretKey = regexp.MustCompile(`(?i)token|secret|password|key|webhook_url|url`)

// Secrets lists every credential in the configuration, so output Klaxon
// shows from elsewhere (diagnostics) can be scrubbed of them.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	for _, t := range c.APITokens {
		add(string(t.Token))
	}
	for _, in := range c.Integrations {
		add(string(in.Token))
	}
	add(string(c.Calendar.Secret))
	if c.Auth.OIDC != nil {
		add(string(c.Auth.OIDC.ClientSecret))
	}
	if u, err := url.Parse(c.Database); err == nil && u.User != nil {
		if pass, ok := u.User.Password(); ok {
			add(pass)
		}
	}
	for _, m := range dsnPassword.FindAllStringSubmatch(c.Database, -1) {
		if pass, err := url.QueryUnescape(m[2]); err == nil {
			add(pass)
		}
		add(m[2])
	}
	for _, ch := range c.Channels {
		if ch.node == nil {
			continue
		}
		for i := 0; i+1 < len(ch.node.Content); i += 2 {
			k, v := ch.node.Content[i], ch.node.Content[i+1]
			switch {
			case v.Kind == yaml.ScalarNode && secretKey.MatchString(k.Value):
				add(v.Value)
			case v.Kind == yaml.MappingNode && k.Value == "headers":
				// A webhook's headers carry its receiver's credentials.
				for j := 1; j < len(v.Content); j += 2 {
					add(v.Content[j].Value)
				}
			}
		}
	}
	return out
}
