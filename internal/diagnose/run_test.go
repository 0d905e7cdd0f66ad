package diagnose_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/diagnose"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

func TestRunStatuses(t *testing.T) {
	r := newRunner(t, diagnose.Options{Allow: append(allowAll(), "/nonexistent/klaxon-diagprog", "klaxon-no-such-program")})
	tests := []struct {
		name, line string
		status     klaxon.DiagnosticStatus
		exit       int
		reason     string
		output     string // a part of it
	}{
		{"ok", prog + " ok", klaxon.DiagnosticOK, 0, "", "all good\nsecond line\n"},
		{"fail", prog + " fail", klaxon.DiagnosticFailed, 3, "", "something broke"},
		// Output is stored as JSON text: NUL (which PostgreSQL's jsonb
		// refuses) and invalid UTF-8 become U+FFFD.
		{"binary output", prog + " binary", klaxon.DiagnosticOK, 0, "", "nul\uFFFDbyte \uFFFD end\n"},
		{"mode not allowed", prog + " delete x", klaxon.DiagnosticRefused, 0, `"` + prog + ` delete" is not on the allowlist (diagnostics.allow)`, ""},
		{"program not allowed", "rm -rf /", klaxon.DiagnosticRefused, 0, `"rm" is not on the allowlist (diagnostics.allow)`, ""},
		{"absolute program missing", "/nonexistent/klaxon-diagprog", klaxon.DiagnosticError, 0, `"/nonexistent/klaxon-diagprog" not found`, ""},
		{"bare program missing", "klaxon-no-such-program --help", klaxon.DiagnosticError, 0, `"klaxon-no-such-program" not found in PATH`, ""},
		{"shell syntax", prog + " ok | wc -l", klaxon.DiagnosticRefused, 0, "refused: pipes need a shell; diagnostics never run one", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runOne(t, r, tt.line, runbook.Vars{})
			if got.Status != tt.status || got.ExitCode != tt.exit || got.Reason != tt.reason {
				t.Errorf("got status %s, exit %d, reason %q; want %s, %d, %q", got.Status, got.ExitCode, got.Reason, tt.status, tt.exit, tt.reason)
			}
			if !strings.Contains(got.Output, tt.output) {
				t.Errorf("output %q does not contain %q", got.Output, tt.output)
			}
			if got.Command != tt.line {
				t.Errorf("command: got %q, want %q", got.Command, tt.line)
			}
			ran := got.Status == klaxon.DiagnosticOK || got.Status == klaxon.DiagnosticFailed
			if ran != (got.Duration > 0) {
				t.Errorf("duration %s for a command with status %s", got.Duration, got.Status)
			}
		})
	}
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	const timeout = time.Second
	r := newRunner(t, diagnose.Options{Timeout: timeout})
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	start := time.Now()
	got := runOne(t, r, prog+" hang "+pidFile, runbook.Vars{})
	elapsed := time.Since(start)
	if got.Status != klaxon.DiagnosticTimeout || got.Reason != "timed out after 1s" {
		t.Errorf("got status %s, reason %q; want timeout, %q", got.Status, got.Reason, "timed out after 1s")
	}
	if elapsed > timeout+2*time.Second {
		t.Errorf("Run returned after %s, want within %s", elapsed, timeout+2*time.Second)
	}
	if got.Output != "hanging\n" {
		t.Errorf("output: got %q, want what was written before the kill, %q", got.Output, "hanging\n")
	}
	assertDead(t, readPid(t, pidFile))
}

// readPid reads the grandchild pid diagprog hang wrote.
func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("grandchild pid: %v", err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", b, err)
	}
	return pid
}

