package runbook

import (
	"reflect"
	"strings"
	"testing"
)

// md lets tests write code fences as three single quotes inside Go raw
// strings, which cannot hold backquotes.
func md(s string) string { return strings.ReplaceAll(s, "'''", "```") }

var crashLooping = md(`---
title: Pod crash-looping
alerts: [KubePodCrashLooping, "Kube*Restarting"]
matchers: ['namespace=~"prod-.*"', 'team="payments"']
owner: platform-team
severity: P1
---
# Crash loops

<script>alert("owned")</script>

## 🔍 Diagnose

1. Is the pod there?
   '''diagnose
   kubectl -n {{ .Labels.namespace }} get pod {{ .Labels.pod }}
   '''

### Logs

'''sh
kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }} --previous
'''

## Common causes and fixes

'''diagnose
echo never run
'''

## Who to call?

Page [the owners](javascript:alert(1)) <b onclick="x()">now</b>.

## Check it worked

## Links
`)

func TestParse(t *testing.T) {
	wantSections := []Section{
		{SectionDiagnose, "🔍 Diagnose", 12},
		{SectionCauses, "Common causes and fixes", 25},
		{SectionEscalate, "Who to call?", 31},
		{SectionVerify, "Check it worked", 35},
		{SectionOther, "Links", 37},
	}
	wantSteps := []Step{
		{Text: "kubectl -n {{ .Labels.namespace }} get pod {{ .Labels.pod }}", Lang: "diagnose", Line: 16, Run: true},
		{Text: "kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }} --previous", Lang: "sh", Line: 22},
	}
	for _, tc := range []struct{ name, src string }{
		{"lf", crashLooping},
		{"crlf", strings.ReplaceAll(crashLooping, "\n", "\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, problems := Parse("k8s/Pod_Crash.md", []byte(tc.src))
			if r == nil || len(problems) > 0 {
				t.Fatalf("Parse: runbook %v, problems %v", r, problems)
			}
			if r.Slug != "pod-crash" || r.File != "k8s/Pod_Crash.md" || r.Title != "Pod crash-looping" || r.Owner != "platform-team" || r.Severity != "P1" {
				t.Errorf("got slug %q file %q title %q owner %q severity %q", r.Slug, r.File, r.Title, r.Owner, r.Severity)
			}
			if want := []string{"KubePodCrashLooping", "Kube*Restarting"}; !reflect.DeepEqual(r.Alerts, want) {
				t.Errorf("Alerts: got %q, want %q", r.Alerts, want)
			}
			if len(r.Matchers) != 2 || r.Matchers[0].String() != `namespace=~"prod-.*"` || r.Matchers[1].String() != `team="payments"` {
				t.Errorf("Matchers: got %v", r.Matchers)
			}
			if !reflect.DeepEqual(r.Sections, wantSections) {
				t.Errorf("Sections:\ngot  %+v\nwant %+v", r.Sections, wantSections)
			}
			if !reflect.DeepEqual(r.Steps, wantSteps) {
				t.Errorf("Steps:\ngot  %+v\nwant %+v", r.Steps, wantSteps)
			}
			if got := r.RunSteps(); len(got) != 1 || got[0] != wantSteps[0] {
				t.Errorf("RunSteps: got %+v, want the diagnose block only", got)
			}
			if s := r.Section(SectionEscalate); s == nil || s.Line != 31 {
				t.Errorf("Section(escalate): got %+v", s)
			}
			html := string(r.HTML())
			for _, bad := range []string{"<script", "owned", "onclick", "javascript:", "---", "alerts:"} {
				if strings.Contains(html, bad) {
					t.Errorf("HTML contains %q:\n%s", bad, html)
				}
			}
			for _, good := range []string{`<h1 id="crash-loops">Crash loops</h1>`, `<code class="language-diagnose">`, "{{ .Labels.pod }}"} {
				if !strings.Contains(html, good) {
					t.Errorf("HTML lacks %q:\n%s", good, html)
				}
			}
		})
	}
}

