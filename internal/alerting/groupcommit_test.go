package alerting

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// recordingStore runs Update callbacks with no real transaction and records
// how many requests each transaction held; a transaction fails if any of
// its callbacks fails, like a real one.
type recordingStore struct {
	klaxon.Store
	mu          sync.Mutex
	committed   []string
	block       chan struct{} // if set, the first Update waits on it
	transaction int
}

func (s *recordingStore) Update(_ context.Context, fn func(klaxon.Tx) error) error {
	s.mu.Lock()
	s.transaction++
	first := s.transaction == 1
	s.mu.Unlock()
	if first && s.block != nil {
		<-s.block
	}
	var tx fakeTx
	if err := fn(&tx); err != nil {
		return err
	}
	s.mu.Lock()
	s.committed = append(s.committed, tx.writes...)
	s.mu.Unlock()
	return nil
}

func (s *recordingStore) transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transaction
}

type fakeTx struct {
	klaxon.Tx
	writes []string
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	store := &recordingStore{block: make(chan struct{})}
	g := newGroupCommit(store, 1, 100)
	defer g.close()

	// The first request holds the writer, so the next three queue up and
	// are committed together.
	results := make(chan error, 4)
	submit := func(name string, fail bool) {
		results <- g.do(context.Background(), 1, func(tx klaxon.Tx) error {
			if fail {
				return errors.New(name + " is bad")
			}
			tx.(*fakeTx).writes = append(tx.(*fakeTx).writes, name)
			return nil
		})
	}
	go submit("first", false)
	spinUntil(t, "the writer to take the first request", func() bool { return len(g.requests) == 0 && store.transactions() > 0 })
	var wg sync.WaitGroup
	for _, r := range []struct {
		name string
		fail bool
	}{{"good-1", false}, {"bad", true}, {"good-2", false}} {
		wg.Add(1)
		go func() { defer wg.Done(); submit(r.name, r.fail) }()
	}
	spinUntil(t, "three queued requests", func() bool { return len(g.requests) == 3 })
	close(store.block)
	wg.Wait()
	var failures int
	for range 4 {
		if err := <-results; err != nil {
			failures++
		}
	}
	if failures != 1 {
		t.Errorf("got %d failed requests, want only the bad one", failures)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	got := map[string]int{}
	for _, w := range store.committed {
		got[w]++
	}
	if got["first"] != 1 || got["good-1"] != 1 || got["good-2"] != 1 || len(got) != 3 {
		t.Errorf("committed %v, want first, good-1 and good-2 once each", store.committed)
	}
}

// spinUntil yields until cond holds, failing the test after 10s.
func spinUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func TestGroupCommitRefusesAfterClose(t *testing.T) {
	g := newGroupCommit(&recordingStore{}, 1, 10)
	g.close()
	if err := g.do(context.Background(), 1, func(klaxon.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("got %v, want errClosed", err)
	}
}