// assertDead waits a little for pid to be gone (or a zombie nobody reaped
// yet) and fails if it is not.
func assertDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("grandchild %d still alive: the process group was not killed", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFloodIsCapped(t *testing.T) {
	r := newRunner(t, diagnose.Options{})
	got := runOne(t, r, prog+" flood", runbook.Vars{})
	if got.Status != klaxon.DiagnosticOK {
		t.Fatalf("status: got %s (%s), want ok", got.Status, got.Reason)
	}
	if len(got.Output) > diagnose.DefaultMaxOutput || len(got.Output) < diagnose.DefaultMaxOutput-4 {
		t.Errorf("output: got %d bytes, want about %d", len(got.Output), diagnose.DefaultMaxOutput)
	}
	if !got.Truncated {
		t.Error("Truncated: got false, want true")
	}
}

func TestRedaction(t *testing.T) {
	const token = "tok-9f8e7d6c5b4a3210" // Klaxon's own, found in its environment
	const literal = "literal-secret-4242"
	t.Setenv("KLAXON_TEST_TOKEN", token)
	r := newRunner(t, diagnose.Options{
		Env:     []string{"KLAXON_TEST_TOKEN"}, // passed on purpose, still never shown
		Secrets: []string{literal},
		Redact:  []*regexp.Regexp{regexp.MustCompile(`hunter2\w*`)},
	})
	got := runOne(t, r, prog+" secret {{ .Labels.a }} {{ .Labels.b }}", labels("a", token, "b", literal))
	if got.Status != klaxon.DiagnosticOK {
		t.Fatalf("status: got %s (%s), want ok", got.Status, got.Reason)
	}
	for _, secret := range []string{token, literal, "hunter2", "abc.DEF-123_xyz", "testkeymaterial", "PRIVATE KEY"} {
		if strings.Contains(got.Output, secret) {
			t.Errorf("output shows %q:\n%s", secret, got.Output)
		}
		if strings.Contains(got.Command, secret) {
			t.Errorf("command shows %q: %s", secret, got.Command)
		}
	}
	for _, want := range []string{"token: [REDACTED]\n", "Authorization: Bearer [REDACTED]\n", "password=[REDACTED]\n", "arg: [REDACTED]\n"} {
		if !strings.Contains(got.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, got.Output)
		}
	}
	if want := prog + " secret [REDACTED] [REDACTED]"; got.Command != want {
		t.Errorf("command: got %q, want %q", got.Command, want)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("KLAXON_TEST_TOKEN", "tok-should-not-pass")
	t.Setenv("KLAXON_TEST_OTHER", "other")
	t.Setenv("KLAXON_TEST_VISIBLE", "yes-visible")
	t.Setenv("LANG", "C.UTF-8")
	r := newRunner(t, diagnose.Options{Env: []string{"KLAXON_TEST_VISIBLE"}})
	got := runOne(t, r, prog+" env", runbook.Vars{})
	if got.Status != klaxon.DiagnosticOK {
		t.Fatalf("status: got %s (%s), want ok", got.Status, got.Reason)
	}
	allowed := []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "KLAXON_TEST_VISIBLE"}
	var names []string
	for _, kv := range strings.Split(strings.TrimSpace(got.Output), "\n") {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
		if !slices.Contains(allowed, name) {
			t.Errorf("child sees %q; only %q may pass", kv, allowed)
		}
	}
	for _, want := range []string{"PATH", "LANG", "KLAXON_TEST_VISIBLE"} {
		if !slices.Contains(names, want) {
			t.Errorf("child does not see %s; got %q", want, names)
		}
	}
	if !strings.Contains(got.Output, "KLAXON_TEST_VISIBLE=yes-visible\n") {
		t.Errorf("output lacks KLAXON_TEST_VISIBLE=yes-visible:\n%s", got.Output)
	}
}

