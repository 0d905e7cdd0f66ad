package runbook

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// BenchmarkMatch matches alerts of a storm against 1000 runbooks: 800
// exact names (a quarter with a matcher) and 200 globs.
func BenchmarkMatch(b *testing.B) {
	var rbs []*Runbook
	for i := range 800 {
		r := &Runbook{Slug: fmt.Sprintf("exact-%d", i), File: fmt.Sprintf("exact-%d.md", i), Alerts: []string{fmt.Sprintf("Alert%dFiring", i)}}
		if i%4 == 0 {
			m, err := labels.NewMatcher(labels.MatchRegexp, "namespace", "prod-.*")
			if err != nil {
				b.Fatal(err)
			}
			r.Matchers = []*labels.Matcher{m}
		}
		rbs = append(rbs, r)
	}
	for i := range 200 {
		rbs = append(rbs, &Runbook{Slug: fmt.Sprintf("glob-%d", i), File: fmt.Sprintf("glob-%d.md", i), Alerts: []string{fmt.Sprintf("Service%d*", i)}})
	}
	set := NewSet(rbs...)

	rng := rand.New(rand.NewPCG(1, 2))
	alerts := make([]map[string]string, 1024)
	for i := range alerts {
		var name string
		switch rng.IntN(3) {
		case 0:
			name = fmt.Sprintf("Alert%dFiring", rng.IntN(1000)) // a fifth have no runbook
		case 1:
			name = fmt.Sprintf("Service%dDown", rng.IntN(250))
		default:
			name = fmt.Sprintf("Unknown%d", rng.IntN(1000))
		}
		alerts[i] = map[string]string{"alertname": name, "namespace": fmt.Sprintf("prod-%d", rng.IntN(5)), "pod": "api-7d9"}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		set.Match(alerts[i%len(alerts)])
	}
}
