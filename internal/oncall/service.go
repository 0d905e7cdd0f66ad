package oncall

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// maxSpan bounds the range of one Shifts or UserShifts call: a short
// rotation over decades would be millions of shifts.
const maxSpan = 732 * day

// Options configures a Service.
type Options struct {
	Now    func() time.Time // default time.Now
	Secret []byte           // signs calendar feed URLs; none: no feeds
}

// Service answers who is on call, now and over a range, and manages the
// overrides added at run time.
type Service struct {
	store  klaxon.Store
	dir    atomic.Pointer[Directory]
	now    func() time.Time
	secret []byte
}

// OnCall is who is on call for a schedule at a time, and who is next.
type OnCall struct {
	Schedule string `json:"schedule"`
	Now      *Shift `json:"now,omitempty"`
	Next     *Shift `json:"next,omitempty"`
}

// NewService returns a Service over store answering from dir.
func NewService(store klaxon.Store, dir *Directory, opts Options) *Service {
	s := &Service{store: store, now: opts.Now, secret: opts.Secret}
	if s.now == nil {
		s.now = time.Now
	}
	s.Swap(dir)
	return s
}

// Directory returns the on-call configuration in use.
func (s *Service) Directory() *Directory { return s.dir.Load() }

// Swap puts a new configuration in use, e.g. after a reload; calls under
// way finish with the one they started with.
func (s *Service) Swap(dir *Directory) {
	if dir == nil {
		dir = &Directory{}
	}
	s.dir.Store(dir)
}

// OnCall returns, for a schedule ("" for every one, by name), who is on
// call at at (the zero time: now) and who is next: the first shift after
// the current one with another user or after a gap. Each is looked for
// within 35 days back and 100 days ahead; a shift reaching past that is
// cut there, so its End means "at least until".
func (s *Service) OnCall(ctx context.Context, schedule string, at time.Time) ([]OnCall, error) {
	if at.IsZero() {
		at = s.now()
	}
	scheds, err := s.Directory().schedules(schedule)
	if err != nil {
		return nil, err
	}
	widest := horizons[len(horizons)-1]
	stored, err := s.stored(ctx, schedule, at.Add(-widest.back), at.Add(widest.ahead))
	if err != nil {
		return nil, err
	}
	out := make([]OnCall, 0, len(scheds))
	for _, sc := range scheds {
		now, next := sc.nowNext(at, stored, true)
		out = append(out, OnCall{Schedule: sc.Name, Now: clone(now), Next: clone(next)})
	}
	return out, nil
}

// clone copies a shift out of the slice it points into, which can then
// be collected.
func clone(sh *Shift) *Shift {
	if sh == nil {
		return nil
	}
	c := *sh
	return &c
}

// Shifts returns a schedule's shifts within [from, to) (see
// Schedule.Shifts); "" is every schedule, by Start then schedule.
func (s *Service) Shifts(ctx context.Context, schedule string, from, to time.Time) ([]Shift, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	scheds, err := s.Directory().schedules(schedule)
	if err != nil {
		return nil, err
	}
	return s.shifts(ctx, schedule, scheds, from, to, "")
}

// UserShifts returns a user's shifts within [from, to) across every
// schedule, by Start then schedule.
func (s *Service) UserShifts(ctx context.Context, user string, from, to time.Time) ([]Shift, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	dir := s.Directory()
	if _, ok := dir.Users[user]; !ok {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "%s", dir.noUser(user))
	}
	scheds, _ := dir.schedules("")
	return s.shifts(ctx, "", scheds, from, to, user)
}

