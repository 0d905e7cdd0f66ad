package webui

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Every open stream shares one reader of the change mark, which runs only
// while a stream is open.
func TestChangeFeedSharesOneReader(t *testing.T) {
	var reads atomic.Int64
	read := func(context.Context) (klaxon.ChangeMark, error) {
		n := reads.Add(1)
		return klaxon.ChangeMark{AlertEvent: n}, nil
	}
	// An hour between reads: only the read a poller makes on starting
	// happens during the test.
	f := newChangeFeed(read, time.Hour, slog.New(slog.DiscardHandler))
	waitMark := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if m, ok, _ := f.current(); ok && m.AlertEvent == want {
				return
			}
		}
		t.Fatalf("the feed never showed mark %d (reads: %d)", want, reads.Load())
	}

	first, second := f.watch(), f.watch()
	waitMark(1)
	if n := reads.Load(); n != 1 {
		t.Errorf("two streams caused %d reads, want 1", n)
	}
	_, _, moved := f.current()
	first()
	second()
	again := f.watch()
	defer again()
	waitMark(2)
	select {
	case <-moved:
	default:
		t.Error("a stream waiting on the old mark was not woken by the new one")
	}
}
