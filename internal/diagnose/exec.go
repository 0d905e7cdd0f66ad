package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"syscall"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// waitDelay bounds how long a finished or killed command's output pipe may
// stay open: a grandchild that left the process group and kept it must not
// hang the run.
const waitDelay = time.Second

// exec runs argv (the program found at path) and fills in res.
func (r *Runner) exec(ctx context.Context, path string, argv []string, res *klaxon.DiagnosticResult) {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	out := &capWriter{limit: r.maxOutput + r.margin()}
	cmd := exec.CommandContext(cctx, path)
	cmd.Args = argv
	cmd.Env = r.environ()
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = out, out // one pipe, interleaved as written
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)

	start := time.Now()
	err := cmd.Start()
	if err != nil {
		res.Status = klaxon.DiagnosticError
		if errors.Is(err, fs.ErrNotExist) {
			res.Reason = fmt.Sprintf("%q not found", argv[0])
		} else {
			res.Reason = fmt.Sprintf("cannot start %q: %v", argv[0], err)
		}
		return
	}
	err = cmd.Wait()
	// Nothing a diagnostic started outlives it.
	killProcessGroup(cmd)
	res.Duration = time.Since(start)
	commandDuration.Observe(res.Duration.Seconds())
	res.Output, res.Truncated = r.output(out, r.maxOutput)

	var exitErr *exec.ExitError
	switch {
	case cmd.ProcessState != nil && cmd.ProcessState.Success():
		res.Status = klaxon.DiagnosticOK // even if a grandchild kept the pipe (ErrWaitDelay)
	case ctx.Err() != nil:
		res.Status, res.Reason = klaxon.DiagnosticError, reasonCancelled
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		res.Status, res.Reason = klaxon.DiagnosticTimeout, fmt.Sprintf("timed out after %s", r.timeout)
	case errors.As(err, &exitErr):
		res.Status, res.ExitCode = klaxon.DiagnosticFailed, exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Reason = fmt.Sprintf("killed by signal %s", ws.Signal())
		}
	default:
		res.Status, res.Reason = klaxon.DiagnosticError, err.Error()
	}
}
