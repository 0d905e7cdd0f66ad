package oncall

import "time"

// weekdays are the default business days.
var weekdays = [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}

// From returns when a group unacknowledged since t reaches the deadline:
// t+After, or the start of the first business day after t's local date
// (even if t is before that day's start: a night's alert waits for the
// next day, not the same morning). It reports false when there is none.
func (d Deadline) From(t time.Time, bh BusinessHours) (time.Time, bool) {
	switch {
	case d.None:
		return time.Time{}, false
	case d.NextBusinessDay:
		return bh.nextDay(t), true
	case d.After > 0:
		return t.Add(d.After), true
	}
	return time.Time{}, false
}

// nextDay returns the start of the first business day after t's date.
func (bh BusinessHours) nextDay(t time.Time) time.Time {
	loc := bh.Location
	if loc == nil {
		loc = time.UTC
	}
	days := bh.Days
	if days == [7]bool{} {
		days = weekdays
	}
	y, m, d := t.In(loc).Date()
	i := 1
	// Noon UTC names the weekday without DST doubt. Days is not empty, so
	// a week later at the latest is a business day.
	for ; i < 7 && !days[time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC).Weekday()]; i++ {
	}
	return time.Date(y, m, d+i, 0, bh.Start, 0, 0, loc)
}
