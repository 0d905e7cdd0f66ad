package oncall

import (
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Shifts returns who is on call within [from, to): shifts in order, never
// overlapping, clipped to the range, in the schedule's time zone. Adjacent
// spans of one user from one source (the same rotation, or the same
// override) are one shift; times nobody is on call have none.
//
// The overrides are the schedule's own (from configuration) followed by
// the given ones (stored); those naming another schedule are ignored.
// They apply in that order, so a later one wins where they overlap. An
// override with Replaces applies only while Replaces is on call, after the
// rotations and the earlier overrides, so one can replace an override's
// user too.
func (s *Schedule) Shifts(from, to time.Time, overrides []klaxon.Override) []Shift {
	if !from.Before(to) {
		return nil
	}
	loc := s.location()
	from, to = from.In(loc), to.In(loc) // also drops monotonic readings
	rots := s.compile()
	ovs := s.overridesIn(from, to, overrides)

	// Who is on call changes only at a boundary: evaluate once per segment.
	bounds := []time.Time{from}
	for i := range rots {
		bounds = rots[i].boundaries(bounds, from, to)
	}
	for _, o := range ovs {
		bounds = appendWithin(bounds, o.Start, from, to)
		bounds = appendWithin(bounds, o.End, from, to)
	}
	slices.SortFunc(bounds, time.Time.Compare)
	bounds = slices.CompactFunc(bounds, time.Time.Equal)

	var out []Shift
	var last source
	for i, b := range bounds {
		end := to
		if i+1 < len(bounds) {
			end = bounds[i+1]
		}
		src := who(rots, ovs, b)
		if src.user == "" {
			continue
		}
		if n := len(out); n > 0 && src == last && out[n-1].End.Equal(b) {
			out[n-1].End = end.In(loc)
			continue
		}
		sh := Shift{Schedule: s.Name, User: src.user, Start: b.In(loc), End: end.In(loc)}
		if src.override >= 0 {
			o := ovs[src.override]
			sh.Override = &o
		} else {
			sh.Rotation = rots[src.rotation].name
		}
		out = append(out, sh)
		last = src
	}
	return out
}

// The horizons At and OnCall look through, smallest first: most shifts
// are found in the first, and only long ones need the last. A shift longer
// than the last is cut there, so its Start is "at least since" and its End
// "at least until".
var horizons = []struct{ back, ahead time.Duration }{
	{2 * day, 2 * day},
	{8 * day, 15 * day},
	{35 * day, 100 * day},
}

const day = 24 * time.Hour

// At returns the shift containing t with its whole extent, which may start
// before t, looking at most 35 days back and 100 days ahead: a shift
// reaching past those has Start or End cut there. It reports false when
// nobody is on call at t.
func (s *Schedule) At(t time.Time, overrides []klaxon.Override) (Shift, bool) {
	now, _ := s.nowNext(t, overrides, false)
	if now == nil {
		return Shift{}, false
	}
	return *now, true
}

// nowNext returns the shift containing t (nil if nobody is on call) and,
// if wantNext, the next shift with another user or after a gap (nil if
// none within the horizon).
func (s *Schedule) nowNext(t time.Time, overrides []klaxon.Override, wantNext bool) (now, next *Shift) {
	for i, h := range horizons {
		from, to := t.Add(-h.back), t.Add(h.ahead)
		now, next = findNowNext(s.Shifts(from, to, overrides), t)
		final := i == len(horizons)-1
		nowCut := now != nil && (!now.Start.After(from) || !now.End.Before(to))
		nextCut := wantNext && (next == nil || !next.End.Before(to))
		if final || (!nowCut && !nextCut) {
			break
		}
	}
	return now, next
}

func findNowNext(shifts []Shift, t time.Time) (now, next *Shift) {
	i, _ := slices.BinarySearchFunc(shifts, t, func(sh Shift, t time.Time) int {
		if !sh.End.After(t) {
			return -1
		}
		if sh.Start.After(t) {
			return 1
		}
		return 0
	})
	if i < len(shifts) && !shifts[i].Start.After(t) {
		now = &shifts[i]
		i++
		// The same user carrying on from another source is not a hand-off.
		for end := now.End; i < len(shifts) && shifts[i].Start.Equal(end) && shifts[i].User == now.User; i++ {
			end = shifts[i].End
		}
	}
	if i < len(shifts) {
		next = &shifts[i]
	}
	return now, next
}

func (s *Schedule) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// overridesIn returns the schedule's overrides, then the given ones, that
// belong to it and overlap [from, to), in order.
func (s *Schedule) overridesIn(from, to time.Time, stored []klaxon.Override) []klaxon.Override {
	var out []klaxon.Override
	for _, list := range [][]klaxon.Override{s.Overrides, stored} {
		for _, o := range list {
			if (o.Schedule == "" || o.Schedule == s.Name) && o.Start.Before(to) && o.End.After(from) && o.Start.Before(o.End) {
				out = append(out, o)
			}
		}
	}
	return out
}

// source is who is on call during a segment and why: a rotation's
// participant or an override's user (the other index is -1).
type source struct {
	user     string
	rotation int
	override int
}

// who is on call at t: the last rotation covering t, then each override
// containing t in order.
func who(rots []rotation, ovs []klaxon.Override, t time.Time) source {
	src := source{rotation: -1, override: -1}
	for i := len(rots) - 1; i >= 0; i-- {
		if user, ok := rots[i].at(t); ok {
			src = source{user: user, rotation: i, override: -1}
			break
		}
	}
	for j, o := range ovs {
		if t.Before(o.Start) || !t.Before(o.End) {
			continue
		}
		if o.Replaces != "" && o.Replaces != src.user {
			continue
		}
		src = source{user: o.User, rotation: -1, override: j}
	}
	return src
}

func appendWithin(bounds []time.Time, t, from, to time.Time) []time.Time {
	if t.After(from) && t.Before(to) {
		return append(bounds, t)
	}
	return bounds
}
