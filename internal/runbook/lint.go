package runbook

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// required are the sections every runbook must have, with the heading
// lint suggests for each.
var required = []struct {
	kind    SectionKind
	heading string
}{
	{SectionDiagnose, "## Diagnose"},
	{SectionCauses, "## Common causes and fixes"},
	{SectionEscalate, "## Escalate"},
}

// Lint checks the runbooks in dir: the problems Load finds, plus missing
// sections, a diagnose section without commands, unsupported
// placeholders, ```diagnose blocks that would never run, missing titles,
// and two runbooks that claim the same alert with the same specificity.
// The problems are sorted by file and line. The error is for a directory
// that cannot be read.
func Lint(dir string) ([]Problem, error) {
	set, err := Load(dir)
	if err != nil {
		return nil, err
	}
	problems := set.Problems()
	for _, r := range set.all {
		problems = append(problems, lintRunbook(r)...)
	}
	problems = append(problems, conflicts(set)...)
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return problems, nil
}

func lintRunbook(r *Runbook) []Problem {
	var out []Problem
	add := func(line int, warning bool, format string, args ...any) {
		out = append(out, Problem{File: r.File, Line: line, Warning: warning, Message: fmt.Sprintf(format, args...)})
	}
	if !r.titled {
		add(1, true, "no title: add title: to the front matter or a # heading (the slug %q is shown instead)", r.Slug)
	}
	var missing, headings []string
	for _, req := range required {
		if r.Section(req.kind) == nil {
			missing = append(missing, string(req.kind))
			headings = append(headings, req.heading)
		}
	}
	if len(missing) > 0 {
		add(max(r.titleLine, 1), false, "missing sections: %s (add %s)", strings.Join(missing, ", "), strings.Join(headings, ", "))
	}
	if s := r.Section(SectionDiagnose); s != nil && len(r.Steps) == 0 {
		add(s.Line, false, "the diagnose section has no code block: put the first commands to run in a fenced code block")
	}
	for _, b := range r.blocks {
		if _, err := Placeholders(b.Text); err != nil {
			add(b.Line, false, "%v", err)
		}
		if b.Lang == "diagnose" && b.kind != SectionDiagnose {
			add(b.Line, false, "```diagnose block not in a Diagnose section, so it is never run")
		}
	}
	return out
}

// conflicts finds runbooks that only the file order tells apart for some
// alert: the same exact name or the same glob, the same number of
// matchers, and matchers that may all match one alert. The later file is
// the one reported, since it is the one that never wins.
func conflicts(s *Set) []Problem {
	groups := map[string][]*entry{}
	for name, es := range s.exact {
		groups[name] = es
	}
	for _, e := range s.globs {
		groups[e.pattern] = append(groups[e.pattern], e)
	}
	var out []Problem
	for _, pattern := range slices.Sorted(maps.Keys(groups)) {
		es := groups[pattern]
		for j, b := range es {
			for _, a := range es[:j] {
				if a.rb == b.rb || len(a.rb.Matchers) != len(b.rb.Matchers) || disjoint(a.rb.Matchers, b.rb.Matchers) {
					continue
				}
				out = append(out, Problem{File: b.rb.File, Line: b.line, Message: fmt.Sprintf(
					"alert %q is also claimed by %s with the same specificity, and %s wins: add a matcher to tell them apart or merge them",
					pattern, a.rb.File, a.rb.File)})
				break
			}
		}
	}
	return out
}

// disjoint reports whether no alert can match both sets of matchers, as
// far as equality matchers on the same label show.
func disjoint(a, b []*labels.Matcher) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Type == labels.MatchEqual && y.Type == labels.MatchEqual && x.Name == y.Name && x.Value != y.Value {
				return true
			}
		}
	}
	return false
}
