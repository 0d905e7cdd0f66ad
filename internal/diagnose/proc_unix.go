//go:build unix

package diagnose

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a process group of its own, and has a
// cancelled or timed-out cmd kill the whole group, so that what it started
// dies with it and cannot keep its output pipe open.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return nil
	}
}

// killProcessGroup kills what is left of cmd's process group once cmd has
// been waited for.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