func TestParseDiagnoseAll(t *testing.T) {
	src := md("---\nalerts: [X]\ndiagnose: true\n---\n## Triage\n'''\nuptime\n'''\n## Fix\n'''\nreboot\n'''\n")
	r, problems := Parse("x.md", []byte(src))
	if r == nil || len(problems) > 0 {
		t.Fatalf("Parse: %v", problems)
	}
	want := []Step{{Text: "uptime", Line: 7, Run: true}}
	if !reflect.DeepEqual(r.Steps, want) || !reflect.DeepEqual(r.RunSteps(), want) {
		t.Errorf("got steps %+v, run %+v, want %+v", r.Steps, r.RunSteps(), want)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		heading string
		want    SectionKind
	}{
		{"Diagnose", SectionDiagnose},
		{"Diagnosis", SectionDiagnose},
		{"🔍 Investigation", SectionDiagnose},
		{"Triage", SectionDiagnose},
		{"First steps", SectionDiagnose},
		{"What to check?", SectionDiagnose},
		{"Common causes and fixes", SectionCauses},
		{"Fix", SectionCauses},
		{"Remediation", SectionCauses},
		{"Mitigations", SectionCauses},
		{"Resolution", SectionCauses},
		{"How to resolve", SectionCauses},
		{"Escalation", SectionEscalate},
		{"Who to call?", SectionEscalate},
		{"📞 Contacts", SectionEscalate},
		{"Escalate if the fix fails", SectionEscalate},
		{"Verify", SectionVerify},
		{"Verify the fix", SectionVerify},
		{"Confirm it's resolved", SectionVerify},
		{"Validation", SectionVerify},
		{"Check-it-worked!", SectionVerify},
		{"Diagnose, or who to call", SectionEscalate},
		{"Background", SectionOther},
		{"Dashboards", SectionOther},
	} {
		t.Run(tc.heading, func(t *testing.T) {
			if got := classify(tc.heading); got != tc.want {
				t.Errorf("classify(%q) = %q, want %q", tc.heading, got, tc.want)
			}
		})
	}
}

func TestParseSubsections(t *testing.T) {
	src := md(`---
alerts: [X]
---
## Runbook
### Diagnose
#### Verify the pod is pending
'''
kubectl get pod
'''
### Fixes
## Escalate
`)
	r, _ := Parse("x.md", []byte(src))
	want := []Section{
		{SectionOther, "Runbook", 4},
		{SectionDiagnose, "Diagnose", 5}, // a section under an "other" one is its own
		{SectionCauses, "Fixes", 10},
		{SectionEscalate, "Escalate", 11},
	}
	if !reflect.DeepEqual(r.Sections, want) {
		t.Errorf("Sections:\ngot  %+v\nwant %+v", r.Sections, want)
	}
	if len(r.Steps) != 1 || r.Steps[0].Line != 8 {
		t.Errorf("Steps: got %+v, want the block of the verify subsection of Diagnose", r.Steps)
	}
}

