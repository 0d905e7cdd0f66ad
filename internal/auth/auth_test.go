package auth

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

func TestMain(m *testing.M) {
	// Cheap hashes keep the tests fast; the format and checks are the same.
	hashCost = argonParams{memory: 64, time: 1, threads: 1}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc   *Service
	store klaxon.Store
	clock *clock
}

// newFixture returns a Service over a real SQLite store, at t0 on its own
// clock. opts.Now is set by the fixture.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: t0}
	opts.Now = c.now
	svc, err := New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: store, clock: c}
}

const goodPassword = "correct horse battery"

// add creates an account with goodPassword.
func (f *fixture) add(t *testing.T, username string, role klaxon.Role) *klaxon.Account {
	t.Helper()
	a, err := f.svc.AddAccount(context.Background(), NewAccount{Username: username, Role: role, Password: goodPassword})
	if err != nil {
		t.Fatalf("add %s: %v", username, err)
	}
	return a
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := klaxon.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}
