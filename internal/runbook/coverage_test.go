package runbook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func coverageSet(t *testing.T) *Set {
	return NewSet(
		parsed(t, "pod-crash.md", `{alerts: [KubePodCrashLooping]}`),
		parsed(t, "k8s/Node_Down.md", `{alerts: [KubeNodeNotReady]}`),
		parsed(t, "prod-fs.md", `{alerts: [NodeFilesystemAlmostFull], matchers: ['namespace=~"prod-.*"']}`),
		parsed(t, "storage.md", `{alerts: ["NodeFilesystem*"], matchers: ['team="storage"']}`),
		parsed(t, "dev-only.md", `{alerts: [ContainerMemoryHigh], matchers: ['namespace="dev"']}`),
		parsed(t, "watchdog.md", `{alerts: [Watchdog]}`),
		parsed(t, "target-down.md", `{alerts: [TargetDown]}`),
		parsed(t, "unused.md", `{alerts: [NeverFires]}`),
	)
}

func rule(name, file string, line int, url string, labels map[string]string) Rule {
	r := Rule{Name: name, File: file, Line: line, Labels: labels, Annotations: map[string]string{}}
	if url != "" {
		r.Annotations["runbook_url"] = url
	}
	return r
}

var coverageRules = []Rule{
	rule("KubePodCrashLooping", "a.yaml", 11, "https://klaxon.example/runbooks/pod-crash?alert=1#diagnose", nil),
	rule("KubeNodeNotReady", "a.yaml", 21, "https://git.example/ops/runbooks/blob/main/k8s/Node_Down.md", nil),
	// prod-fs could match (namespace comes from the series), else storage,
	// which the rule's team label makes certain: either agrees.
	rule("NodeFilesystemAlmostFull", "a.yaml", 36, "https://wiki.example/ops/Storage", map[string]string{"team": "storage"}),
	rule("ContainerMemoryHigh", "b.yaml", 32, "https://runbooks.example.test/memory-high", map[string]string{"namespace": "checkout"}),
	rule("Watchdog", "b.yaml", 7, "https://wiki.example/runbooks/{{ $labels.alertname }}", nil),
	rule("KubePodCrashLooping", "c.yaml", 5, "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping", map[string]string{"severity": "warning"}),
	rule("TargetDown", "c.yaml", 9, "https://wiki.example/{{ $labels.job }}/down", nil),
	rule("NoRunbook", "c.yaml", 20, "", nil),
}

func TestCoverage(t *testing.T) {
	rep := Coverage(coverageSet(t), coverageRules)
	want := &Report{
		Rules: 8, Runbooks: 8, Covered: 6,
		Uncovered: []RuleRef{
			{Alert: "ContainerMemoryHigh", File: "b.yaml", Line: 32, RunbookURL: "https://runbooks.example.test/memory-high"},
			{Alert: "NoRunbook", File: "c.yaml", Line: 20},
		},
		Unused: []RunbookRef{{Slug: "dev-only", File: "dev-only.md"}, {Slug: "unused", File: "unused.md"}},
		Mismatched: []Mismatch{{Alert: "KubePodCrashLooping", File: "c.yaml", Line: 5,
			RunbookURL: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
			Runbook:    "pod-crash", Want: "/runbooks/pod-crash"}},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("Coverage:\ngot  %+v\nwant %+v", rep, want)
	}
	if !rep.Failed() {
		t.Error("Failed: got false with uncovered rules")
	}

	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	wantText := `8 alert rules, 8 runbooks: 6 covered, 2 uncovered, 1 mismatched, 2 unused

Uncovered alert rules (no runbook matches):
  b.yaml:32 ContainerMemoryHigh
  c.yaml:20 NoRunbook

Mismatched runbook_url (Klaxon shows another runbook):
  c.yaml:5 KubePodCrashLooping: runbook_url https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping, Klaxon shows pod-crash (/runbooks/pod-crash)

Unused runbooks (match no alert rule; fine if their alerts come from elsewhere):
  dev-only.md (dev-only)
  unused.md (unused)

FAIL: 2 alert rules without a runbook, 1 runbook_url pointing elsewhere
`
	if text.String() != wantText {
		t.Errorf("WriteText:\ngot:\n%s\nwant:\n%s", text.String(), wantText)
	}

	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"rules":8,"runbooks":8,"covered":6,` +
		`"uncovered":[{"alert":"ContainerMemoryHigh","file":"b.yaml","line":32,"runbook_url":"https://runbooks.example.test/memory-high"},{"alert":"NoRunbook","file":"c.yaml","line":20}],` +
		`"unused":[{"slug":"dev-only","file":"dev-only.md"},{"slug":"unused","file":"unused.md"}],` +
		`"mismatched":[{"alert":"KubePodCrashLooping","file":"c.yaml","line":5,"runbook_url":"https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping","runbook":"pod-crash","want":"/runbooks/pod-crash"}]}`
	if string(js) != wantJSON {
		t.Errorf("JSON:\ngot  %s\nwant %s", js, wantJSON)
	}
}

func TestCoverageOK(t *testing.T) {
	rep := Coverage(NewSet(parsed(t, "pod-crash.md", `{alerts: ["Kube*"]}`)), []Rule{rule("KubePodCrashLooping", "a.yaml", 3, "", nil)})
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if want := "1 alert rule, 1 runbook: 1 covered, 0 uncovered, 0 mismatched, 0 unused\n\nOK\n"; text.String() != want || rep.Failed() {
		t.Errorf("got Failed %v, text:\n%s\nwant:\n%s", rep.Failed(), text.String(), want)
	}
	js, _ := json.Marshal(rep)
	if want := `{"rules":1,"runbooks":1,"covered":1,"uncovered":[],"unused":[],"mismatched":[]}`; string(js) != want {
		t.Errorf("JSON: got %s, want %s", js, want)
	}
}

func TestURLAgrees(t *testing.T) {
	r := parsed(t, "k8s/Pod_Crash.md", `{alerts: [KubePodCrashLooping]}`) // slug pod-crash
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://klaxon.example/runbooks/pod-crash", true},
		{"/runbooks/pod-crash/", true},
		{"https://klaxon.example/runbooks/pod-crash?x=1#escalate", true},
		{"https://wiki.example/ops/POD-CRASH", true},
		{"https://wiki.example/ops/pod-crash.html", true},
		{"https://git.example/blob/main/pod-crash.md", true},
		{"https://git.example/blob/main/k8s/Pod_Crash.md", true},
		{"https://wiki.example/runbooks/{{ $labels.alertname }}", false}, // KubePodCrashLooping ≠ pod-crash
		{"https://wiki.example/{{ .Labels.namespace }}/x", true},         // cannot be checked
		{"https://wiki.example/runbooks/pod-crash-2", false},
		{"https://wiki.example/Pod_Crash.md", false},
		{"https://wiki.example/xk8s/Pod_Crash.md", false},
	} {
		if got := urlAgrees(tc.url, "KubePodCrashLooping", r); got != tc.want {
			t.Errorf("urlAgrees(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	named := parsed(t, "KubePodCrashLooping.md", `{alerts: [KubePodCrashLooping]}`)
	for _, url := range []string{"https://wiki.example/runbooks/{{ $labels.alertname }}", "https://wiki.example/{{- .Labels.alertname -}}.md"} {
		if !urlAgrees(url, "KubePodCrashLooping", named) {
			t.Errorf("urlAgrees(%q) = false, want true once the alert name is filled in", url)
		}
	}
}
