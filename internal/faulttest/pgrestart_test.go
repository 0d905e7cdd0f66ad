package faulttest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// postgresServer is a PostgreSQL server of the test's own, which it may
// stop and start: the shared test server must stay up for other packages.
type postgresServer struct {
	bin string // the directory of initdb and pg_ctl
	dir string // holds the data directory, the socket and the server log
	url string
	// owner is the OS user that runs the server, or nil for the current
	// one: initdb refuses to run as root.
	owner *user.User
}

// startPostgres creates a fresh cluster in a temporary directory and
// starts it on a free port of 127.0.0.1, with fsync on. Without the
// PostgreSQL binaries the test is skipped (failed in CI).
func startPostgres(t *testing.T) *postgresServer {
	t.Helper()
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		skipOrFail(t, "no /usr/lib/postgresql/*/bin/initdb: cannot run a PostgreSQL server of the test's own")
	}
	// The newest major version: 9 < 10 < 15 as numbers, not as strings.
	slices.SortFunc(initdbs, func(a, b string) int { return majorVersion(a) - majorVersion(b) })
	pg := &postgresServer{bin: filepath.Dir(initdbs[len(initdbs)-1])}

	dir, err := os.MkdirTemp("", "klaxon-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		if pg.owner, err = user.Lookup("postgres"); err != nil {
			skipOrFail(t, "running as root, and no postgres OS user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.owner.Uid)
		gid, _ := strconv.Atoi(pg.owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}

	if out, err := pg.command("initdb", "--pgdata", pg.data(), "--username", "klaxon", "--auth", "trust",
		"--encoding", "UTF8").CombinedOutput(); err != nil {
		skipOrFail(t, "initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	// Appended settings override initdb's; restarts keep them.
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"fsync = on\nsynchronous_commit = on\n", port, dir)
	if err := appendFile(filepath.Join(pg.data(), "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	if err := pg.ctl("start"); err != nil {
		skipOrFail(t, "%v", err)
	}
	t.Cleanup(func() {
		if err := pg.ctl("stop", "-m", "immediate"); err != nil {
			t.Error(err)
		}
	})
	pg.url = fmt.Sprintf("postgres://klaxon@127.0.0.1:%d/postgres?sslmode=disable", port)
	return pg
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func majorVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func (pg *postgresServer) data() string { return filepath.Join(pg.dir, "data") }

// command runs one of the PostgreSQL binaries as the server's owner.
func (pg *postgresServer) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	var cmd *exec.Cmd
	if pg.owner != nil {
		cmd = exec.Command("runuser", append([]string{"-u", pg.owner.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = pg.dir // the owner may not be allowed into the test's directory
	return cmd
}

// ctl runs pg_ctl on the cluster and waits for it to finish (-w).
func (pg *postgresServer) ctl(action string, args ...string) error {
	args = append([]string{action, "--pgdata", pg.data(), "--log", filepath.Join(pg.dir, "server.log"), "-w", "-t", "30"}, args...)
	if out, err := pg.command("pg_ctl", args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		return fmt.Errorf("pg_ctl %s: %v\n%s\nserver log:\n%s", action, err, out, log)
	}
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// postgresDownFor is how long PostgreSQL stays down mid-storm.
const postgresDownFor = 3 * time.Second

// TestFaultPostgresRestart: PostgreSQL restarted mid-storm. While it is
// down, ingest answers 503 (so Alertmanager retries), never 500; the
// replicas recover by themselves once it is back, and nothing accepted is
// lost or posted twice.
func TestFaultPostgresRestart(t *testing.T) {
	pg := startPostgres(t)
	p := newPlatforms(t)
	c := newCluster(t, pg.url, p, escalateAfter)
	c.start()
	c.start()
	st := stormWith(t, c, 0.5, func(*storm) {
		if err := pg.ctl("stop", "-m", "fast"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(postgresDownFor)
		if err := pg.ctl("start"); err != nil {
			t.Fatal(err)
		}
	})
	o := settle(t, c, p, st, true, time.Minute)

	unavailable := st.answers(http.StatusServiceUnavailable)
	t.Logf("ingest answers while PostgreSQL was down: %d × 503, %d × 500", unavailable, st.answers(http.StatusInternalServerError))
	if unavailable == 0 {
		t.Error("no ingest request was answered 503: the outage was not felt")
	}
	if other := st.retries - unavailable; other > 0 {
		t.Errorf("%d failed attempts were not answered 503 (%d × 500): no answer, a crash or an internal error", other, st.answers(http.StatusInternalServerError))
	}
	if line := c.logLine(`"msg":"database unavailable"`); line != "" {
		t.Logf("logged: %s", line)
	} else {
		t.Error(`no replica logged "database unavailable"`)
	}
	if live := len(c.live()); live != 2 {
		t.Errorf("%d of 2 replicas are still running after the restart", live)
	}
	check(t, "postgres-restart", o)
}
