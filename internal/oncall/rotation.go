package oncall

import "time"

// rotation is a Rotation ready for arithmetic.
type rotation struct {
	name         string
	participants []string
	hours        []Window
	loc          *time.Location
	start        time.Time // the first hand-off
	wallStart    int64     // start's wall clock, as seconds since the epoch
	length       int64     // seconds of wall clock
	// start's wall-clock fields, from which time.Date counts hand-offs
	year, day, hour, minute, sec, nsec int
	month                              time.Month
}

// compile readies the schedule's rotations; those that can never cover
// anything (no participants, no length) are left out.
func (s *Schedule) compile() []rotation {
	out := make([]rotation, 0, len(s.Rotations))
	for _, r := range s.Rotations {
		length := int64(r.Length / time.Second)
		if len(r.Participants) == 0 || length <= 0 {
			continue
		}
		loc := r.Location
		if loc == nil {
			loc = s.location()
		}
		st := r.Start.In(loc)
		c := rotation{
			name: r.Name, participants: r.Participants, hours: r.Hours, loc: loc,
			start: st, wallStart: wall(st), length: length, nsec: st.Nanosecond(),
		}
		c.year, c.month, c.day = st.Date()
		c.hour, c.minute, c.sec = st.Clock()
		out = append(out, c)
	}
	return out
}

// wall is t's local wall clock as seconds since the epoch: durations
// between walls ignore DST changes.
func wall(t time.Time) int64 {
	_, offset := t.Zone()
	return t.Unix() + int64(offset)
}

// handoff returns the start of shift k: Start plus k lengths on the local
// wall clock, so hand-offs keep their local time across DST changes.
func (r *rotation) handoff(k int64) time.Time {
	return time.Date(r.year, r.month, r.day, r.hour, r.minute, r.sec+int(k*r.length), r.nsec, r.loc)
}

// index returns the shift containing t, which is not before the start.
// The estimate from the wall clock is off only near DST changes, so the
// corrections take a step or two.
func (r *rotation) index(t time.Time) int64 {
	k := floorDiv(wall(t.In(r.loc))-r.wallStart, r.length)
	for k > 0 && r.handoff(k).After(t) {
		k--
	}
	for !r.handoff(k + 1).After(t) {
		k++
	}
	return k
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// at returns who the rotation has on call at t, if it covers t.
func (r *rotation) at(t time.Time) (string, bool) {
	if t.Before(r.start) || !r.inHours(t) {
		return "", false
	}
	k := r.index(t)
	return r.participants[k%int64(len(r.participants))], true
}

// inHours reports whether t is inside one of the rotation's windows. A
// window lasts at most a day, so only those starting on t's local day and
// the day before can contain it.
func (r *rotation) inHours(t time.Time) bool {
	if len(r.hours) == 0 {
		return true
	}
	y, m, d := t.In(r.loc).Date()
	for back := 0; back <= 1; back++ {
		for _, w := range r.hours {
			start, end, ok := r.window(w, y, m, d-back)
			if ok && !t.Before(start) && t.Before(end) {
				return true
			}
		}
	}
	return false
}

// window returns w's span starting on the given local day, if w starts on
// that day of the week.
func (r *rotation) window(w Window, y int, m time.Month, d int) (start, end time.Time, ok bool) {
	// Noon UTC names the weekday of any normalized date without DST doubt.
	if !w.Days[time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()] {
		return start, end, false
	}
	endDay := d
	if w.End <= w.Start {
		endDay++
	}
	return time.Date(y, m, d, 0, w.Start, 0, 0, r.loc), time.Date(y, m, endDay, 0, w.End, 0, 0, r.loc), true
}

// boundaries appends the instants within (from, to) at which the rotation
// may change who it has on call: its hand-offs and its windows' edges.
func (r *rotation) boundaries(bounds []time.Time, from, to time.Time) []time.Time {
	if !r.start.Before(to) {
		return bounds
	}
	k := int64(0)
	if r.start.After(from) {
		bounds = append(bounds, r.start)
	} else {
		k = r.index(from)
	}
	for k++; ; k++ {
		t := r.handoff(k)
		if !t.Before(to) {
			break
		}
		bounds = appendWithin(bounds, t, from, to)
	}
	if len(r.hours) == 0 {
		return bounds
	}
	y, m, d := from.In(r.loc).Date()
	for i := -1; ; i++ {
		dayStart := time.Date(y, m, d+i, 0, 0, 0, 0, r.loc)
		if !dayStart.Before(to) {
			break
		}
		for _, w := range r.hours {
			if start, end, ok := r.window(w, y, m, d+i); ok {
				bounds = appendWithin(bounds, start, from, to)
				bounds = appendWithin(bounds, end, from, to)
			}
		}
	}
	return bounds
}
