//go:build linux

package loadgen

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// machineCPU is the CPU time all processors have been busy (everything but
// idle and iowait) since boot, from /proc/stat; 0 if unreadable.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return 0
	}
	var busy int64
	for i, f := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0
		}
		busy += n
	}
	const userHz = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(busy) * time.Second / userHz
}
