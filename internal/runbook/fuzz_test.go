package runbook

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxFuzzFile bounds a fuzzed file: the parser's cost, not its limits, is
// what a longer input would test.
const maxFuzzFile = 64 << 10

var (
	slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// tagRE finds the tags of rendered HTML: goldmark escapes every < of
	// the text, so each < starts a tag or a comment.
	tagRE  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>|<!--.*?-->|<`)
	attrRE = regexp.MustCompile(`\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?`)
	// safeData are the data: URLs goldmark links: images of common types.
	safeData = regexp.MustCompile(`^data:image/(png|gif|jpeg|webp)`)
)

// renderedTags are the elements goldmark's CommonMark and GFM renderers
// write, and renderedAttrs their attributes: anything else in a runbook's
// HTML came from the Markdown's raw HTML, which must be dropped.
var (
	renderedTags = map[string]bool{
		"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"ul": true, "ol": true, "li": true, "blockquote": true, "pre": true, "code": true,
		"em": true, "strong": true, "del": true, "a": true, "img": true, "hr": true, "br": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "input": true,
	}
	renderedAttrs = map[string]bool{
		"href": true, "src": true, "alt": true, "title": true, "id": true, "class": true,
		"start": true, "align": true, "style": true, "type": true, "checked": true, "disabled": true,
	}
)

// checkHTML asserts that a runbook's rendered body is safe to serve on
// Klaxon's origin: only the tags and attributes Markdown itself makes, and
// no link or image to a scheme that runs code.
func checkHTML(t *testing.T, out string) {
	t.Helper()
	for _, m := range tagRE.FindAllStringSubmatch(out, -1) {
		switch {
		case m[0] == "<":
			t.Fatalf("a bare < in the HTML: %q", out)
		case strings.HasPrefix(m[0], "<!--"):
			continue
		}
		name := strings.ToLower(m[2])
		if !renderedTags[name] {
			t.Fatalf("<%s> in the HTML, which Markdown does not make: %q", name, out)
		}
		for _, a := range attrRE.FindAllStringSubmatch(m[3], -1) {
			attr := strings.ToLower(a[1])
			if !renderedAttrs[attr] {
				t.Fatalf("attribute %s on <%s>: %q", attr, name, m[0])
			}
			if attr == "style" && name != "th" && name != "td" {
				t.Fatalf("style on <%s>: %q", name, m[0])
			}
			if attr != "href" && attr != "src" {
				continue
			}
			// As a browser reads it: entities decoded, tabs and newlines
			// dropped, leading spaces and controls trimmed, any case.
			u := strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' || r == '\r' {
					return -1
				}
				return r
			}, html.UnescapeString(a[2]))
			u = strings.ToLower(strings.TrimLeft(u, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
			for _, scheme := range []string{"javascript:", "vbscript:", "file:"} {
				if strings.HasPrefix(u, scheme) {
					t.Fatalf("%s link in the HTML: %q", scheme, m[0])
				}
			}
			if strings.HasPrefix(u, "data:") && !safeData.MatchString(u) {
				t.Fatalf("data: link in the HTML: %q", m[0])
			}
		}
	}
}

// hostile are label and annotation values an alert sender controls.
var hostile = Vars{
	Labels: map[string]string{
		"namespace": "prod", "pod": "api-7d9\n`rm -rf /`\r\u2028x", "app.kubernetes.io/name": "api\x00\x7f\u0085",
		"node": "$(reboot)", "evil": "x`; rm -rf /\n`",
	},
	Annotations: map[string]string{"summary": "```\n<script>alert(1)</script>", "description": "\u2029"},
}

