package notify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon/internal/config"
)

// Defaults of the root route. Klaxon usually sits behind Alertmanager, which
// already waited group_wait before sending, so Klaxon posts at once and
// coalesces later changes for group_interval.
const (
	DefaultGroupWait      = 0
	DefaultGroupInterval  = 30 * time.Second
	DefaultRepeatInterval = 4 * time.Hour
)

// DefaultGroupBy groups alerts by name: a storm of one rule is one message.
var DefaultGroupBy = []string{"alertname"}

// Route is a compiled node of the routing tree, its settings inherited.
type Route struct {
	Path           string // "0", "0.1", … stable while the tree's shape is
	Matchers       labels.Matchers
	Receivers      []string
	Continue       bool
	GroupBy        []string // nil with GroupByAll
	GroupByAll     bool     // group_by: ['...']: every alert is its own group
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	Escalation     string // the escalation policy of the route's groups, or ""
	Routes         []*Route
}

// CompileRoutes builds the routing tree from configuration (validated by
// the config package, so matchers parse).
func CompileRoutes(c *config.Route) (*Route, error) {
	if c == nil {
		return nil, nil
	}
	root := &Route{
		Path:           "0",
		GroupBy:        DefaultGroupBy,
		GroupWait:      DefaultGroupWait,
		GroupInterval:  DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval,
	}
	return root, root.compile(c)
}

func (r *Route) compile(c *config.Route) error {
	for _, m := range c.Matchers {
		pm, err := labels.ParseMatcher(m)
		if err != nil {
			return fmt.Errorf("route %s: %w", r.Path, err)
		}
		r.Matchers = append(r.Matchers, pm)
	}
	r.Continue = c.Continue
	if len(c.Receiver) > 0 {
		r.Receivers = c.Receiver
	}
	if c.GroupBy != nil {
		r.GroupBy, r.GroupByAll = c.GroupBy, slices.Contains(c.GroupBy, "...")
		if r.GroupByAll {
			r.GroupBy = nil
		}
	}
	if c.Escalation != "" {
		r.Escalation = c.Escalation
	}
	for _, d := range []struct {
		from *time.Duration
		to   *time.Duration
	}{{c.GroupWait, &r.GroupWait}, {c.GroupInterval, &r.GroupInterval}, {c.RepeatInterval, &r.RepeatInterval}} {
		if d.from != nil {
			*d.to = *d.from
		}
	}
	for i, cc := range c.Routes {
		child := *r // inherit everything but what is the node's own
		child.Path = fmt.Sprintf("%s.%d", r.Path, i)
		child.Matchers, child.Continue, child.Routes = nil, false, nil
		if err := child.compile(cc); err != nil {
			return err
		}
		r.Routes = append(r.Routes, &child)
	}
	return nil
}

// Match returns the routes that take an alert with these labels, as
// Alertmanager does: depth first, the first matching child (and the next
// ones while continue is set); a node with no matching child takes the
// alert itself.
func (r *Route) Match(lset map[string]string) []*Route {
	for _, m := range r.Matchers {
		if !m.Matches(lset[m.Name]) {
			return nil
		}
	}
	var out []*Route
	for _, child := range r.Routes {
		m := child.Match(lset)
		out = append(out, m...)
		if len(m) > 0 && !child.Continue {
			break
		}
	}
	if len(out) == 0 {
		out = []*Route{r}
	}
	return out
}

// Find returns the route at path, or nil if the tree has none there.
func (r *Route) Find(path string) *Route {
	if r == nil {
		return nil
	}
	if r.Path == path {
		return r
	}
	for _, child := range r.Routes {
		if strings.HasPrefix(path, child.Path) {
			if f := child.Find(path); f != nil {
				return f
			}
		}
	}
	return nil
}

// GroupKey returns the key of an alert's group on this route and the group's
// labels. With group_by ['...'] each alert is its own group (key: the
// alert's integration and source key).
func (r *Route) GroupKey(integration, alertKey string, lset map[string]string) (string, map[string]string) {
	if r.GroupByAll {
		return "alert:" + integration + "/" + alertKey, maps.Clone(lset)
	}
	group := make(map[string]string, len(r.GroupBy))
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range slices.Sorted(slices.Values(r.GroupBy)) {
		v := lset[name]
		group[name] = v
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", name, v)
	}
	b.WriteByte('}')
	return b.String(), group
}
