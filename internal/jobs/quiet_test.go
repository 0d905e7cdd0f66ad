package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestQuietHandler: a repeated error passes once per interval, with a
// count of the repeats held back; other messages and lower levels pass.
func TestQuietHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newQuietHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Hour)).With("component", "jobs")
	for range 5 {
		log.Error("producer: Error fetching jobs", "err", "connection refused")
		log.Info("polling")
	}
	log.Warn("another problem")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	count := func(s string) int {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, s) {
				n++
			}
		}
		return n
	}
	if n := count("Error fetching jobs"); n != 1 {
		t.Errorf("the repeated error was logged %d times, want 1:\n%s", n, buf.String())
	}
	if count("polling") != 5 || count("another problem") != 1 || count("component=jobs") != len(lines) {
		t.Errorf("other lines were held back or lost their attributes:\n%s", buf.String())
	}

	// Once the interval has passed, the next one says how many were held.
	buf.Reset()
	h := newQuietHandler(slog.NewTextHandler(&buf, nil), 50*time.Millisecond)
	quick := slog.New(h)
	for range 3 {
		quick.Error("down")
	}
	time.Sleep(60 * time.Millisecond)
	quick.Error("down")
	if !strings.Contains(buf.String(), "repeats_held_back=2") || strings.Count(buf.String(), "msg=down") != 2 {
		t.Errorf("after the interval:\n%s", buf.String())
	}
}
