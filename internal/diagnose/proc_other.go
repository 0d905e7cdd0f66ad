//go:build !unix

package diagnose

import "os/exec"

// ownProcessGroup has a cancelled cmd killed; without process groups, what
// it started is left to the WaitDelay.
func ownProcessGroup(cmd *exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) {}
