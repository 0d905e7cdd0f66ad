package httpapi

import (
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/config"
)

var bucketStart = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// takeAll takes n requests at now and returns how many were allowed and
// the wait of the first refused.
func takeAll(b *bucket, now time.Time, n int) (allowed int, wait time.Duration) {
	for range n {
		if wait = b.take(now); wait > 0 {
			return allowed, wait
		}
		allowed++
	}
	return allowed, 0
}

func TestBucket(t *testing.T) {
	tests := []struct {
		limit       string
		wantAtOnce  int
		wantWait    time.Duration // after the burst
		wantRefills int           // allowed again after wantWait
	}{
		{"100/s", 100, 10 * time.Millisecond, 1},
		{"6000/m", 6000, 10 * time.Millisecond, 1},
		{"1/m", 1, time.Minute, 1},
		{"3/s", 3, 333333333 * time.Nanosecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.limit, func(t *testing.T) {
			l, err := config.ParseRateLimit(tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			b := newBucket(l)
			if got, wait := takeAll(b, bucketStart, tt.wantAtOnce+1); got != tt.wantAtOnce || wait != tt.wantWait {
				t.Errorf("at once: got %d allowed then a wait of %s, want %d then %s", got, wait, tt.wantAtOnce, tt.wantWait)
			}
			if got, _ := takeAll(b, bucketStart.Add(tt.wantWait), 2); got != tt.wantRefills {
				t.Errorf("after %s: got %d allowed, want %d", tt.wantWait, got, tt.wantRefills)
			}
			if got, _ := takeAll(b, bucketStart.Add(time.Hour), tt.wantAtOnce+1); got != tt.wantAtOnce {
				t.Errorf("an hour later: got %d allowed, want the whole bucket, %d", got, tt.wantAtOnce)
			}
		})
	}
}

// TestDefaultLimitTakesAStorm: Alertmanager in a storm of 10,000 alerts in
// 10 s, every alert its own group (one request each, the worst case),
// sending in bursts of 500 every half second: the default never throttles.
func TestDefaultLimitTakesAStorm(t *testing.T) {
	b := newBucket(config.DefaultRateLimit)
	for i := range 20 {
		now := bucketStart.Add(time.Duration(i) * 500 * time.Millisecond)
		if got, wait := takeAll(b, now, 500); got != 500 {
			t.Fatalf("burst %d: %d of 500 allowed, then a wait of %s", i+1, got, wait)
		}
	}
}

// TestBucketClockBackwards: a clock stepping back gives no extra room.
func TestBucketClockBackwards(t *testing.T) {
	b := newBucket(config.RateLimit{Requests: 2, Per: time.Second})
	takeAll(b, bucketStart, 2)
	if got, _ := takeAll(b, bucketStart.Add(-time.Hour), 1); got != 0 {
		t.Errorf("an hour earlier: got %d allowed, want 0", got)
	}
}