func checkRange(from, to time.Time) error {
	switch {
	case to.Before(from):
		return klaxon.Errorf(klaxon.EINVALID, "the range ends (%s) before it starts (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > maxSpan:
		return klaxon.Errorf(klaxon.EINVALID, "the range is %s long; ask for at most %d days at a time", to.Sub(from), maxSpan/day)
	}
	return nil
}

// shifts computes the shifts of scheds (of user, if not "") within the
// range, by Start then schedule.
func (s *Service) shifts(ctx context.Context, schedule string, scheds []*Schedule, from, to time.Time, user string) ([]Shift, error) {
	stored, err := s.stored(ctx, schedule, from, to)
	if err != nil {
		return nil, err
	}
	var out []Shift
	for _, sc := range scheds {
		for _, sh := range sc.Shifts(from, to, stored) {
			if user == "" || sh.User == user {
				out = append(out, sh)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Schedule, b.Schedule)
	})
	return out, nil
}

func (s *Service) stored(ctx context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	ovs, err := s.store.Overrides(ctx, schedule, from, to)
	if err != nil {
		return nil, fmt.Errorf("load overrides: %w", err)
	}
	return ovs, nil
}

// Overrides lists the overrides of a schedule ("" for every one) that
// overlap [from, to): those of the configuration (by schedule, in file
// order), then the stored ones (by Start then ID).
func (s *Service) Overrides(ctx context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	scheds, err := s.Directory().schedules(schedule)
	if err != nil {
		return nil, err
	}
	var out []klaxon.Override
	for _, sc := range scheds {
		for _, o := range sc.Overrides {
			if o.Start.Before(to) && o.End.After(from) {
				out = append(out, o)
			}
		}
	}
	stored, err := s.stored(ctx, schedule, from, to)
	if err != nil {
		return nil, err
	}
	return append(out, stored...), nil
}

// AddOverride checks and stores an override, and returns it with its ID
// and CreatedAt set. Every problem found is in the EINVALID error.
func (s *Service) AddOverride(ctx context.Context, o klaxon.Override) (*klaxon.Override, error) {
	now := s.now()
	if err := s.Directory().checkOverride(o, now); err != nil {
		return nil, err
	}
	// Stores keep microseconds: return what a later read will give.
	o.CreatedAt = now.UTC().Truncate(time.Microsecond)
	sched := s.Directory().Schedules[o.Schedule]
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertOverride(ctx, &o); err != nil {
			return err
		}
		if sched.Handoff == "" {
			return nil
		}
		// The override's edges may be hand-offs the queued notice
		// does not know of; a notice where nothing changes posts nothing.
		for _, at := range []time.Time{o.Start, o.End} {
			if at.After(now) {
				if err := tx.Enqueue(ctx, klaxon.HandoffNotice{Schedule: o.Schedule, At: at.UTC()}, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add override: %w", err)
	}
	return &o, nil
}

func (d *Directory) checkOverride(o klaxon.Override, now time.Time) error {
	var problems []string
	if _, ok := d.Schedules[o.Schedule]; !ok {
		problems = append(problems, d.noSchedule(o.Schedule))
	}
	if _, ok := d.Users[o.User]; !ok {
		problems = append(problems, d.noUser(o.User))
	}
	if _, ok := d.Users[o.Replaces]; o.Replaces != "" && !ok {
		problems = append(problems, d.noUser(o.Replaces))
	}
	if o.Replaces != "" && o.Replaces == o.User {
		problems = append(problems, fmt.Sprintf("%s cannot replace themselves", o.User))
	}
	switch {
	case o.Start.IsZero() || o.End.IsZero():
		problems = append(problems, "the override needs a start and an end")
	case !o.End.After(o.Start):
		problems = append(problems, fmt.Sprintf("the override ends (%s) before it starts (%s)", o.End.Format(time.RFC3339), o.Start.Format(time.RFC3339)))
	case !o.End.After(now):
		problems = append(problems, fmt.Sprintf("the override is already over (it ended %s)", o.End.Format(time.RFC3339)))
	}
	if len(problems) == 0 {
		return nil
	}
	err := klaxon.Errorf(klaxon.EINVALID, "%s", strings.Join(problems, "; "))
	if len(problems) > 1 {
		err.Problems = problems
	}
	return err
}

// RemoveOverride deletes a stored override and returns it; an ENOTFOUND
// error if there is none. Overrides from the configuration are removed
// there. actor is who asks; nothing records it yet.
func (s *Service) RemoveOverride(ctx context.Context, id int64, actor string) (*klaxon.Override, error) {
	if id <= 0 {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no override %d (overrides from the configuration are removed from it)", id)
	}
	var removed *klaxon.Override
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		var err error
		removed, err = tx.DeleteOverride(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("remove override %d: %w", id, err)
	}
	return removed, nil
}

// UserByIdentity returns the user with a platform ID equal to id: exactly,
// except e-mail addresses, whose case does not matter.
func (s *Service) UserByIdentity(id string) (klaxon.User, bool) {
	if id == "" {
		return klaxon.User{}, false
	}
	users := s.Directory().Users
	for _, name := range slices.Sorted(maps.Keys(users)) {
		u := users[name]
		if u.Matrix == id || u.Slack == id || u.GoogleChat == id || (u.Email != "" && strings.EqualFold(u.Email, id)) {
			return u, true
		}
	}
	return klaxon.User{}, false
}

// FeedToken returns the token in the URL of a calendar feed (kind
// "schedule" or "user", and its name), or "" without a secret: calendar
// apps fetch feeds with no other credential.
func (s *Service) FeedToken(kind, name string) string {
	if len(s.secret) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(kind + ":" + name))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// CheckFeedToken reports whether token opens the feed; never without a
// secret.
func (s *Service) CheckFeedToken(kind, name, token string) bool {
	want := s.FeedToken(kind, name)
	return want != "" && hmac.Equal([]byte(want), []byte(token))
}

// schedules returns the named schedule, or every one by name for "".
func (d *Directory) schedules(name string) ([]*Schedule, error) {
	if name == "" {
		var out []*Schedule
		for _, n := range slices.Sorted(maps.Keys(d.Schedules)) {
			out = append(out, d.Schedules[n])
		}
		return out, nil
	}
	sc, ok := d.Schedules[name]
	if !ok {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "%s", d.noSchedule(name))
	}
	return []*Schedule{sc}, nil
}

func (d *Directory) noSchedule(name string) string {
	if len(d.Schedules) == 0 {
		return fmt.Sprintf("no schedule %q; there are no schedules", name)
	}
	return fmt.Sprintf("no schedule %q; schedules: %s", name, joinNames(slices.Sorted(maps.Keys(d.Schedules))))
}

func (d *Directory) noUser(name string) string {
	if len(d.Users) == 0 {
		return fmt.Sprintf("no user %q; there are no users", name)
	}
	return fmt.Sprintf("no user %q; users: %s", name, joinNames(slices.Sorted(maps.Keys(d.Users))))
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
