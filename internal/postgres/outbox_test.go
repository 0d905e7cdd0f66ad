package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
)

// TestWatchOutbox: a notification queued through one store wakes the
// watcher of another (two replicas), once its transaction commits.
func TestWatchOutbox(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *postgres.DB {
		s, err := postgres.Open(t.Context(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	leader, other := open(), open()
	ctx, cancel := context.WithCancel(t.Context())
	woken := make(chan string, 8)
	done := make(chan error, 1)
	go func() { done <- leader.WatchOutbox(ctx, func(ch string) { woken <- ch }) }()

	// The LISTEN is in place once a signal sent after it arrives: send
	// one per round until one does.
	groups := 0
	queue := func(rollback bool) {
		groups++
		key := fmt.Sprint("k", groups)
		other.Update(t.Context(), func(tx klaxon.Tx) error {
			g := &klaxon.Group{Route: "default", Key: key, Labels: map[string]string{"alertname": "A"}, CreatedAt: time.Now()}
			if err := tx.InsertGroup(t.Context(), g); err != nil {
				return err
			}
			if err := tx.QueueNotification(t.Context(), klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: time.Now(), CreatedAt: time.Now()}); err != nil {
				return err
			}
			if rollback {
				return context.Canceled
			}
			return nil
		})
	}
	heard := false
	for range 50 {
		queue(false)
		select {
		case ch := <-woken:
			if ch != "ops" {
				t.Fatalf("woken for %q, want ops", ch)
			}
			heard = true
		case <-time.After(100 * time.Millisecond):
		}
		if heard {
			break
		}
	}
	if !heard {
		t.Fatal("a committed notification never woke the watcher")
	}
	for len(woken) > 0 {
		<-woken
	}
	queue(true)
	select {
	case ch := <-woken:
		t.Errorf("a rolled-back notification woke the watcher for %q", ch)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchOutbox after cancel: %v", err)
	}
}
