package leader_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/leader"
)

// leases is an in-memory lease table on the local clock, with a switch per
// holder that cuts it off from the database.
type leases struct {
	mu      sync.Mutex
	holder  string
	expires time.Time
	cut     map[string]bool
}

var errUnreachable = errors.New("database unreachable")

func (l *leases) Lease(_ context.Context, _, holder string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut[holder] {
		return false, errUnreachable
	}
	now := time.Now()
	if l.holder == holder || l.holder == "" || !now.Before(l.expires) {
		l.holder, l.expires = holder, now.Add(ttl)
		return true, nil
	}
	return false, nil
}

func (l *leases) ReleaseLease(_ context.Context, _, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut[holder] {
		return errUnreachable
	}
	if l.holder == holder {
		l.holder = ""
	}
	return nil
}

func (l *leases) cutOff(holder string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut[holder] = true
}

func (l *leases) expiry() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// terms records who led when, and fails the test if two terms overlap.
type terms struct {
	t       *testing.T
	mu      sync.Mutex
	leading string
	ended   map[string]time.Time
	started chan string
}

func (r *terms) lead(holder string) func(context.Context) {
	return func(ctx context.Context) {
		r.mu.Lock()
		if r.leading != "" {
			r.t.Errorf("%s leads while %s still does", holder, r.leading)
		}
		r.leading = holder
		r.mu.Unlock()
		r.started <- holder
		<-ctx.Done()
		r.mu.Lock()
		r.leading = ""
		r.ended[holder] = time.Now()
		r.mu.Unlock()
	}
}

const ttl = 250 * time.Millisecond

func campaign(t *testing.T, l *leases, r *terms, holders ...string) map[string]context.CancelFunc {
	t.Helper()
	cancels := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	for _, h := range holders {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[h] = cancel
		wg.Go(func() { leader.Run(ctx, l, leader.Options{Holder: h, TTL: ttl}, r.lead(h)) })
	}
	t.Cleanup(func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	})
	return cancels
}

func next(t *testing.T, r *terms, within time.Duration) string {
	t.Helper()
	select {
	case h := <-r.started:
		return h
	case <-time.After(within):
		t.Fatalf("no leader within %v", within)
		return ""
	}
}

func newTerms(t *testing.T) *terms {
	return &terms{t: t, ended: map[string]time.Time{}, started: make(chan string, 16)}
}

// TestShutdownHandsOver: a leader that stops releases its lease, and
// another replica leads within a renewal, not a whole TTL.
func TestShutdownHandsOver(t *testing.T) {
	l := &leases{cut: map[string]bool{}}
	r := newTerms(t)
	cancels := campaign(t, l, r, "a", "b", "c")
	first := next(t, r, time.Second)
	stopped := time.Now()
	cancels[first]()
	second := next(t, r, time.Second)
	if second == first {
		t.Fatalf("%s led again after it stopped", first)
	}
	if took := time.Since(stopped); took > ttl {
		t.Errorf("hand-over took %v; a released lease should go within a renewal (%v)", took, ttl/5)
	}
}

// TestCutOffLeaderStepsDown: a leader that can no longer reach the
// database stops leading before its lease expires, and another replica
// takes over only after it expired: never two leaders.
func TestCutOffLeaderStepsDown(t *testing.T) {
	l := &leases{cut: map[string]bool{}}
	r := newTerms(t)
	campaign(t, l, r, "a", "b")
	first := next(t, r, time.Second)
	l.cutOff(first)
	expires := l.expiry()
	second := next(t, r, 2*ttl)
	if second == first {
		t.Fatalf("%s led again while cut off", first)
	}
	r.mu.Lock()
	ended := r.ended[first]
	r.mu.Unlock()
	if ended.IsZero() || !ended.Before(expires) {
		t.Errorf("cut-off leader stopped at %v, its lease expired at %v: it must stop first", ended, expires)
	}
}

// TestRefusedRenewalStepsDown: a leader whose lease was taken (it paused
// past its TTL) stops leading at its next renewal, well before its own
// safety deadline would stop it.
func TestRefusedRenewalStepsDown(t *testing.T) {
	l := &leases{cut: map[string]bool{}}
	r := newTerms(t)
	var led atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		leader.Run(ctx, l, leader.Options{Holder: "a", TTL: 2 * time.Second}, func(ctx context.Context) {
			led.Add(1)
			r.lead("a")(ctx)
		})
	}()
	defer func() { cancel(); <-done }()
	next(t, r, time.Second)
	l.mu.Lock()
	l.holder, l.expires = "b", time.Now().Add(time.Hour)
	l.mu.Unlock()
	// Renewals every 400ms; the safety deadline is 1.2s after the last.
	deadline := time.Now().Add(900 * time.Millisecond)
	for {
		r.mu.Lock()
		_, ended := r.ended["a"]
		r.mu.Unlock()
		if ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a kept leading after its lease went to b")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := led.Load(); n != 1 {
		t.Errorf("a led %d times, want 1", n)
	}
}
