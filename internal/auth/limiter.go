package auth

import (
	"strings"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Failed sign-ins allowed per window: few per username, so a password
// cannot be guessed; more per address, so one office behind a NAT can
// still mistype. Each replica counts its own.
const (
	failuresPerUser = 5
	failuresPerAddr = 20
	failureWindow   = 15 * time.Minute
)

// LimitedError is an ERATELIMITED error that says when to try again.
type LimitedError struct {
	Err        *klaxon.Error
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string { return e.Err.Error() }
func (e *LimitedError) Unwrap() error { return e.Err }

// loginLimiter counts sign-in attempts per username and per remote
// address in a sliding window. An attempt counts as a failure from the
// start, so concurrent guesses cannot slip past the limit; a right
// password takes it back.
type loginLimiter struct {
	mu        sync.Mutex
	byUser    window
	byAddr    window
	lastSweep time.Time
}

// window holds the recent attempts of each key, oldest first.
type window struct {
	limit int
	hits  map[string][]time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{
		byUser: window{limit: failuresPerUser, hits: map[string][]time.Time{}},
		byAddr: window{limit: failuresPerAddr, hits: map[string][]time.Time{}},
	}
}

// loginAttempt is one counted attempt.
type loginAttempt struct {
	l          *loginLimiter
	user, addr string
	at         time.Time
}

// attempt counts an attempt to sign in as username from addr, or refuses
// it when either has failed too often lately.
func (l *loginLimiter) attempt(now time.Time, username, addr string) (*loginAttempt, error) {
	user := strings.ToLower(username)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.byUser.sweep(now)
		l.byAddr.sweep(now)
		l.lastSweep = now
	}
	wait := max(l.byUser.wait(user, now), l.byAddr.wait(addr, now))
	if wait > 0 {
		minutes := int((wait + time.Minute - 1) / time.Minute)
		return nil, &LimitedError{
			Err:        klaxon.Errorf(klaxon.ERATELIMITED, "too many failed sign-ins; try again in %d minute%s", minutes, plural(minutes)),
			RetryAfter: wait,
		}
	}
	l.byUser.hits[user] = append(l.byUser.hits[user], now)
	l.byAddr.hits[addr] = append(l.byAddr.hits[addr], now)
	return &loginAttempt{l: l, user: user, addr: addr, at: now}, nil
}

// succeeded forgives the username's failures and takes this attempt back
// from the address.
func (a *loginAttempt) succeeded() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	delete(a.l.byUser.hits, a.user)
	a.l.byAddr.remove(a.addr, a.at)
}

// abandon takes the attempt back: it failed for another reason than the
// password (the database was down).
func (a *loginAttempt) abandon() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	a.l.byUser.remove(a.user, a.at)
	a.l.byAddr.remove(a.addr, a.at)
}

// wait drops key's attempts older than the window and says how long until
// it may try again (0: now).
func (w *window) wait(key string, now time.Time) time.Duration {
	hits := w.hits[key]
	for len(hits) > 0 && now.Sub(hits[0]) >= failureWindow {
		hits = hits[1:]
	}
	if len(hits) == 0 {
		delete(w.hits, key)
		return 0
	}
	w.hits[key] = hits
	if len(hits) < w.limit {
		return 0
	}
	return hits[len(hits)-w.limit].Add(failureWindow).Sub(now)
}

func (w *window) remove(key string, at time.Time) {
	hits := w.hits[key]
	for i := len(hits) - 1; i >= 0; i-- {
		if hits[i].Equal(at) {
			if len(hits) == 1 {
				delete(w.hits, key)
			} else {
				w.hits[key] = append(hits[:i:i], hits[i+1:]...)
			}
			return
		}
	}
}

// sweep forgets keys whose attempts are all older than the window, so
// the maps do not grow with every name ever tried.
func (w *window) sweep(now time.Time) {
	for key, hits := range w.hits {
		if now.Sub(hits[len(hits)-1]) >= failureWindow {
			delete(w.hits, key)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