// FuzzLint parses a runbook file and runs what Lint and matching do with
// it. A usable runbook has only warnings, a slug, a title and alerts; every
// problem names the file and a line inside it; its steps filled from any
// alert stay on their lines; a set of it alone finds it by slug and by each
// exact alert name, and reports no conflicts.
func FuzzLint(f *testing.F) {
	f.Add("pod-crash-looping.md", []byte(crashLooping))
	f.Add("ok.md", []byte("---\ntitle: OK\nalerts: [OkAlert]\n---\n"+complete))
	f.Add("team/h1.md", []byte("---\nalerts: [H1]\n---\n# Title from the heading\n\nSome text.\n"))
	f.Add("blocks.md", []byte(md(`---
title: Blocks
alerts: [Blocks]
---
## Diagnose
'''diagnose
kubectl logs {{ .Labels.pod | quote }}
'''
## Fixes
'''diagnose
kubectl delete pod {{ .Labels.pod }} {{ index .Labels "app.kubernetes.io/name" }} {{- $annotations.summary -}}
'''
## Escalate
`)))
	f.Add("c.md", []byte("---\ntitle: C\nalerts: [Dup, \"Dup*\", Dup, 'Kube[a-z]?*', 'a\\b']\nmatchers: ['team=~\"x|y\"', 'env!=\"dev\"']\ndiagnose: true\n---\n"+complete))
	f.Add("broken.md", []byte("---\nalerts: [Broken]\nowners: me\n---\n"+complete))
	f.Add("yaml.md", []byte("---\nalerts: &a [X, *a]\ntitle: &t {a: b}\nseverity: *t\n---\n"))
	f.Add("bad.md", []byte("---\nalerts: ['[', '']\nmatchers: ['=~(', 'a=\"\\xff\"']\n---\n"))
	f.Add("empty.md", []byte("---\n---\n"))
	f.Add("---.md", []byte("---\nalerts: [X]\n---\n"))
	f.Add("crlf.md", []byte("\xef\xbb\xbf---\r\nalerts: [X]\r\n---\r\n## Diagnose\r\n```\r\nuptime\r\n```\r\n"))
	f.Add("links.md", []byte(md(`---
alerts: [X]
---
# <img src=x onerror=alert(1)>
[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](&#106;avascript:alert(1)) [d](java	script:x)
[e](data:text/html;base64,PHNjcmlwdD4=) ![f](data:image/png;base64,AA==) ![g](vbscript:x) [h](file:///etc/passwd)
<javascript:alert(1)> <https://example.org/?q=<script>> www.example.org/"onmouseover="x
[ref]: javascript:alert(2) "t"
[i][ref] <iframe src=//evil></iframe> <a href="javascript:x">k</a>
- [x] done
| a | b |
|:-:|--:|
| <b>x</b> | y |
'''"><script>
x
'''
`)))
	f.Add("deep.md", []byte("---\nalerts: [X]\n---\n"+strings.Repeat("> ", 5000)+"x\n"+strings.Repeat("[", 5000)+strings.Repeat("*", 5000)))
	f.Add("nul.md", []byte("---\nalerts: [\"a\\0b\", \"\\xff\"]\ntitle: \x00\n---\n# \xff\xfe\n\x00"))
	f.Add("", []byte("---\nalerts: [X]\n---\n"))
	f.Add(".md", []byte("---\nalerts: [X]\n---\n"))

	f.Fuzz(func(t *testing.T, file string, data []byte) {
		if len(data) > maxFuzzFile || len(file) > 1024 {
			t.Skip()
		}
		r, problems := Parse(file, data)
		maxLine := bytes.Count(data, []byte("\n")) + 1
		failed := false
		for _, p := range problems {
			if p.File != file || p.Message == "" || p.Line < 0 || p.Line > maxLine {
				t.Errorf("problem %+v: want file %q, a message and a line in 0..%d", p, file, maxLine)
			}
			failed = failed || !p.Warning
		}
		if r == nil {
			if !failed {
				t.Fatalf("no runbook and no error: %v", problems)
			}
			return
		}
		if failed {
			t.Fatalf("a runbook with errors: %v", problems)
		}
		if !slugRE.MatchString(r.Slug) || r.Title == "" || len(r.Alerts) == 0 || r.File != file {
			t.Fatalf("runbook %q slug %q title %q alerts %q: want a slug, a title, alerts", r.File, r.Slug, r.Title, r.Alerts)
		}
		for _, s := range r.Sections {
			if s.Line < 1 || s.Line > maxLine {
				t.Errorf("section %+v: line outside 1..%d", s, maxLine)
			}
		}
		checkHTML(t, string(r.HTML()))

		for _, p := range lintRunbook(r) {
			if p.File != file || p.Message == "" || p.Line < 1 || p.Line > maxLine+1 {
				t.Errorf("lint problem %+v: want file %q, a message and a line in 1..%d", p, file, maxLine+1)
			}
		}
		for _, b := range r.blocks {
			if b.Line < 1 || b.Line > maxLine+1 {
				t.Errorf("code block at line %d, outside 1..%d", b.Line, maxLine+1)
			}
			ps, err := Placeholders(b.Text)
			end := 0
			for _, p := range ps {
				if p.Start < end || p.End <= p.Start || p.End > len(b.Text) || p.Name == "" {
					t.Fatalf("placeholder %+v out of place in %q", p, b.Text)
				}
				end = p.End
			}
			filled := Fill(b.Text, hostile)
			if err != nil && filled != b.Text {
				t.Errorf("Fill changed a step with an unsupported placeholder: %q → %q", b.Text, filled)
			}
			for _, c := range []string{"\n", "`", "\r", "\u2028", "\x00"} {
				if strings.Count(filled, c) > strings.Count(b.Text, c) {
					t.Errorf("Fill added %q from an alert's values: %q → %q", c, b.Text, filled)
				}
			}
		}

		s := NewSet(r)
		if got := s.Find(r.Slug); got != r {
			t.Errorf("Find(%q): got %v, want the runbook", r.Slug, got)
		}
		if got := s.Get(strings.ToUpper(r.Slug)); got != r {
			t.Errorf("Get(%q): got %v, want the runbook", strings.ToUpper(r.Slug), got)
		}
		if ps := conflicts(s); len(ps) != 0 {
			t.Errorf("one runbook conflicts with itself: %v", ps)
		}
		if len(r.Matchers) == 0 {
			for _, a := range r.Alerts {
				if isGlob(a) {
					continue
				}
				if got := s.Match(map[string]string{"alertname": a}); got != r {
					t.Errorf("Match(alertname=%q): got %v, want the runbook that lists it", a, got)
				}
			}
		}
	})
}