func TestRefusedCommandsDoNotRun(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // were the allowlist broken, rm would still not be found
	r := newRunner(t, diagnose.Options{Allow: []string{prog + " ok"}})
	f := func(name string) string { return filepath.Join(dir, name) }
	lines := []string{
		prog + " delete " + f("a"),
		prog + " ok; " + prog + " delete " + f("b"),
		prog + " ok && " + prog + " delete " + f("c"),
		prog + " ok || " + prog + " delete " + f("d"),
		prog + " ok | " + prog + " delete " + f("e"),
		prog + " ok > " + f("f"),
		prog + " ok $(" + prog + " delete " + f("g") + ")",
		prog + " ok `" + prog + " delete " + f("h") + "`",
		"(" + prog + " delete " + f("i") + ")",
		"X=1 " + prog + " ok " + f("j"),
		prog + " ok & " + prog + " delete " + f("k"),
		"rm -rf " + victim,
		"rm -rf /",
	}
	results := r.Run(context.Background(), []string{strings.Join(lines, "\n")}, runbook.Vars{})
	if len(results) != len(lines) {
		t.Fatalf("got %d results, want %d", len(results), len(lines))
	}
	for i, res := range results {
		if res.Status != klaxon.DiagnosticRefused || res.Reason == "" || res.Output != "" || res.Duration != 0 {
			t.Errorf("%s: got status %s, reason %q, output %q; want refused with a reason", lines[i], res.Status, res.Reason, res.Output)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("refused commands left files behind: %v", entries)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("victim: %v", err)
	}
}

func TestPlaceholderValuesStayOneArgument(t *testing.T) {
	r := newRunner(t, diagnose.Options{})
	v := labels("pod", "my pod", "ns", "prod", "evil", `$(touch /tmp/x); "q" 'q' | *`)
	v.Annotations["summary"] = "it's `broken`"
	line := prog + ` args {{ .Labels.pod }} --namespace={{ .Labels.ns }} "{{ .Labels.evil }}" '{{ .Annotations.summary }}' x{{ .Labels.ns }}y`
	got := runOne(t, r, line, v)
	want := `"my pod"` + "\n" + `"--namespace=prod"` + "\n" + `"$(touch /tmp/x); \"q\" 'q' | *"` + "\n" + "\"it's `broken`\"\n" + `"xprody"` + "\n"
	if got.Status != klaxon.DiagnosticOK || got.Output != want {
		t.Errorf("got %s (%s), output:\n%s\nwant ok, output:\n%s", got.Status, got.Reason, got.Output, want)
	}
	wantCmd := prog + ` args my pod --namespace=prod "$(touch /tmp/x); "q" 'q' | *" 'it's 'broken'' xprody`
	if got.Command != wantCmd {
		t.Errorf("command:\ngot  %s\nwant %s", got.Command, wantCmd)
	}
}

func TestUnsafeValuesAreRefused(t *testing.T) {
	r := newRunner(t, diagnose.Options{})
	tests := []struct {
		name   string
		v      runbook.Vars
		reason string
	}{
		{"option", labels("pod", "--all-namespaces"), `refused: label "pod" starts with "-"; an alert must not add options to a command`},
		{"missing", labels("other", "x"), `refused: the alert has no label "pod"`},
		{"empty", labels("pod", ""), `refused: the alert has no label "pod"`},
		{"newline", labels("pod", "a\nb"), `refused: label "pod" holds control characters`},
		{"NUL", labels("pod", "a\x00b"), `refused: label "pod" holds control characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runOne(t, r, prog+" args {{ .Labels.pod }}", tt.v)
			if got.Status != klaxon.DiagnosticRefused || got.Reason != tt.reason {
				t.Errorf("got %s, %q; want refused, %q", got.Status, got.Reason, tt.reason)
			}
		})
	}
}

func TestBareNameFromPATH(t *testing.T) {
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	r := newRunner(t, diagnose.Options{Allow: []string{"diagprog ok"}})
	if got := runOne(t, r, "diagprog ok", runbook.Vars{}); got.Status != klaxon.DiagnosticOK {
		t.Errorf("diagprog ok: got %s (%s), want ok", got.Status, got.Reason)
	}
	// The program compares as written: a path is not the bare name.
	if got := runOne(t, r, prog+" ok", runbook.Vars{}); got.Status != klaxon.DiagnosticRefused {
		t.Errorf("%s ok: got %s (%s), want refused", prog, got.Status, got.Reason)
	}
	t.Setenv("PATH", ".")
	t.Chdir(binDir)
	if got := runOne(t, r, "diagprog ok", runbook.Vars{}); got.Status != klaxon.DiagnosticError {
		t.Errorf("diagprog ok from PATH=.: got %s (%s), want error", got.Status, got.Reason)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit, runs = 2, 5
	dir := t.TempDir()
	r := newRunner(t, diagnose.Options{Concurrency: limit})
	var wg sync.WaitGroup
	for range runs {
		wg.Go(func() {
			got := r.Run(context.Background(), []string{prog + " sleep 150 " + dir}, runbook.Vars{})
			if got[0].Status != klaxon.DiagnosticOK {
				t.Errorf("sleep: got %s (%s), want ok", got[0].Status, got[0].Reason)
			}
		})
	}
	wg.Wait()

	type event struct {
		at    int64
		delta int
	}
	var events []event
	files, _ := filepath.Glob(filepath.Join(dir, "[0-9]*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var start, end int64
		if _, err := fmt.Sscan(string(b), &start, &end); err != nil {
			t.Fatalf("%s: %q: %v", f, b, err)
		}
		events = append(events, event{start, +1}, event{end, -1})
	}
	if len(files) != runs {
		t.Fatalf("got %d timing files, want %d", len(files), runs)
	}
	// Ends before starts at the same instant: a slot is freed before the
	// next command takes it.
	slices.SortFunc(events, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta))
	})
	running, most := 0, 0
	for _, e := range events {
		running += e.delta
		most = max(most, running)
	}
	if most > limit {
		t.Errorf("up to %d commands ran at once, want at most %d", most, limit)
	}
}

func TestCancel(t *testing.T) {
	t.Run("while running", func(t *testing.T) {
		r := newRunner(t, diagnose.Options{Timeout: time.Minute})
		pidFile := filepath.Join(t.TempDir(), "pid")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			waitFile(pidFile, 10*time.Second)
			cancel()
		}()
		start := time.Now()
		got := r.Run(ctx, []string{prog + " hang " + pidFile, prog + " ok"}, runbook.Vars{})
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("Run returned after %s", elapsed)
		}
		for i, res := range got {
			if res.Status != klaxon.DiagnosticError || res.Reason != "cancelled" {
				t.Errorf("result %d: got %s, %q; want error, cancelled", i, res.Status, res.Reason)
			}
		}
		if len(got) != 2 {
			t.Fatalf("got %d results, want 2", len(got))
		}
		assertDead(t, readPid(t, pidFile))
	})
	t.Run("waiting for a slot", func(t *testing.T) {
		r := newRunner(t, diagnose.Options{Timeout: time.Minute, Concurrency: 1})
		pidFile := filepath.Join(t.TempDir(), "pid")
		hangCtx, stopHang := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Run(hangCtx, []string{prog + " hang " + pidFile}, runbook.Vars{})
		}()
		defer stopHang()
		if !waitFile(pidFile, 10*time.Second) {
			t.Fatal("hang did not start")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		got := r.Run(ctx, []string{prog + " ok"}, runbook.Vars{})
		if got[0].Status != klaxon.DiagnosticError || got[0].Reason != "cancelled" {
			t.Errorf("got %s, %q; want error, cancelled", got[0].Status, got[0].Reason)
		}
		stopHang()
		<-done
		assertDead(t, readPid(t, pidFile))
	})
}

// waitFile polls until path exists, for at most d.
func waitFile(path string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestNewRunnerErrors(t *testing.T) {
	tests := []struct {
		name string
		opts diagnose.Options
	}{
		{"empty entry", diagnose.Options{Allow: []string{"kubectl get", ""}}},
		{"blank entry", diagnose.Options{Allow: []string{"  \t "}}},
		{"relative path", diagnose.Options{Allow: []string{"./bin/kubectl get"}}},
		{"env not a name", diagnose.Options{Env: []string{"A=B"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := diagnose.NewRunner(tt.opts); err == nil {
				t.Error("got no error")
			}
		})
	}
}
