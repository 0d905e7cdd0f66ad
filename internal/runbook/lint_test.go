package runbook

import (
	"reflect"
	"testing"
)

// complete is a runbook body with every required section.
var complete = md(`## Diagnose
'''diagnose
kubectl get pods -n {{ .Labels.namespace }}
'''
## Common causes
## Escalate
`)

func TestLint(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ok.md": "---\ntitle: OK\nalerts: [OkAlert]\n---\n" + complete,
		"missing.md": md(`---
title: Missing
alerts: [Missing]
---
## Diagnose
'''
uptime
'''
`),
		"h1.md":       "---\nalerts: [H1]\n---\n# Title from the heading\n\nSome text.\n",
		"untitled.md": "---\nalerts: [Untitled]\n---\n" + complete,
		"nosteps.md": md(`---
title: No steps
alerts: [NoSteps]
---
## Diagnose
Look at the dashboard.
## Causes
'''
not a step
'''
## Escalate
`),
		"blocks.md": md(`---
title: Blocks
alerts: [Blocks]
---
## Diagnose
'''diagnose
kubectl logs {{ .Labels.pod | quote }}
'''
## Fixes
'''diagnose
kubectl delete pod {{ .Labels.pod }}
'''
## Escalate
`),
		"broken.md": "---\nalerts: [Broken]\nowners: me\n---\n" + complete,
		"c1.md":     "---\ntitle: C\nalerts: [Dup, \"Dup*\"]\n---\n" + complete,
		"c2.md":     "---\ntitle: C\nalerts:\n  - Dup\n  - Dup*\n---\n" + complete,
		"c3.md":     "---\ntitle: C\nalerts: [Dup]\nmatchers: ['team=\"x\"']\n---\n" + complete,
		"c4.md":     "---\ntitle: C\nalerts: [Dup]\nmatchers: ['team=\"y\"']\n---\n" + complete, // disjoint from c3
		"c5.md":     "---\ntitle: C\nalerts: [Dup]\nmatchers: ['team=~\"x|y\"']\n---\n" + complete,
	})
	problems, err := Lint(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`blocks.md:7: unsupported placeholder "{{ .Labels.pod | quote }}": use {{ .Labels.name }} or {{ .Annotations.name }}`,
		"blocks.md:11: ```diagnose block not in a Diagnose section, so it is never run",
		`broken.md:3: unknown front matter key "owners" (known: title, alerts, matchers, owner, severity, diagnose)`,
		`c2.md:4: alert "Dup" is also claimed by c1.md with the same specificity, and c1.md wins: add a matcher to tell them apart or merge them`,
		`c2.md:5: alert "Dup*" is also claimed by c1.md with the same specificity, and c1.md wins: add a matcher to tell them apart or merge them`,
		`c5.md:3: alert "Dup" is also claimed by c3.md with the same specificity, and c3.md wins: add a matcher to tell them apart or merge them`,
		"h1.md:4: missing sections: diagnose, causes, escalate (add ## Diagnose, ## Common causes and fixes, ## Escalate)",
		"missing.md:2: missing sections: causes, escalate (add ## Common causes and fixes, ## Escalate)",
		"nosteps.md:5: the diagnose section has no code block: put the first commands to run in a fenced code block",
		`untitled.md:1: warning: no title: add title: to the front matter or a # heading (the slug "untitled" is shown instead)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lint:\ngot:\n%s\nwant:\n%s", lines(got), lines(want))
	}
	for _, p := range problems {
		if p.Warning != (p.File == "untitled.md") {
			t.Errorf("%s: Warning = %v", p, p.Warning)
		}
	}

	if _, err := Lint(dir + "/missing"); err == nil {
		t.Error("Lint of a missing directory: got no error")
	}
}

func lines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
