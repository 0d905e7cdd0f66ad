package runbook

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// Vars are what placeholders are filled from: an alert's labels and
// annotations. Their values come from whoever can send alerts, so they are
// untrusted text.
type Vars struct {
	Labels      map[string]string
	Annotations map[string]string
}

// VarsOf returns an alert's labels and annotations.
func VarsOf(a *klaxon.Alert) Vars { return Vars{Labels: a.Labels, Annotations: a.Annotations} }

// Placeholder is one {{ … }} in a step. The grammar is deliberately small,
// the part of Go templates that Prometheus rule authors already write:
//
//	{{ .Labels.pod }}  {{ $labels.pod }}  {{ index .Labels "app.kubernetes.io/name" }}
//	{{ .Annotations.summary }}  {{ $annotations.summary }}
//
// No functions, no pipelines: a runbook step is filled, never executed as a
// template, so an alert cannot make it do anything but show a value.
type Placeholder struct {
	Start, End int    // byte offsets of the whole {{ … }} in the text
	Annotation bool   // from the annotations, not the labels
	Name       string // the label or annotation name
}

var (
	actionRE = regexp.MustCompile(`\{\{-?\s*(.*?)\s*-?\}\}`)
	fieldRE  = regexp.MustCompile(`^(?:\.(Labels|Annotations)|\$(labels|annotations))\.([A-Za-z_][A-Za-z0-9_]*)$`)
	indexRE  = regexp.MustCompile(`^index\s+(?:\.(Labels|Annotations)|\$(labels|annotations))\s+"([^"\\]+)"$`)
)

// Placeholders finds the placeholders in text, in order. An action outside
// the grammar is an error that quotes it.
func Placeholders(text string) ([]Placeholder, error) {
	var out []Placeholder
	for _, m := range actionRE.FindAllStringSubmatchIndex(text, -1) {
		action := text[m[2]:m[3]]
		sub := fieldRE.FindStringSubmatch(action)
		if sub == nil {
			sub = indexRE.FindStringSubmatch(action)
		}
		if sub == nil {
			return out, fmt.Errorf("unsupported placeholder %q: use {{ .Labels.name }} or {{ .Annotations.name }}", text[m[0]:m[1]])
		}
		scope := sub[1] + sub[2]
		out = append(out, Placeholder{
			Start:      m[0],
			End:        m[1],
			Annotation: strings.EqualFold(scope, "annotations"),
			Name:       sub[3],
		})
	}
	return out, nil
}

// Value is the placeholder's value in v, and whether there is one.
func (p Placeholder) Value(v Vars) (string, bool) {
	m := v.Labels
	if p.Annotation {
		m = v.Annotations
	}
	val, ok := m[p.Name]
	return val, ok && val != ""
}

// Fill replaces the placeholders in text with their values from v, for
// people to read and copy. A missing value shows as <name>, so a copied
// command fails loudly instead of running with an empty argument. Values
// are flattened to one printable line without backticks, so a label cannot
// break out of the code block the step is shown in. Text with an
// unsupported placeholder is returned as written (lint reports it).
func Fill(text string, v Vars) string {
	ps, err := Placeholders(text)
	if err != nil || len(ps) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, p := range ps {
		b.WriteString(text[last:p.Start])
		if val, ok := p.Value(v); ok {
			b.WriteString(printable(val))
		} else {
			b.WriteString("<" + p.Name + ">")
		}
		last = p.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// printable flattens s to one line of visible text without backticks.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '`':
			return '\''
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029':
			return ' '
		}
		return r
	}, s)
}
