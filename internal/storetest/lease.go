package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func testLeases(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	lease := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.Lease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatalf("Lease(%s, %s): %v", name, holder, err)
		}
		return ok
	}
	if !lease("leader", "a", time.Minute) {
		t.Fatal("a free lease was not taken")
	}
	if lease("leader", "b", time.Minute) {
		t.Fatal("b took a lease a holds")
	}
	if !lease("leader", "a", time.Minute) {
		t.Fatal("a could not renew its own lease")
	}
	if !lease("other", "b", time.Minute) {
		t.Fatal("leases of other names are independent")
	}

	// Another holder's release changes nothing; the holder's frees it.
	if err := s.ReleaseLease(ctx, "leader", "b"); err != nil {
		t.Fatal(err)
	}
	if lease("leader", "b", time.Minute) {
		t.Fatal("b's release freed a's lease")
	}
	if err := s.ReleaseLease(ctx, "leader", "a"); err != nil {
		t.Fatal(err)
	}
	if !lease("leader", "b", time.Minute) {
		t.Fatal("a released lease was not free")
	}

	// An expired lease goes to whoever asks next.
	if !lease("short", "a", time.Millisecond) {
		t.Fatal("a free lease was not taken")
	}
	time.Sleep(20 * time.Millisecond)
	if !lease("short", "b", time.Minute) {
		t.Fatal("an expired lease was not taken over")
	}
	if lease("short", "a", time.Minute) {
		t.Fatal("the former holder renewed a lease it lost")
	}
}

// testLeaseRace: candidates asking at once for a free lease elect one.
func testLeaseRace(t *testing.T, s klaxon.Store) {
	const candidates = 8
	var wg sync.WaitGroup
	won := make(chan string, candidates)
	for i := range candidates {
		holder := string(rune('a' + i))
		wg.Go(func() {
			ok, err := s.Lease(context.Background(), "race", holder, time.Minute)
			if err != nil {
				t.Errorf("Lease(%s): %v", holder, err)
			}
			if ok {
				won <- holder
			}
		})
	}
	wg.Wait()
	close(won)
	var winners []string
	for h := range won {
		winners = append(winners, h)
	}
	if len(winners) != 1 {
		t.Fatalf("winners %v, want exactly one", winners)
	}
}
