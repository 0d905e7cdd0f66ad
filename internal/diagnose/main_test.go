package diagnose_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/diagnose"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// binDir holds diagprog, built from testdata/diagprog for the tests to run;
// prog is its absolute path.
var binDir, prog string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "diagnose")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir, prog = dir, filepath.Join(dir, "diagprog")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", prog, "./testdata/diagprog").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build diagprog: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// allowAll allows every mode of diagprog by its absolute path.
func allowAll() []string {
	var out []string
	for _, mode := range []string{"ok", "fail", "hang", "flood", "secret", "env", "args", "sleep", "binary"} {
		out = append(out, prog+" "+mode)
	}
	return out
}

func newRunner(t *testing.T, opts diagnose.Options) *diagnose.Runner {
	t.Helper()
	if opts.Allow == nil {
		opts.Allow = allowAll()
	}
	r, err := diagnose.NewRunner(opts)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	return r
}

// runOne runs a step that is one command and returns its result.
func runOne(t *testing.T, r *diagnose.Runner, line string, v runbook.Vars) klaxon.DiagnosticResult {
	t.Helper()
	res := r.Run(context.Background(), []string{line}, v)
	if len(res) != 1 {
		t.Fatalf("Run(%q): got %d results, want 1: %+v", line, len(res), res)
	}
	return res[0]
}

func labels(kv ...string) runbook.Vars {
	v := runbook.Vars{Labels: map[string]string{}, Annotations: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Labels[kv[i]] = kv[i+1]
	}
	return v
}
