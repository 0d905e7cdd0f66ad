package notify

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/config"
)

func compile(t *testing.T, yaml string) *Route {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	r, err := CompileRoutes(cfg.Routes)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const routesYAML = `
channels:
  - {name: ops, type: matrix}
  - {name: slack, type: slack}
  - {name: pager, type: pagerduty}
  - {name: db, type: webhook}
routes:
  receiver: ops
  group_by: [alertname, namespace]
  routes:
    - matchers: ['severity="critical"']
      receiver: [slack, pager]
      continue: true
      group_wait: 10s
    - matchers: ['namespace=~"prod-.*"', 'team!="web"']
      receiver: db
      group_by: ['...']
      routes:
        - matchers: [alertname="Watchdog"]
          receiver: []
          repeat_interval: 0s
`

func TestRouteMatch(t *testing.T) {
	root := compile(t, routesYAML)
	tests := []struct {
		name   string
		labels map[string]string
		want   []string // route paths
	}{
		{"no child matches: root", map[string]string{"alertname": "A", "severity": "warning"}, []string{"0"}},
		{"critical continues to the next match", map[string]string{"alertname": "A", "severity": "critical", "namespace": "prod-eu"}, []string{"0.0", "0.1"}},
		{"critical alone", map[string]string{"alertname": "A", "severity": "critical", "namespace": "dev"}, []string{"0.0"}},
		{"regex is anchored", map[string]string{"alertname": "A", "namespace": "xprod-eu"}, []string{"0"}},
		{"negative matcher", map[string]string{"alertname": "A", "namespace": "prod-eu", "team": "web"}, []string{"0"}},
		{"deepest match", map[string]string{"alertname": "Watchdog", "namespace": "prod-eu"}, []string{"0.1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range root.Match(tt.labels) {
				got = append(got, r.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRouteInheritance(t *testing.T) {
	root := compile(t, routesYAML)
	crit, db, watchdog := root.Find("0.0"), root.Find("0.1"), root.Find("0.1.0")
	if crit == nil || db == nil || watchdog == nil || root.Find("0.2") != nil {
		t.Fatalf("Find: %v %v %v", crit, db, watchdog)
	}
	if crit.GroupWait != 10*time.Second || crit.GroupInterval != DefaultGroupInterval || !slices.Equal(crit.GroupBy, []string{"alertname", "namespace"}) {
		t.Errorf("critical route settings: wait %s interval %s group_by %v", crit.GroupWait, crit.GroupInterval, crit.GroupBy)
	}
	if !slices.Equal(crit.Receivers, []string{"slack", "pager"}) || !slices.Equal(db.Receivers, []string{"db"}) {
		t.Errorf("receivers: %v %v", crit.Receivers, db.Receivers)
	}
	if !watchdog.GroupByAll || !slices.Equal(watchdog.Receivers, []string{"db"}) || watchdog.RepeatInterval != 0 {
		t.Errorf("watchdog inherits group_by ... and receiver, overrides repeat: %+v", watchdog)
	}
	if root.GroupWait != DefaultGroupWait || root.RepeatInterval != DefaultRepeatInterval {
		t.Errorf("root defaults: %+v", root)
	}
}

func TestGroupKey(t *testing.T) {
	root := compile(t, routesYAML)
	a := map[string]string{"alertname": "A", "namespace": "prod", "pod": "p1"}
	b := map[string]string{"alertname": "A", "namespace": "prod", "pod": "p2"}
	ka, la := root.GroupKey("am", "k1", a)
	kb, _ := root.GroupKey("am", "k2", b)
	if ka != kb || ka != `{alertname="A",namespace="prod"}` {
		t.Errorf("same alertname+namespace must share a group: %q %q", ka, kb)
	}
	if len(la) != 2 || la["namespace"] != "prod" {
		t.Errorf("group labels = %v", la)
	}
	// Values are quoted, so a value holding the separator cannot collide.
	k1, _ := root.GroupKey("am", "x", map[string]string{"alertname": `A",namespace="prod`})
	if k1 == ka {
		t.Error("crafted label value collides with another group")
	}
	all := root.Find("0.1")
	ka, _ = all.GroupKey("am", "k1", a)
	kb, _ = all.GroupKey("am", "k2", b)
	if ka == kb {
		t.Error(`group_by ['...'] must give each alert its own group`)
	}
}

func TestNoRoutesGoesEverywhere(t *testing.T) {
	root := compile(t, "channels:\n  - {name: a, type: matrix}\n  - {name: b, type: slack}\n")
	got := root.Match(map[string]string{"alertname": "X"})
	if len(got) != 1 || !slices.Equal(got[0].Receivers, []string{"a", "b"}) {
		t.Fatalf("without routes every alert must reach every channel, got %+v", got)
	}
}