// FuzzLoadRules reads a Prometheus rule file (plain, a PrometheusRule, a
// kubectl List, several documents) as `klaxon runbook coverage` does. Every
// rule it returns has a name and a line, every problem names the file, and
// there are no more rules than bytes.
func FuzzLoadRules(f *testing.F) {
	for _, name := range []string{"k8s.yaml", "prometheus-rules.example.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "rules", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels: {severity: critical}\n        annotations: {runbook_url: 'https://x/a'}\n      - record: r\n        expr: up\n"))
	f.Add([]byte("kind: List\nitems:\n  - kind: PrometheusRule\n    spec:\n      groups:\n        - name: g\n          rules: [{alert: B, expr: '1'}]\n"))
	f.Add([]byte("groups: x\n---\ngroups: [1, {rules: x}, {rules: [1, {alert: [x]}, {alert: ''}, {alert: C, labels: [a]}]}]\n"))
	f.Add([]byte("groups:\n  - &g {name: g, rules: [{alert: D, labels: &l {a: b}, annotations: *l}]}\n  - *g\n"))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: E\n    labels:\n      a: \x00\xff\n"))
	f.Add([]byte("groups: [" + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "]\n"))
	f.Add([]byte("a: b: c\n"))
	f.Add([]byte(""))

	path := filepath.Join(f.TempDir(), "rules.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzFile {
			t.Skip()
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rules, problems := LoadRules(path)
		file := filepath.ToSlash(path)
		// A rule takes at least "{alert: x}" of its own: more rules than
		// bytes means YAML aliases were expanded without bound.
		if len(rules) > len(data) {
			t.Fatalf("%d bytes of YAML gave %d rules", len(data), len(rules))
		}
		for _, r := range rules {
			if r.Name == "" || r.Line < 1 || r.File != file || r.Labels == nil || r.Annotations == nil {
				t.Errorf("rule %+v: want a name, a line, the file and maps", r)
			}
		}
		for _, p := range problems {
			if p.File != file || p.Message == "" || p.Line < 0 {
				t.Errorf("problem %+v: want the file and a message", p)
			}
		}
	})
}
