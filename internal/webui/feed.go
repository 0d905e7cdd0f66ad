package webui

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// changeFeed reads the change mark once per interval for all open /events
// streams together, and only while at least one is open: a hundred people
// watching an incident cost one query a second, not a hundred.
type changeFeed struct {
	read  func(context.Context) (klaxon.ChangeMark, error)
	every time.Duration
	log   *slog.Logger

	mu       sync.Mutex
	mark     klaxon.ChangeMark
	known    bool          // mark has been read at least once
	moved    chan struct{} // closed when mark moves, then replaced
	watchers int
	stop     context.CancelFunc // ends the poller; nil when none runs
}

func newChangeFeed(read func(context.Context) (klaxon.ChangeMark, error), every time.Duration, log *slog.Logger) *changeFeed {
	return &changeFeed{read: read, every: every, log: log, moved: make(chan struct{})}
}

// watch registers a stream, starting the poller for the first one; call
// the returned func when the stream ends.
func (f *changeFeed) watch() (unwatch func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watchers++
	if f.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.stop = cancel
		go f.poll(ctx)
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.watchers--; f.watchers == 0 {
			f.stop()
			f.stop, f.known = nil, false
		}
	}
}

// current returns the last mark read (ok false before the first read) and
// a channel closed when it next moves.
func (f *changeFeed) current() (mark klaxon.ChangeMark, ok bool, moved <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mark, f.known, f.moved
}

func (f *changeFeed) poll(ctx context.Context) {
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	failing := false
	for {
		mark, err := f.read(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// Logged once per outage, not once a second.
			if !failing {
				f.log.Warn("live updates: read change mark", "err", err)
			}
			failing = true
		default:
			failing = false
			f.publish(ctx, mark)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (f *changeFeed) publish(ctx context.Context, mark klaxon.ChangeMark) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil || (f.known && mark == f.mark) {
		return // stopped meanwhile (a new poller may run), or no change
	}
	f.mark, f.known = mark, true
	close(f.moved)
	f.moved = make(chan struct{})
}
