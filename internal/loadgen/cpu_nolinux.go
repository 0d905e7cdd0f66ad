//go:build !linux

package loadgen

import "time"

// machineCPU is not measured on this platform.
func machineCPU() time.Duration { return 0 }
