package config

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"gopkg.in/yaml.v3"
)

// Channel is one place notifications go. Name and Type are common; the other
// keys belong to the channel's type, and that type's package decodes them
// with Decode, so adding a platform needs no change here.
type Channel struct {
	Name string
	Type string

	file string
	path string // e.g. channels[2]
	node *yaml.Node
}

// UnmarshalYAML keeps the mapping for Decode.
func (c *Channel) UnmarshalYAML(n *yaml.Node) error {
	var common struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	}
	// Decode only the common keys: a non-strict decode ignores the rest.
	if err := n.Decode(&common); err != nil {
		return err
	}
	c.Name, c.Type, c.node = common.Name, common.Type, n
	return nil
}

// MarshalYAML shows only the common keys: the rest may hold secrets.
func (c Channel) MarshalYAML() (any, error) {
	return map[string]string{"name": c.Name, "type": c.Type}, nil
}

// Decode decodes the channel's keys into v, a pointer to a struct with yaml
// tags (name and type are accepted and ignored). Unknown keys and type
// errors come back as an *Error naming each key and line.
func (c Channel) Decode(v any) error {
	d := &doc{name: c.file, lines: map[string]int{}}
	if c.node == nil {
		return nil
	}
	t := reflect.TypeOf(v).Elem()
	for i := 0; i+1 < len(c.node.Content); i += 2 {
		k, val := c.node.Content[i], c.node.Content[i+1]
		key := c.path + "." + k.Value
		d.lines[key] = k.Line
		if k.Value == "name" || k.Value == "type" {
			continue
		}
		f, ok := fieldByTag(t, k.Value)
		if !ok {
			d.addf(key, "unknown key for a %s channel", c.Type)
			continue
		}
		var probe yaml.Node = *val
		if err := probe.Decode(reflect.New(f.Type).Interface()); err != nil {
			// The decoder quotes the value, which may be a secret.
			d.addf(key, "%s", quotedValue.ReplaceAllString(trimYAML(err), "the value"))
		}
	}
	if len(d.problems) == 0 {
		if err := c.node.Decode(v); err != nil {
			d.addYAMLError(err)
		}
	}
	if len(d.problems) > 0 {
		return &Error{File: c.file, Problems: d.problems}
	}
	return nil
}

// Errorf reports a problem with one of the channel's keys, with its line.
func (c Channel) Errorf(key, format string, args ...any) error {
	line := 0
	if c.node != nil {
		line = c.node.Line
		for i := 0; i+1 < len(c.node.Content); i += 2 {
			if c.node.Content[i].Value == key {
				line = c.node.Content[i].Line
			}
		}
	}
	return &Error{File: c.file, Problems: []Problem{{Key: c.path + "." + key, Line: line, Message: fmt.Sprintf(format, args...)}}}
}

// Route is a node of the routing tree, in Alertmanager's shape: an alert
// goes down the first child whose matchers match (and on to the next while
// continue is set); where no child matches, the node itself takes it.
// Unset settings are inherited from the parent.
type Route struct {
	Matchers       []string       `yaml:"matchers"` // Alertmanager syntax: severity="critical", namespace=~"prod-.*"
	Receiver       StringList     `yaml:"receiver"` // channel names
	Continue       bool           `yaml:"continue"`
	GroupBy        []string       `yaml:"group_by"` // ["..."] groups by every label
	GroupWait      *time.Duration `yaml:"group_wait"`
	GroupInterval  *time.Duration `yaml:"group_interval"`
	RepeatInterval *time.Duration `yaml:"repeat_interval"`
	// Escalation names the escalation policy of the route's groups.
	Escalation string   `yaml:"escalation"`
	Routes     []*Route `yaml:"routes"`
}

// StringList is a list that may be written as a single string.
type StringList []string

// UnmarshalYAML accepts `x` as well as `[x, y]`.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = StringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

func trimYAML(err error) string {
	var te *yaml.TypeError
	if e, ok := err.(*yaml.TypeError); ok {
		te = e
	}
	if te != nil && len(te.Errors) > 0 {
		msg := te.Errors[0]
		var line int
		if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
			for i := 0; i < len(msg)-1; i++ {
				if msg[i] == ':' && msg[i+1] == ' ' {
					return msg[i+2:]
				}
			}
		}
		return msg
	}
	return err.Error()
}

func (c *Config) validateChannels(d *doc) {
	if _, err := url.Parse(c.URL); err != nil || !strings.HasPrefix(c.URL, "http") {
		d.addf("url", "%q is not an http(s) URL", c.URL)
	}
	names := map[string]bool{}
	for i, ch := range c.Channels {
		key := fmt.Sprintf("channels[%d]", i)
		d.checkName(key+".name", ch.Name, names)
		if ch.Type == "" {
			d.addf(key+".type", "missing")
		}
	}
	if c.Routes != nil {
		c.Routes.validate(d, "routes", names, c.policyNames(), true)
	}
}

func (r *Route) validate(d *doc, key string, channels map[string]bool, policies *known, root bool) {
	for i, m := range r.Matchers {
		if _, err := labels.ParseMatcher(m); err != nil {
			d.addf(fmt.Sprintf("%s.matchers[%d]", key, i), "%v", err)
		}
	}
	if root && len(r.Matchers) > 0 {
		d.addf(key+".matchers", "the root route takes every alert; put matchers on its routes")
	}
	if root && r.Continue {
		d.addf(key+".continue", "the root route cannot continue")
	}
	for i, name := range r.Receiver {
		if !channels[name] {
			d.addf(fmt.Sprintf("%s.receiver[%d]", key, i), "no channel is named %q", name)
		}
	}
	for i, l := range r.GroupBy {
		if l != "..." && !labelName.MatchString(l) {
			d.addf(fmt.Sprintf("%s.group_by[%d]", key, i), "%q is not a label name", l)
		}
	}
	for name, v := range map[string]*time.Duration{"group_wait": r.GroupWait, "group_interval": r.GroupInterval, "repeat_interval": r.RepeatInterval} {
		if v != nil && *v < 0 {
			d.addf(key+"."+name, "must not be negative")
		}
	}
	if r.RepeatInterval != nil && *r.RepeatInterval > 0 && *r.RepeatInterval < time.Minute {
		d.addf(key+".repeat_interval", "must be at least 1m (or 0 for never)")
	}
	if r.Escalation != "" {
		policies.refer(d, key+".escalation", r.Escalation)
	}
	for i, child := range r.Routes {
		child.validate(d, fmt.Sprintf("%s.routes[%d]", key, i), channels, policies, false)
	}
}

var quotedValue = regexp.MustCompile("`[^`]*`")

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
