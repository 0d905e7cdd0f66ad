package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// quietHandler passes River's warnings and errors on at most once per
// interval per message: while the database is down River fails the same
// way on every poll, and a line a second would bury the one that says why.
// The next line that passes says how many were held back.
type quietHandler struct {
	slog.Handler
	interval time.Duration
	state    *quietState
}

type quietState struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

func newQuietHandler(h slog.Handler, interval time.Duration) *quietHandler {
	return &quietHandler{Handler: h, interval: interval, state: &quietState{last: map[string]time.Time{}, held: map[string]int{}}}
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	s := h.state
	s.mu.Lock()
	if r.Time.Sub(s.last[r.Message]) < h.interval {
		s.held[r.Message]++
		s.mu.Unlock()
		return nil
	}
	s.last[r.Message] = r.Time
	held := s.held[r.Message]
	delete(s.held, r.Message)
	s.mu.Unlock()
	if held > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeats_held_back", held))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithAttrs(attrs), interval: h.interval, state: h.state}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithGroup(name), interval: h.interval, state: h.state}
}
