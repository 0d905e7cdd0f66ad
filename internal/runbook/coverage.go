package runbook

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Report is which alert rules have a runbook, for the CI check of a rules
// repository.
type Report struct {
	Rules      int          `json:"rules"`
	Runbooks   int          `json:"runbooks"`
	Covered    int          `json:"covered"`
	Uncovered  []RuleRef    `json:"uncovered"`  // alert rules no runbook matches
	Unused     []RunbookRef `json:"unused"`     // runbooks that match no rule
	Mismatched []Mismatch   `json:"mismatched"` // runbook_url is not the runbook Klaxon shows
}

// RuleRef points at an alert rule.
type RuleRef struct {
	Alert      string `json:"alert"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	RunbookURL string `json:"runbook_url,omitempty"`
}

// RunbookRef points at a runbook.
type RunbookRef struct {
	Slug string `json:"slug"`
	File string `json:"file"`
}

// Mismatch is an alert rule whose runbook_url annotation points somewhere
// other than the runbook Klaxon shows for it: one of the two is stale.
type Mismatch struct {
	Alert      string `json:"alert"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	RunbookURL string `json:"runbook_url"`
	Runbook    string `json:"runbook"` // the slug of the runbook Klaxon matches
	Want       string `json:"want"`    // "/runbooks/<slug>"
}

// Coverage matches each rule to the runbooks. A rule is matched with its
// static labels plus alertname; a runbook matcher on a label the rule does
// not set may match at run time (the label comes from the series), so
// only a matcher that the rule's own labels contradict rules it out.
func Coverage(set *Set, rules []Rule) *Report {
	if set == nil {
		set = NewSet()
	}
	rep := &Report{Rules: len(rules), Runbooks: len(set.all),
		Uncovered: []RuleRef{}, Unused: []RunbookRef{}, Mismatched: []Mismatch{}}
	used := map[*Runbook]bool{}
	for _, rule := range rules {
		picks, could := set.candidates(rule)
		for _, r := range could {
			used[r] = true
		}
		url := rule.Annotations["runbook_url"]
		if len(picks) == 0 {
			rep.Uncovered = append(rep.Uncovered, RuleRef{Alert: rule.Name, File: rule.File, Line: rule.Line, RunbookURL: url})
			continue
		}
		rep.Covered++
		if url == "" || slices.ContainsFunc(picks, func(r *Runbook) bool { return urlAgrees(url, rule.Name, r) }) {
			continue
		}
		rep.Mismatched = append(rep.Mismatched, Mismatch{Alert: rule.Name, File: rule.File, Line: rule.Line,
			RunbookURL: url, Runbook: picks[0].Slug, Want: "/runbooks/" + picks[0].Slug})
	}
	for _, r := range set.all {
		if !used[r] {
			rep.Unused = append(rep.Unused, RunbookRef{Slug: r.Slug, File: r.File})
		}
	}
	slices.SortFunc(rep.Uncovered, func(a, b RuleRef) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Alert, b.Alert))
	})
	slices.SortFunc(rep.Mismatched, func(a, b Mismatch) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Alert, b.Alert))
	})
	slices.SortFunc(rep.Unused, func(a, b RunbookRef) int { return cmp.Compare(a.File, b.File) })
	return rep
}

// candidates are, most specific first, the runbooks that could match an
// alert of the rule (could), and of those the ones Klaxon may pick (picks):
// the list stops at the first runbook sure to match, as every alert of
// the rule gets that one or a more specific one.
func (s *Set) candidates(rule Rule) (picks, could []*Runbook) {
	static := map[string]string{"alertname": rule.Name}
	for k, v := range rule.Labels {
		if !strings.Contains(v, "{{") && k != "alertname" { // a templated value is only known at run time
			static[k] = v
		}
	}
	seen := map[*Runbook]bool{}
	certain := false
	for e := range s.ranked(rule.Name) {
		if seen[e.rb] {
			continue
		}
		possible, sure := true, true
		for _, m := range e.rb.Matchers {
			v, ok := static[m.Name]
			if !ok {
				sure = false
			} else if !m.Matches(v) {
				possible = false
				break
			}
		}
		if !possible {
			continue
		}
		seen[e.rb] = true
		could = append(could, e.rb)
		if !certain {
			picks = append(picks, e.rb)
			certain = sure
		}
	}
	return picks, could
}

var alertnameAction = regexp.MustCompile(`\{\{-?\s*(?:\$labels|\.Labels)\.alertname\s*-?\}\}`)

// urlAgrees reports whether a rule's runbook_url points at runbook r: it
// ends with /runbooks/<slug>, or its last segment (less .md or .html) is
// the slug, or it ends with the runbook's file path. A URL templated on
// anything but the alert name cannot be checked and agrees.
func urlAgrees(url, alert string, r *Runbook) bool {
	if strings.Contains(url, "{{") {
		url = alertnameAction.ReplaceAllLiteralString(url, alert)
		if strings.Contains(url, "{{") {
			return true
		}
	}
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	url = strings.TrimRight(url, "/")
	if strings.HasSuffix(strings.ToLower(url), "/runbooks/"+r.Slug) {
		return true
	}
	seg := url[strings.LastIndex(url, "/")+1:]
	for _, ext := range []string{".md", ".html"} {
		if len(seg) > len(ext) && strings.EqualFold(seg[len(seg)-len(ext):], ext) {
			seg = seg[:len(seg)-len(ext)]
		}
	}
	if strings.EqualFold(seg, r.Slug) {
		return true
	}
	return url == r.File || strings.HasSuffix(url, "/"+r.File)
}

// Failed reports whether the check fails: an alert rule without a
// runbook, or a runbook_url that disagrees with Klaxon. Unused runbooks
// do not fail it: their alerts may come from elsewhere.
func (r *Report) Failed() bool { return len(r.Uncovered) > 0 || len(r.Mismatched) > 0 }

// WriteText writes the report for people: the counts, then each list
// (empty ones left out), then OK or what failed.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: %d covered, %d uncovered, %d mismatched, %d unused\n",
		plural(r.Rules, "alert rule"), plural(r.Runbooks, "runbook"), r.Covered, len(r.Uncovered), len(r.Mismatched), len(r.Unused))
	if len(r.Uncovered) > 0 {
		b.WriteString("\nUncovered alert rules (no runbook matches):\n")
		for _, u := range r.Uncovered {
			fmt.Fprintf(&b, "  %s:%d %s\n", u.File, u.Line, u.Alert)
		}
	}
	if len(r.Mismatched) > 0 {
		b.WriteString("\nMismatched runbook_url (Klaxon shows another runbook):\n")
		for _, m := range r.Mismatched {
			fmt.Fprintf(&b, "  %s:%d %s: runbook_url %s, Klaxon shows %s (%s)\n", m.File, m.Line, m.Alert, m.RunbookURL, m.Runbook, m.Want)
		}
	}
	if len(r.Unused) > 0 {
		b.WriteString("\nUnused runbooks (match no alert rule; fine if their alerts come from elsewhere):\n")
		for _, u := range r.Unused {
			fmt.Fprintf(&b, "  %s (%s)\n", u.File, u.Slug)
		}
	}
	b.WriteString("\n")
	if r.Failed() {
		var why []string
		if n := len(r.Uncovered); n > 0 {
			why = append(why, plural(n, "alert rule")+" without a runbook")
		}
		if n := len(r.Mismatched); n > 0 {
			why = append(why, plural(n, "runbook_url")+" pointing elsewhere")
		}
		fmt.Fprintf(&b, "FAIL: %s\n", strings.Join(why, ", "))
	} else {
		b.WriteString("OK\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