func TestParseTitle(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		want            string
		titled          bool
	}{
		{"front matter", "x.md", "---\ntitle: From front matter\nalerts: [X]\n---\n# From heading\n", "From front matter", true},
		{"first h1", "x.md", "---\nalerts: [X]\n---\n## Diagnose\n# Pod `crash` *looping*\n# Second\n", "Pod crash looping", true},
		{"empty title", "x.md", "---\ntitle: ''\nalerts: [X]\n---\n# From heading\n", "From heading", true},
		{"slug", "k8s/Node_Down.md", "---\nalerts: [X]\n---\n## Diagnose\n", "node-down", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, problems := Parse(tc.file, []byte(tc.src))
			if r == nil {
				t.Fatalf("Parse: %v", problems)
			}
			if r.Title != tc.want || r.titled != tc.titled {
				t.Errorf("got title %q (titled %v), want %q (%v)", r.Title, r.titled, tc.want, tc.titled)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		want            []string // prefixes of each problem's String
	}{
		{"no front matter", "x.md", "# Title\n", []string{"x.md:1: no front matter"}},
		{"not closed", "x.md", "---\nalerts: [X]\n# Title\n", []string{"x.md:1: front matter is not closed"}},
		{"unknown key", "x.md", "---\ntitle: T\nalert: [X]\nalerts: [X]\n---\n", []string{`x.md:3: unknown front matter key "alert"`}},
		{"syntax", "x.md", "---\ntitle: T\nalerts: [X\n---\n", []string{"x.md:3: front matter: did not find expected ',' or ']'"}},
		{"tab", "x.md", "---\n\ttitle: T\n---\n", []string{"x.md:2: front matter: found character that cannot start any token"}},
		{"bad indentation", "x.md", "---\nalerts: [X]\ntitle: T\n  owner: me\n---\n", []string{"x.md:4: front matter: mapping values are not allowed"}},
		{"no alerts", "x.md", "---\ntitle: T\n---\n", []string{"x.md:1: front matter has no alerts"}},
		{"empty alerts", "x.md", "---\ntitle: T\nalerts: []\n---\n", []string{"x.md:3: front matter has no alerts"}},
		{"empty front matter", "x.md", "---\n---\n", []string{"x.md:1: front matter has no alerts"}},
		{"not a mapping", "x.md", "---\n- X\n---\n", []string{"x.md:2: front matter must be a mapping"}},
		{"bad glob and matchers", "x.md", "---\nalerts:\n  - Good\n  - Kube[\nmatchers:\n  - 'team=\"a\"'\n  - 'team=~\"(\"'\n  - nonsense\n---\n", []string{
			`x.md:4: alerts: bad pattern "Kube["`,
			`x.md:7: matchers: bad matcher "team=~\"(\""`,
			`x.md:8: matchers: bad matcher "nonsense"`,
		}},
		{"wrong types", "x.md", "---\nalerts: [X]\ntitle: [T]\ndiagnose: maybe\nmatchers: {a: b}\n---\n", []string{
			"x.md:3: title must be a string",
			`x.md:4: diagnose must be true or false, not "maybe"`,
			"x.md:5: matchers must be a list of strings",
		}},
		{"repeated key", "x.md", "---\nalerts: [X]\nalerts: [Y]\n---\n", []string{`x.md:3: front matter key "alerts" repeated (first on line 2)`}},
		{"empty slug", "--.md", "---\nalerts: [X]\n---\n", []string{"--.md: the file name gives an empty slug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, problems := Parse(tc.file, []byte(tc.src))
			if r != nil {
				t.Errorf("got a runbook, want nil for an unusable file")
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("got problems %q, want %d", problems, len(tc.want))
			}
			for i, p := range problems {
				if !strings.HasPrefix(p.String(), tc.want[i]) {
					t.Errorf("problem %d: got %q, want %q…", i, p, tc.want[i])
				}
			}
		})
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"KubeNodeNotReady.md", "kubenodenotready"},
		{"k8s/Pod_Crash Looping!!.md", "pod-crash-looping"},
		{"--redis--.markdown", "redis"},
		{"a/b.c.md", "b-c"},
		{"Ünïcode.md", "n-code"},
	} {
		r, _ := Parse(tc.file, []byte("---\nalerts: [X]\n---\n"))
		if r == nil || r.Slug != tc.want {
			t.Errorf("slug of %q: got %v, want %q", tc.file, r, tc.want)
		}
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.md", Line: 3, Message: "bad"}, "a.md:3: bad"},
		{Problem{File: "a.md", Message: "bad"}, "a.md: bad"},
		{Problem{File: "a.md", Line: 1, Message: "no title", Warning: true}, "a.md:1: warning: no title"},
		{Problem{Message: "bad"}, "bad"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(crashLooping))
	f.Add([]byte("---\nalerts: [X]\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, problems := Parse("f.md", data)
		if r == nil && len(problems) == 0 {
			t.Fatal("nil runbook without a problem")
		}
		if r != nil {
			for _, s := range r.Steps {
				if s.Line < 1 {
					t.Fatalf("step at line %d", s.Line)
				}
			}
			if strings.Contains(string(r.HTML()), "<script") {
				t.Fatal("raw HTML rendered")
			}
		}
	})
}
