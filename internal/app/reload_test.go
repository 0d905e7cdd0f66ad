package app

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/config"
)

// TestReloadKeepsRunningConfigOnError: SIGHUP's reload applies a good file's
// schedules and refuses a broken one whole, keeping what runs.
func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "klaxon.yaml")
	write := func(schedules string) {
		t.Helper()
		yaml := "listen: 127.0.0.1:0\ndatabase: sqlite://" + filepath.Join(dir, "k.db") + "\nusers:\n  - {name: alice}\n  - {name: bob}\nschedules:\n" + schedules
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("  - {name: primary, rotations: [{participants: [alice], shift: weekly, start: \"2026-01-05\"}]}\n")
	cfg, err := config.Load(path, Check)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(t.Context(), Options{Config: cfg, ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	schedules := func() []string { return slices.Sorted(maps.Keys(a.oncall.Directory().Schedules)) }

	write("  - {name: primary, rotations: [{participants: [carol], shift: 0s, start: \"2026-01-05\"}]}\n")
	if err := a.Reload(context.Background()); err == nil {
		t.Fatal("a broken file reloaded")
	}
	if got := schedules(); !slices.Equal(got, []string{"primary"}) || a.oncall.Directory().Schedules["primary"].Rotations[0].Participants[0] != "alice" {
		t.Fatalf("after a failed reload the schedules are %v", got)
	}

	write("  - {name: primary, rotations: [{participants: [bob], shift: weekly, start: \"2026-01-05\"}]}\n  - {name: secondary, rotations: [{participants: [alice], shift: daily, start: \"2026-01-05\"}]}\n")
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := schedules(); !slices.Equal(got, []string{"primary", "secondary"}) || a.oncall.Directory().Schedules["primary"].Rotations[0].Participants[0] != "bob" {
		t.Fatalf("after a good reload the schedules are %v", got)
	}
}
