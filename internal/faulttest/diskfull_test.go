package faulttest

import (
	"database/sql"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for integrity_check
)

// smallDisk mounts a tmpfs of size bytes on a temporary directory and
// returns the directory; it is unmounted when the test ends, after the
// cleanups registered later (the replicas', the stores') have run.
// Mounting needs root: without it the test is skipped (failed in CI).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		skipOrFail(t, "mount a %s tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes path until the filesystem has no byte left: in large
// writes first, then smaller ones for the last partial blocks.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, size)
		// Bounded: the disk is far smaller than this many writes.
		for range 1 << 16 {
			if _, err = f.Write(buf); err != nil {
				break
			}
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("fill %s: want ENOSPC, got %v", path, err)
		}
	}
}

// integrityCheck runs SQLite's own check of every page and index of the
// file and returns its verdict: "ok" or the first problem.
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&verdict); err != nil {
		t.Fatalf("integrity_check %s: %v", path, err)
	}
	return verdict
}

// fullDisk fills disk while the storm goes on, waits until the storm is
// answered 503, keeps the disk full a little longer, and frees it again.
func fullDisk(t *testing.T, disk string, st *storm, r *replica) {
	t.Helper()
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	full := time.Now()
	for st.answers(http.StatusServiceUnavailable) == 0 && time.Since(full) < diskFullFor {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("first 503 %v after the disk was full", time.Since(full).Round(time.Millisecond))
	time.Sleep(diskFullHold)
	if !r.alive() {
		t.Errorf("%s exited while the disk was full", r.name)
	}
	if err := os.Remove(filler); err != nil {
		t.Error(err)
	}
}

// diskFullFor bounds how long the test waits for the full disk to be felt,
// and diskFullHold how long it then keeps it full.
const (
	diskFullFor  = 20 * time.Second
	diskFullHold = 2 * time.Second
)

// TestFaultDiskFull: the disk under the SQLite file fills up mid-storm.
// Ingest answers 503 with a log line that says the disk is full — not 500,
// not a hang, not a crash — and recovers once space returns; the file
// passes SQLite's integrity check after a graceful stop, and nothing
// accepted is lost or posted twice.
func TestFaultDiskFull(t *testing.T) {
	disk := smallDisk(t, "64m")
	path := filepath.Join(disk, "klaxon.db")
	p := newPlatforms(t)
	c := newCluster(t, "sqlite://"+path, p, escalateAfter)
	r := c.start()

	// The disk fills a quarter of the way through the storm: the rest
	// writes far more than the WAL file's already allocated pages hold,
	// so the store must run out of space before the storm ends.
	st := stormWith(t, c, 0.25, func(st *storm) { fullDisk(t, disk, st, r) })
	o := settle(t, c, p, st, true, time.Minute)

	unavailable := st.answers(http.StatusServiceUnavailable)
	t.Logf("ingest answers while the disk was full: %d × 503, %d × 500", unavailable, st.answers(http.StatusInternalServerError))
	if unavailable == 0 {
		t.Errorf("no ingest request was answered 503 in the %v the disk was full", diskFullFor)
	}
	if other := st.retries - unavailable; other > 0 {
		t.Errorf("%d failed attempts were not answered 503 (%d × 500): no answer, a crash or an internal error", other, st.answers(http.StatusInternalServerError))
	}
	if line := c.logLine("database unavailable: disk full"); line != "" {
		t.Logf("logged: %s", line)
	} else {
		t.Error(`no "database unavailable: disk full" in the log`)
	}
	r.stop(t)
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited with %d after SIGTERM, want 0", r.name, code)
	}
	if verdict := integrityCheck(t, path); verdict != "ok" {
		t.Errorf("integrity_check after the disk was full: %s", verdict)
	}
	check(t, "disk-full-sqlite", o)
}
