package runbook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parsed is a runbook with front matter fm and an empty body.
func parsed(t testing.TB, file, fm string) *Runbook {
	t.Helper()
	r, problems := Parse(file, []byte("---\n"+fm+"\n---\n"))
	if r == nil || len(problems) > 0 {
		t.Fatalf("Parse(%s): %v", file, problems)
	}
	return r
}

// writeFiles writes files (slash paths relative to dir) and their contents.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func slugs(rs []*Runbook) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Slug)
	}
	return out
}

func TestMatch(t *testing.T) {
	type rb struct{ file, fm string }
	crash := map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod"}
	for _, tc := range []struct {
		name     string
		runbooks []rb
		labels   map[string]string
		want     string // slug, "" for none
	}{
		{"exact beats glob with more matchers", []rb{
			{"a.md", `{alerts: ["KubePod*"], matchers: ['namespace="prod"', 'alertname!=""']}`},
			{"z.md", `{alerts: [KubePodCrashLooping]}`},
		}, crash, "z"},
		{"more matchers beat fewer", []rb{
			{"a.md", `{alerts: [KubePodCrashLooping]}`},
			{"z.md", `{alerts: [KubePodCrashLooping], matchers: ['namespace="prod"']}`},
		}, crash, "z"},
		{"fewer matchers when the others do not match", []rb{
			{"a.md", `{alerts: [KubePodCrashLooping]}`},
			{"z.md", `{alerts: [KubePodCrashLooping], matchers: ['namespace="dev"']}`},
		}, crash, "a"},
		{"more matchers beat more literal glob", []rb{
			{"a.md", `{alerts: ["Kube*"], matchers: ['namespace=~"prod|dev"']}`},
			{"z.md", `{alerts: ["KubePod*"]}`},
		}, crash, "a"},
		{"more literal glob wins", []rb{
			{"a.md", `{alerts: ["Kube*"]}`},
			{"m.md", `{alerts: ["*Looping"]}`},
			{"z.md", `{alerts: ["KubePod*Loop[a-z]ng"]}`},
		}, crash, "z"},
		{"file order breaks ties", []rb{
			{"b.md", `{alerts: [KubePodCrashLooping]}`},
			{"a/z.md", `{alerts: [KubePodCrashLooping]}`},
		}, crash, "z"},
		{"best pattern of a runbook counts", []rb{
			{"a.md", `{alerts: ["Kube*"]}`},
			{"z.md", `{alerts: ["Nope", "*", "KubePod*"]}`},
		}, crash, "z"},
		{"absent label is empty", []rb{
			{"a.md", `{alerts: [KubePodCrashLooping], matchers: ['team!="payments"']}`},
		}, crash, "a"},
		{"matchers must all match", []rb{
			{"a.md", `{alerts: [KubePodCrashLooping], matchers: ['namespace="prod"', 'team="payments"']}`},
		}, crash, ""},
		{"no alertname", []rb{{"a.md", `{alerts: [KubePodCrashLooping]}`}}, map[string]string{"namespace": "prod"}, ""},
		{"glob is not a prefix", []rb{{"a.md", `{alerts: ["KubePod"]}`}}, crash, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rbs []*Runbook
			for _, r := range tc.runbooks {
				rbs = append(rbs, parsed(t, r.file, r.fm))
			}
			got := NewSet(rbs...).Match(tc.labels)
			if (got == nil && tc.want != "") || (got != nil && got.Slug != tc.want) {
				t.Errorf("Match: got %v, want %q", got, tc.want)
			}
			if got != nil && !got.Matches(tc.labels) {
				t.Errorf("%s: Matches false for the runbook Match picked", got.File)
			}
		})
	}
}

