package runbook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
)

// Log attribute keys.
const (
	logDir      = "dir"
	logFile     = "file"
	logLine     = "line"
	logProblem  = "problem"
	logRunbooks = "runbooks"
	logErr      = "err"
)

// debounce is how long Watch gathers file events before reloading: a git
// pull or a ConfigMap update changes many files at once.
const debounce = 250 * time.Millisecond

var (
	loadedGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_runbooks_loaded",
		Help: "Runbooks served, from the last successful load of the runbook directory.",
	})
	problemsGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_runbook_problems",
		Help: "Problems (errors and warnings) found in runbook files at the last successful load.",
	})
)

// Collectors are the package's metrics, updated on each Catalog reload.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{loadedGauge, problemsGauge}
}

// Catalog is the runbook directory as currently loaded. It is safe for
// concurrent use: readers take Current, reloads swap it whole.
type Catalog struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex // one reload at a time
	cur atomic.Pointer[Set]

	debounce time.Duration // shorter in tests
}

// NewCatalog is the catalog of the runbooks in dir, empty until the first
// Reload (which reports an unreadable dir). With dir "" there are no
// runbooks and Reload does nothing.
func NewCatalog(dir string, log *slog.Logger) *Catalog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{dir: dir, log: log, debounce: debounce}
	c.cur.Store(NewSet())
	return c
}

// Current is the set of runbooks in use.
func (c *Catalog) Current() *Set { return c.cur.Load() }

// Reload reads the directory and, if it can be read at all, serves
// what it holds: a broken file is left out (its problems logged), the
// others are served. If the directory cannot be read, the previous set
// stays in use and the error is returned.
func (c *Catalog) Reload() error {
	if c.dir == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	set, err := Load(c.dir)
	if err != nil {
		return err
	}
	for _, p := range set.problems {
		c.log.Warn("runbook problem", logFile, p.File, logLine, p.Line, logProblem, p.Message)
	}
	c.cur.Store(set)
	loadedGauge.Set(float64(len(set.all)))
	problemsGauge.Set(float64(len(set.problems)))
	c.log.Debug("runbooks loaded", logDir, c.dir, logRunbooks, len(set.all))
	return nil
}

// Watch reloads the catalog when files in its directory change, until ctx
// ends. It watches every subdirectory, including those created later, and
// treats any event as a change: git replaces files by renaming over them
// and a ConfigMap volume swaps a symlink. It returns an error only if
// watching cannot start; nil when ctx ends.
func (c *Catalog) Watch(ctx context.Context) error {
	if c.dir == "" {
		<-ctx.Done()
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch runbooks: %w", err)
	}
	defer w.Close()
	if err := watchTree(w, c.dir); err != nil {
		return fmt.Errorf("watch runbooks: %w", err)
	}

	timer := time.NewTimer(c.debounce)
	timer.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() && !hidden(filepath.Base(ev.Name)) {
					_ = watchTree(w, ev.Name) // missed ones are caught by the next reload's rewatch
				}
			}
			if !pending {
				// Started by the first event of a burst, not pushed back by
				// the next ones: a long checkout still reloads every 250ms.
				pending = true
				timer.Reset(c.debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			c.log.Warn("watching runbooks", logDir, c.dir, logErr, err)
		case <-timer.C:
			pending = false
			if err := c.Reload(); err != nil {
				c.log.Error("runbooks not reloaded", logDir, c.dir, logErr, err)
				continue
			}
			// Subdirectories created between an event and its watch being
			// added raised no events of their own; walking again finds them.
			if err := watchTree(w, c.dir); err != nil {
				c.log.Warn("watching runbooks", logDir, c.dir, logErr, err)
			}
		}
	}
}

// watchTree watches dir and its subdirectories, except hidden ones.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && hidden(d.Name()) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// hidden names are skipped by Load and so not watched: .git changes
// constantly during a pull.
func hidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}
