package runbook

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Runbook is one parsed runbook file.
type Runbook struct {
	Slug     string // from the file name: lowercase, [a-z0-9] and '-'
	File     string // path relative to the runbook directory, slash-separated
	Title    string
	Alerts   []string // exact alert names or path.Match globs
	Matchers []*labels.Matcher
	Owner    string
	Severity string // a hint, as written
	Sections []Section
	Steps    []Step // the code blocks of the diagnose section

	html      template.HTML
	titled    bool    // the title was written, not taken from the slug
	titleLine int     // file line of the title, or 0
	alertLine []int   // file line of each Alerts entry
	blocks    []block // every fenced code block of the body
}

// block is a fenced code block with the kind of section it is in, which
// lint needs for blocks outside the diagnose section.
type block struct {
	Step
	kind SectionKind
}

// SectionKind is what a section of a runbook is for.
type SectionKind string

// Section kinds, found from the words of a heading.
const (
	SectionDiagnose SectionKind = "diagnose"
	SectionCauses   SectionKind = "causes"
	SectionEscalate SectionKind = "escalate"
	SectionVerify   SectionKind = "verify"
	SectionOther    SectionKind = "other"
)

// Section is a heading that starts a section of the runbook.
type Section struct {
	Kind    SectionKind
	Heading string // as written, inline markup dropped
	Line    int    // file line of the heading
}

// Step is a fenced code block of the diagnose section.
type Step struct {
	Text string // the block's content, without its trailing newline
	Lang string // the first word of the info string
	Line int    // file line of the block's first content line
	Run  bool   // Klaxon may run it as diagnostics
}

// HTML is the runbook's body rendered, front matter excluded. Raw HTML in
// the Markdown is dropped and dangerous link schemes are not linked, so it
// is safe to serve on Klaxon's origin.
func (r *Runbook) HTML() template.HTML { return r.html }

// RunSteps are the steps Klaxon may run as diagnostics.
func (r *Runbook) RunSteps() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Run {
			out = append(out, s)
		}
	}
	return out
}

// Section is the first section of kind k, or nil.
func (r *Runbook) Section(k SectionKind) *Section {
	for i := range r.Sections {
		if r.Sections[i].Kind == k {
			return &r.Sections[i]
		}
	}
	return nil
}

// Matches reports whether the runbook covers an alert with labels lbls:
// one of its patterns matches lbls["alertname"] and all its matchers
// match.
func (r *Runbook) Matches(lbls map[string]string) bool {
	name := lbls["alertname"]
	for _, p := range r.Alerts {
		if patternMatches(p, name) {
			return r.matchersMatch(lbls)
		}
	}
	return false
}

func (r *Runbook) matchersMatch(lbls map[string]string) bool {
	for _, m := range r.Matchers {
		if !m.Matches(lbls[m.Name]) {
			return false
		}
	}
	return true
}

// Problem is something wrong with a runbook or rule file, at a line of it.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"` // 0 when it is about the whole file
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"` // worth fixing, but the file is still used
}

// String is the problem as compilers print them: "file:line: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// slugOf turns a base file name into a slug: lowercase, every run of
// characters outside [a-z0-9] a single '-', no '-' at either end.
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}
