// Package ingesttest holds what the decoder packages' tests share. It is for
// tests only.
package ingesttest

import (
	"os"
	"path/filepath"
	"testing"
)

// Fixtures returns the *.json bodies in the calling package's testdata/, by
// file name: real payloads captured from real senders.
func Fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures in testdata/")
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}
