package runbook

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func runbookFile(alert, title string) string {
	return "---\ntitle: " + title + "\nalerts: [" + alert + "]\n---\n" + complete
}

func TestCatalogReload(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": runbookFile("A", "A")})
	var logs bytes.Buffer
	c := NewCatalog(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := c.Current().All(); len(got) != 0 {
		t.Fatalf("before Reload: got %q, want no runbooks", slugs(got))
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := slugs(c.Current().All()); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("after the first Reload: got %q, want [a]", got)
	}

	writeFiles(t, dir, map[string]string{"b.md": runbookFile("B", "B"), "broken.md": "no front matter\n"})
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := slugs(c.Current().All()); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("after Reload: got %q, want [a b]", got)
	}
	if n := strings.Count(logs.String(), "file=broken.md"); n != 1 {
		t.Errorf("broken.md logged %d times, want once:\n%s", n, logs.String())
	}
	if got := gaugeValue(t, loadedGauge); got != 2 {
		t.Errorf("klaxon_runbooks_loaded = %v, want 2", got)
	}
	if got := gaugeValue(t, problemsGauge); got != 1 {
		t.Errorf("klaxon_runbook_problems = %v, want 1", got)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil {
		t.Error("Reload of a removed directory: got no error")
	}
	if got := slugs(c.Current().All()); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("after a failed Reload: got %q, want the previous [a b]", got)
	}
}

func TestCatalogNoDir(t *testing.T) {
	c := NewCatalog("", nil)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if set := c.Current(); set == nil || len(set.All()) != 0 || set.Match(map[string]string{"alertname": "X"}) != nil {
		t.Errorf("Current: got %+v, want an empty set", set)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Watch(ctx); err != nil {
		t.Errorf("Watch: %v", err)
	}
}

func TestCatalogWatch(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": runbookFile("A", "A1")})
	c := NewCatalog(dir, nil)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	c.debounce = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return when its context ended")
		}
	}()

	title := func(slug string) string {
		if r := c.Current().Get(slug); r != nil {
			return r.Title
		}
		return ""
	}
	// waitFor polls until cond holds, calling touch each time: the first
	// change is repeated because the watch may not be set up yet.
	waitFor := func(what string, touch func(), cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within 5s; have %q", what, slugs(c.Current().All()))
			}
			if touch != nil {
				touch()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	waitFor("a.md changed", func() { writeFiles(t, dir, map[string]string{"a.md": runbookFile("A", "A2")}) },
		func() bool { return title("a") == "A2" })

	writeFiles(t, dir, map[string]string{"new/deeper/b.md": runbookFile("B", "B1")})
	waitFor("b.md added in a new directory", nil, func() bool { return title("b") == "B1" })

	// git checks a file out by writing a temporary file and renaming it.
	writeFiles(t, dir, map[string]string{"new/deeper/.b.md.tmp": runbookFile("B", "B2")})
	if err := os.Rename(filepath.Join(dir, "new/deeper/.b.md.tmp"), filepath.Join(dir, "new/deeper/b.md")); err != nil {
		t.Fatal(err)
	}
	waitFor("b.md replaced by rename", nil, func() bool { return title("b") == "B2" })

	if err := os.Remove(filepath.Join(dir, "a.md")); err != nil {
		t.Fatal(err)
	}
	waitFor("a.md removed", nil, func() bool { return c.Current().Get("a") == nil })
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
