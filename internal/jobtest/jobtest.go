// Package jobtest runs durable jobs on a simulated clock for tests: a
// store wrapper captures the jobs transactions queue (they never reach the
// real job queue) and the test works them when the clock passes their
// time, so a 15-minute deadline takes no time and every path is
// deterministic.
package jobtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Clock is an injected time that moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass it as a service's Now.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Queued is a captured job.
type Queued struct {
	Job   klaxon.Job
	RunAt time.Time
}

// Store is a store whose transactions queue jobs into a list, kept only
// if the transaction commits. Like the job queue, it keeps one hand-off
// notice per schedule and time (River inserts those unique by args).
type Store struct {
	klaxon.Store
	mu       sync.Mutex
	jobs     []Queued
	handoffs map[klaxon.HandoffNotice]bool
}

// Update runs fn in a transaction of the wrapped store, capturing jobs.
func (s *Store) Update(ctx context.Context, fn func(klaxon.Tx) error) error {
	var added []Queued
	err := s.Store.Update(ctx, func(tx klaxon.Tx) error {
		added = added[:0]
		return fn(capTx{tx, &added})
	})
	if err == nil {
		s.mu.Lock()
		for _, q := range added {
			if h, ok := q.Job.(klaxon.HandoffNotice); ok {
				if s.handoffs[h] {
					continue
				}
				if s.handoffs == nil {
					s.handoffs = map[klaxon.HandoffNotice]bool{}
				}
				s.handoffs[h] = true
			}
			s.jobs = append(s.jobs, q)
		}
		s.mu.Unlock()
	}
	return err
}

type capTx struct {
	klaxon.Tx
	added *[]Queued
}

func (t capTx) Enqueue(_ context.Context, job klaxon.Job, runAt time.Time) error {
	*t.added = append(*t.added, Queued{job, runAt})
	return nil
}

// Jobs returns the captured jobs not yet taken.
func (s *Store) Jobs() []Queued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jobs)
}

// Requeue puts jobs back, as the job queue does with a job that failed or
// (called with Jobs()) as a second replica's copy of each would.
func (s *Store) Requeue(qs ...Queued) {
	s.mu.Lock()
	s.jobs = append(s.jobs, qs...)
	s.mu.Unlock()
}

// Due removes and returns the jobs due at now, earliest first (zero RunAt
// is due at once).
func (s *Store) Due(now time.Time) []Queued {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due, rest []Queued
	for _, q := range s.jobs {
		if !q.RunAt.After(now) {
			due = append(due, q)
		} else {
			rest = append(rest, q)
		}
	}
	s.jobs = rest
	slices.SortStableFunc(due, func(a, b Queued) int { return a.RunAt.Compare(b.RunAt) })
	return due
}

// Work runs every due job with h, including those the jobs queue, until
// none is due at now. It returns the first error a job returned.
func (s *Store) Work(ctx context.Context, now time.Time, h klaxon.JobHandler) error {
	for range 100 { // jobs that queue due jobs: bounded
		due := s.Due(now)
		if len(due) == 0 {
			return nil
		}
		for _, q := range due {
			if err := h.HandleJob(ctx, q.Job); err != nil {
				return err
			}
		}
	}
	return nil
}
