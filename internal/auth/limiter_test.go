package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterPerAddress(t *testing.T) {
	l := newLoginLimiter()
	// Every guess at another username: only the address limit applies.
	for i := range failuresPerAddr {
		if _, err := l.attempt(t0, fmt.Sprintf("user%d", i), "192.0.2.1"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if _, err := l.attempt(t0, "someone-else", "192.0.2.1"); err == nil {
		t.Error("attempt past the address limit: allowed")
	}
	if _, err := l.attempt(t0, "someone-else", "192.0.2.99"); err != nil {
		t.Errorf("the same username from another address: %v", err)
	}
	if _, err := l.attempt(t0.Add(failureWindow), "someone-else", "192.0.2.1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestLimiterSuccessForgivesTheUsername(t *testing.T) {
	l := newLoginLimiter()
	for range failuresPerUser - 1 {
		l.attempt(t0, "alice", "192.0.2.1")
	}
	a, err := l.attempt(t0, "alice", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	a.succeeded()
	for i := range failuresPerUser {
		if _, err := l.attempt(t0, "ALICE", "192.0.2.2"); err != nil {
			t.Fatalf("attempt %d after a success: %v", i+1, err)
		}
	}
	if _, err := l.attempt(t0, "alice", "192.0.2.3"); err == nil {
		t.Error("usernames differing in case are counted apart")
	}
	if n := len(l.byAddr.hits["192.0.2.1"]); n != failuresPerUser-1 {
		t.Errorf("address failures after a success: got %d, want %d (the success taken back)", n, failuresPerUser-1)
	}
}

func TestLimiterAbandonAndSweep(t *testing.T) {
	l := newLoginLimiter()
	a, _ := l.attempt(t0, "alice", "192.0.2.1")
	a.abandon()
	if len(l.byUser.hits)+len(l.byAddr.hits) != 0 {
		t.Errorf("after abandoning the only attempt: %v %v, want nothing counted", l.byUser.hits, l.byAddr.hits)
	}
	l.attempt(t0, "bob", "192.0.2.1")
	l.attempt(t0.Add(failureWindow+2*time.Minute), "carol", "192.0.2.2")
	if _, ok := l.byUser.hits["bob"]; ok {
		t.Error("bob's attempt, older than the window, was not swept")
	}
}
