package runbook

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
	"gopkg.in/yaml.v3"
)

// Parse parses one runbook file. file is its path relative to the runbook
// directory, used in File and in problems. The runbook is nil when the
// file cannot be used: no or broken front matter, no alerts, a bad
// pattern or matcher, an unknown key (most likely a misspelt one).
func Parse(file string, data []byte) (*Runbook, []Problem) {
	p := &collector{file: file}
	fm, body, bodyOffset, ok := p.split(data)
	if !ok {
		return nil, p.problems
	}
	r := &Runbook{File: file, Slug: slugOf(strings.TrimSuffix(path.Base(file), path.Ext(file)))}
	if r.Slug == "" {
		p.errorf(0, "the file name gives an empty slug: name the file after what it is about")
	}
	diagnose := p.frontMatter(r, fm)
	if p.failed() {
		return nil, p.problems
	}
	parseBody(r, body, bodyOffset, diagnose)
	if r.Title == "" {
		r.Title = r.Slug
	}
	return r, p.problems
}

// collector collects the problems of one file.
type collector struct {
	file     string
	problems []Problem
}

func (p *collector) errorf(line int, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (p *collector) failed() bool {
	for _, pr := range p.problems {
		if !pr.Warning {
			return true
		}
	}
	return false
}

// split cuts data into the front matter (between a leading "---" line and
// the next "---" line) and the body, and says how many file lines come
// before the body's first line.
func (p *collector) split(data []byte) (fm, body []byte, bodyOffset int, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	if !isFence(line) {
		p.errorf(1, "no front matter: a runbook starts with a --- line, then YAML naming the alerts it covers, then another --- line")
		return nil, nil, 0, false
	}
	start := len(data) - len(rest)
	off := start
	for n := 2; off <= len(data); n++ {
		line, _, found := bytes.Cut(data[off:], []byte("\n"))
		if isFence(line) {
			next := off + len(line)
			if found {
				next++
			}
			return data[start:off], data[next:], n, true
		}
		if !found {
			break
		}
		off += len(line) + 1
	}
	p.errorf(1, "front matter is not closed: no --- line after the opening one")
	return nil, nil, 0, false
}

func isFence(line []byte) bool {
	return string(bytes.TrimRight(line, " \t\r")) == "---"
}

// frontMatter decodes the front matter into r and returns its diagnose
// flag. It starts on file line 2, so YAML line n is file line n+1.
func (p *collector) frontMatter(r *Runbook, fm []byte) (diagnose bool) {
	const off = 1
	var doc yaml.Node
	if err := yaml.Unmarshal(fm, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		if line > 0 {
			line += off
		}
		p.errorf(line, "front matter: %s", msg)
		return false
	}
	var m *yaml.Node
	if len(doc.Content) > 0 {
		m = deref(doc.Content[0])
	}
	if m == nil || m.Kind != yaml.MappingNode {
		if m != nil && m.Tag != "!!null" {
			p.errorf(m.Line+off, "front matter must be a mapping of keys (alerts:, title: …)")
			return false
		}
		p.errorf(1, "front matter has no alerts: list the alert names the runbook covers")
		return false
	}
	seen := map[string]int{}
	alertsLine := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		line := k.Line + off
		if first, dup := seen[k.Value]; dup {
			p.errorf(line, "front matter key %q repeated (first on line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = line
		switch k.Value {
		case "title":
			r.Title = p.scalar(k.Value, v, off)
			r.titled, r.titleLine = r.Title != "", line
		case "alerts":
			alertsLine = line
			p.alerts(r, v, off)
		case "matchers":
			p.matchers(r, v, off)
		case "owner":
			r.Owner = p.scalar(k.Value, v, off)
		case "severity":
			r.Severity = p.scalar(k.Value, v, off)
		case "diagnose":
			if err := v.Decode(&diagnose); err != nil {
				p.errorf(v.Line+off, "diagnose must be true or false, not %q", v.Value)
			}
		default:
			p.errorf(line, "unknown front matter key %q (known: title, alerts, matchers, owner, severity, diagnose)", k.Value)
		}
	}
	if len(r.Alerts) == 0 && !p.failed() {
		if alertsLine == 0 {
			alertsLine = 1
		}
		p.errorf(alertsLine, "front matter has no alerts: list the alert names the runbook covers")
	}
	return diagnose
}

func (p *collector) alerts(r *Runbook, v *yaml.Node, off int) {
	for _, n := range p.list("alerts", v, off) {
		pat := strings.TrimSpace(n.Value)
		switch {
		case pat == "":
			p.errorf(n.Line+off, "alerts: empty alert name")
			continue
		case isGlob(pat):
			if _, err := path.Match(pat, ""); err != nil {
				p.errorf(n.Line+off, "alerts: bad pattern %q: %v", pat, err)
				continue
			}
		}
		r.Alerts = append(r.Alerts, pat)
		r.alertLine = append(r.alertLine, n.Line+off)
	}
}

func (p *collector) matchers(r *Runbook, v *yaml.Node, off int) {
	for _, n := range p.list("matchers", v, off) {
		m, err := labels.ParseMatcher(n.Value)
		if err != nil {
			p.errorf(n.Line+off, "matchers: bad matcher %q: %v", n.Value, err)
			continue
		}
		r.Matchers = append(r.Matchers, m)
	}
}

// list is the scalars of a sequence; a lone scalar is a list of one,
// which is what `alerts: KubeNodeNotReady` means.
func (p *collector) list(key string, v *yaml.Node, off int) []*yaml.Node {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil
		}
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, n := range v.Content {
			n = deref(n)
			if n.Kind != yaml.ScalarNode {
				p.errorf(n.Line+off, "%s: each entry must be a string", key)
				continue
			}
			out = append(out, n)
		}
		return out
	}
	p.errorf(v.Line+off, "%s must be a list of strings", key)
	return nil
}

func (p *collector) scalar(key string, v *yaml.Node, off int) string {
	if v.Kind != yaml.ScalarNode {
		p.errorf(v.Line+off, "%s must be a string", key)
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return strings.TrimSpace(v.Value)
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the yaml.v3 errors raised by its parser rather
// than its scanner: yaml.v3 reports their line 0-based.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlErrorLine splits a yaml.v3 syntax error into its 1-based line (0 if
// it has none) and the message without the "yaml: line N:" prefix.
// yaml.v3 leaves the line out when it is the first one.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		if yamlParserProblems[m[2]] {
			n++
		}
		return n, m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	for _, syntax := range []string{"found ", "did not find ", "could not find ", "mapping ", "block sequence "} {
		if strings.HasPrefix(msg, syntax) {
			return 1, msg
		}
	}
	return 0, msg
}