func TestFind(t *testing.T) {
	set := NewSet(
		parsed(t, "pod-crash.md", `{alerts: [KubePodCrashLooping]}`),
		parsed(t, "redis.md", `{alerts: ["Redis*"]}`),
		parsed(t, "prod-only.md", `{alerts: [KubeNodeNotReady], matchers: ['namespace="prod"']}`),
	)
	for _, tc := range []struct{ arg, want string }{
		{"pod-crash", "pod-crash"},
		{"POD-Crash", "pod-crash"},
		{"KubePodCrashLooping", "pod-crash"},
		{"kubepodcrashlooping", ""}, // alert names are case-sensitive
		{"RedisDown", "redis"},
		{"KubeNodeNotReady", "prod-only"}, // the one covering the name for some labels
		{"prod-only", "prod-only"},
		{"nope", ""},
	} {
		got := set.Find(tc.arg)
		if (got == nil && tc.want != "") || (got != nil && got.Slug != tc.want) {
			t.Errorf("Find(%q): got %v, want %q", tc.arg, got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := "---\nalerts: [%s]\n---\n## Diagnose\n"
	writeFiles(t, dir, map[string]string{
		"pod-crash.md":           strings.Replace(good, "%s", "KubePodCrashLooping", 1),
		"k8s/node-not-ready.md":  strings.Replace(good, "%s", "KubeNodeNotReady", 1),
		"other.markdown":         strings.Replace(good, "%s", "Other", 1),
		"z/Pod_Crash.md":         strings.Replace(good, "%s", "Duplicate", 1),
		"broken.md":              "# no front matter\n",
		"README.md":              "# not a runbook\n",
		"sub/readme.MD":          "# not a runbook\n",
		".github/template.md":    "# not a runbook\n",
		"_drafts/wip.md":         "# not a runbook\n",
		".hidden.md":             "# not a runbook\n",
		"notes.txt":              "not a runbook\n",
		"k8s/deeper/typo.md":     "---\nalerts: [X]\nowners: me\n---\n",
		"k8s/deeper/_partial.md": "# not a runbook\n",
	})
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slugs(set.All()), []string{"node-not-ready", "other", "pod-crash"}; !reflect.DeepEqual(got, want) {
		t.Errorf("All: got %q, want %q", got, want)
	}
	if r := set.Get("node-not-ready"); r == nil || r.File != "k8s/node-not-ready.md" {
		t.Errorf("Get(node-not-ready): got %+v", r)
	}
	if r := set.Match(map[string]string{"alertname": "KubePodCrashLooping"}); r == nil || r.File != "pod-crash.md" {
		t.Errorf("Match(KubePodCrashLooping): got %+v, want pod-crash.md served beside the broken files", r)
	}
	if r := set.Match(map[string]string{"alertname": "Duplicate"}); r != nil {
		t.Errorf("Match(Duplicate): got %s, want nil: the duplicate slug is skipped", r.File)
	}
	var got []string
	for _, p := range set.Problems() {
		got = append(got, p.String())
	}
	want := []string{
		"broken.md:1: no front matter: a runbook starts with a --- line, then YAML naming the alerts it covers, then another --- line",
		`k8s/deeper/typo.md:3: unknown front matter key "owners" (known: title, alerts, matchers, owner, severity, diagnose)`,
		`z/Pod_Crash.md: slug "pod-crash" is already taken by pod-crash.md: file skipped, rename one of them`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Problems:\ngot  %q\nwant %q", got, want)
	}

	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing directory: got no error")
	}
}

func TestLoadSymlinks(t *testing.T) {
	// A Kubernetes ConfigMap volume: files are symlinks into a hidden
	// directory that is swapped on update.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"..2026_01_01/pod-crash.md": "---\nalerts: [KubePodCrashLooping]\n---\n"})
	if err := os.Symlink("..2026_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink("..data/pod-crash.md", filepath.Join(dir, "pod-crash.md")); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := slugs(set.All()); !reflect.DeepEqual(got, []string{"pod-crash"}) || len(set.Problems()) > 0 {
		t.Errorf("got %q, problems %v; want just pod-crash", got, set.Problems())
	}
}

func TestLiteralLen(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    int
	}{
		{"Kube*", 4},
		{"KubePod*", 7},
		{"*", 0},
		{"Kube?od", 6},
		{"Kube[A-Z]od*", 6},
		{`Kube\*`, 5},
	} {
		if got := literalLen(tc.pattern); got != tc.want {
			t.Errorf("literalLen(%q) = %d, want %d", tc.pattern, got, tc.want)
		}
	}
}
