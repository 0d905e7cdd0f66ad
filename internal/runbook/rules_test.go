package runbook

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadRules(t *testing.T) {
	rules, problems := LoadRules("testdata/rules")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	var got []string
	for _, r := range rules {
		got = append(got, fmt.Sprintf("%s:%d %s/%s", r.File, r.Line, r.Group, r.Name))
	}
	want := []string{
		"testdata/rules/k8s.yaml:11 kubernetes-apps/KubePodCrashLooping",
		"testdata/rules/k8s.yaml:21 kubernetes-apps/KubeNodeNotReady",
		"testdata/rules/k8s.yaml:36 node/NodeFilesystemAlmostFull",
		"testdata/rules/prometheus-rules.example.yml:7 am-fire/Watchdog",
		"testdata/rules/prometheus-rules.example.yml:16 am-fire/KubePodCrashLooping",
		"testdata/rules/prometheus-rules.example.yml:32 am-fire/ContainerMemoryHigh",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules:\ngot:\n%s\nwant:\n%s", lines(got), lines(want))
	}
	if len(rules) < 3 {
		return
	}
	if want := map[string]string{"severity": "critical", "team": "storage"}; !reflect.DeepEqual(rules[2].Labels, want) {
		t.Errorf("labels: got %v, want %v", rules[2].Labels, want)
	}
	if got := rules[0].Annotations["runbook_url"]; got != "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping" {
		t.Errorf("runbook_url: got %q", got)
	}

	// A file named on the command line is read whatever its extension.
	one, problems := LoadRules("testdata/rules/k8s.yaml")
	if len(one) != 3 || len(problems) > 0 {
		t.Errorf("LoadRules(file): got %d rules, problems %v; want 3", len(one), problems)
	}
}

func TestLoadRulesProblems(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"bad.yaml": `groups:
  - name: a
    rules:
      - alert: A
        expr: up == 0
---
groups:
  - name: b
    rules:
      - alert: B
        expr: up == 0
         for: 5m
`,
		"shape.yml": `groups:
  - name: a
    rules: {alert: A}
  - just a string
---
groups: none
`,
	})
	rules, problems := LoadRules(dir, filepath.Join(dir, "missing.yaml"))
	if len(rules) != 1 || rules[0].Name != "A" {
		t.Errorf("rules: got %+v, want A, read before the syntax error", rules)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(filepath.ToSlash(p.String()), filepath.ToSlash(dir)+"/"))
	}
	want := []string{
		"bad.yaml:12: mapping values are not allowed in this context",
		"shape.yml:3: rules must be a list",
		"shape.yml:4: a rule group must be a mapping with name and rules",
		"shape.yml:6: groups must be a list",
		"missing.yaml: stat " + filepath.ToSlash(filepath.Join(dir, "missing.yaml")) + ": no such file or directory",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\ngot:\n%s\nwant:\n%s", lines(got), lines(want))
	}
}

// Aliases in a rule file's structure are bounded: one to itself would
// recurse forever, and aliases of aliases multiply a few hundred bytes into
// millions of rules.
func TestLoadRulesBoundsAliases(t *testing.T) {
	var fanout strings.Builder
	fanout.WriteString("x0: &a0 {kind: List, items: [{groups: [{name: g, rules: [{alert: A}]}]}]}\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&fanout, "x%d: &a%d {kind: List, items: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	fanout.WriteString("kind: List\nitems: [*a6]\n")
	var sequences strings.Builder // aliases in the values, not the items
	sequences.WriteString("s0: &s0 [{groups: [{name: g, rules: [{alert: A}]}]}]\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&sequences, "s%d: &s%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("{kind: List, items: *s%d}, ", i-1), 10), ", "))
	}
	sequences.WriteString("kind: List\nitems: *s6\n")

	for name, text := range map[string]string{
		"self":      "&a {kind: List, items: [*a]}\n",
		"fan-out":   fanout.String(),
		"sequences": sequences.String(),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			rules, problems := LoadRules(path)
			if len(rules) > maxRuleFileAliases {
				t.Errorf("%d bytes gave %d rules", len(text), len(rules))
			}
			if len(problems) != 1 || !strings.Contains(problems[0].Message, "YAML aliases") {
				t.Errorf("problems: %v, want one about aliases", problems)
			}
		})
	}
}
