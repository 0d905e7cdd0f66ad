// Package faulttest runs Klaxon as real processes on 127.0.0.1 and breaks
// things around them: kill -9 mid-storm, replicas dying, the database
// restarting, the chat platform down, the disk full. Every test sends a
// storm the way Alertmanager does, then counts what was accepted, stored
// and posted, prints one line of it, and fails on any loss or duplicate.
//
// Run them alone with
//
//	go test -v -run Fault ./internal/faulttest
package faulttest

import (
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// escalateAfter is when a storm's groups page PagerDuty: after the kill,
// so the page jobs run on the survivors.
const escalateAfter = 20 * time.Second

// stormWith runs a 10,000-alert storm over 10s, calling midway once the
// given share of the batches was answered; midway runs on the test
// goroutine while the storm goes on.
func stormWith(t *testing.T, c *cluster, share float64, midway func(*storm)) *storm {
	st := newStorm(10_000, 10*time.Second)
	reached := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.run(t, c.urls, func(n int) {
			if float64(n) >= share*float64(st.alerts/st.batch) {
				once.Do(func() { close(reached) })
			}
		})
	}()
	select {
	case <-reached:
		midway(st)
	case <-done:
		t.Fatalf("the storm ended before %.0f%% of it was answered", share*100)
	}
	<-done
	return st
}

// TestFaultKillDuringStorm: kill -9 of the only Klaxon (SQLite) halfway
// through a storm. Every alert answered 2xx is in the database after the
// restart, and its chat message and page go out once.
func TestFaultKillDuringStorm(t *testing.T) {
	p := newPlatforms(t)
	c := newCluster(t, "sqlite://"+t.TempDir()+"/klaxon.db", p, escalateAfter)
	r := c.start()
	st := stormWith(t, c, 0.5, func(*storm) {
		r.kill()
		time.Sleep(time.Second)
		c.start()
	})
	check(t, "kill-9-sqlite", settle(t, c, p, st, true, time.Minute))
}

// TestFaultReplicaKilled: two, then three replicas on one PostgreSQL take
// the same storm through a round-robin balancer; the leader is killed
// halfway. Another replica takes over sending; nothing is lost, posted
// twice or paged twice.
func TestFaultReplicaKilled(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(map[int]string{2: "two", 3: "three"}[n], func(t *testing.T) {
			p := newPlatforms(t)
			c := newCluster(t, pgtest.URL(t), p, escalateAfter)
			for range n {
				c.start()
			}
			st := stormWith(t, c, 0.5, func(*storm) { c.leader().kill() })
			o := settle(t, c, p, st, true, time.Minute)
			if took := c.leader(); took == nil {
				t.Error("no leader after the kill")
			}
			check(t, map[int]string{2: "replica-killed-2", 3: "replica-killed-3"}[n], o)
		})
	}
}
