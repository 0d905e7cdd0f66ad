package notifytest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/config"
)

// Golden compares got with the golden file at path, rewriting the file
// first when update is set (each test package's -update flag).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is meant):\ngot:\n%s", path, got)
	}
}

// ChannelConfig is one channel's configuration as config.Load would give
// it: a channel named name of type typ with the YAML keys (each line
// indented by four spaces) that follow.
func ChannelConfig(t testing.TB, name, typ, keys string) config.Channel {
	t.Helper()
	yaml := "channels:\n  - name: " + name + "\n    type: " + typ + "\n" + keys
	cfg, err := config.Parse("klaxon.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Channels[0]
}
