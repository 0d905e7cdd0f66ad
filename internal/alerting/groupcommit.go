package alerting

import (
	"context"
	"errors"
	"sync"

	"github.com/klaxon-oss/klaxon"
)

// errClosed is returned to callers that arrive after Close.
var errClosed = errors.New("alert writer is shut down")

// groupCommit turns many concurrent small writes into few transactions. A
// writer takes whatever requests are waiting, up to maxAlerts signals, and
// commits them together; while it commits, the next batch gathers. Nothing
// waits on a timer, so a lone request is committed at once. One transaction
// per request would bound ingest by fsyncs per second; this bounds it by rows.
type groupCommit struct {
	store     klaxon.Store
	requests  chan *writeRequest
	maxAlerts int
	wg        sync.WaitGroup
	closeOnce sync.Once
	mu        sync.RWMutex // held for reading while submitting, for writing by close
	closed    bool
}

type writeRequest struct {
	apply func(klaxon.Tx) error
	size  int
	done  chan error
}

func newGroupCommit(store klaxon.Store, writers, maxAlerts int) *groupCommit {
	g := &groupCommit{store: store, requests: make(chan *writeRequest, 1024), maxAlerts: maxAlerts}
	for range max(writers, 1) {
		g.wg.Add(1)
		go g.run()
	}
	return g
}

// do runs apply in a transaction, perhaps shared with other requests, and
// returns once that transaction committed or failed. apply may run more than
// once (see commit), so it must only write through the Tx and its own results.
func (g *groupCommit) do(ctx context.Context, size int, apply func(klaxon.Tx) error) error {
	r := &writeRequest{apply: apply, size: size, done: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	select {
	case g.requests <- r:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	// Wait for the outcome even if ctx ends: the write is already queued and
	// the caller must not report failure for data that then commits.
	return <-r.done
}

func (g *groupCommit) run() {
	defer g.wg.Done()
	for first := range g.requests {
		batch := []*writeRequest{first}
		n := first.size
	gather:
		for n < g.maxAlerts {
			select {
			case r, ok := <-g.requests:
				if !ok {
					break gather
				}
				batch = append(batch, r)
				n += r.size
			default:
				break gather
			}
		}
		g.commit(batch)
	}
}

// commit writes the batch in one transaction. If that fails, one request was
// bad or lost a race with another replica (both inserting the same new alert:
// a unique violation): each request is then retried in a transaction of its
// own, so one failure never fails its neighbours, and a lone request gets
// one more try, which sees the winner's row and updates it.
func (g *groupCommit) commit(batch []*writeRequest) {
	// Not the callers' contexts: one caller going away must not abort the
	// others' writes.
	ctx := context.Background()
	err := g.store.Update(ctx, func(tx klaxon.Tx) error {
		for _, r := range batch {
			if err := r.apply(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, r := range batch {
			r.done <- nil
		}
		return
	}
	for _, r := range batch {
		if len(batch) > 1 {
			err = g.store.Update(ctx, r.apply)
		}
		if err != nil {
			err = g.store.Update(ctx, r.apply)
		}
		r.done <- err
	}
}

// close stops accepting requests and waits for queued ones to commit.
func (g *groupCommit) close() {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		g.closed = true
		close(g.requests)
		g.mu.Unlock()
		g.wg.Wait()
	})
}
