package oncall_test

import (
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

func rot(name string, length time.Duration, start time.Time, participants ...string) oncall.Rotation {
	return oncall.Rotation{Name: name, Participants: participants, Length: length, Start: start, Location: start.Location()}
}

func TestShiftsRotations(t *testing.T) {
	utc := time.UTC
	berlin := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	day, week := 24*time.Hour, 7*24*time.Hour
	tests := []struct {
		name     string
		rotation oncall.Rotation
		loc      *time.Location
		from, to string
		want     []string
	}{{
		name:     "weekly, nothing before the start",
		rotation: rot("weekly", week, tm(t, utc, "2026-01-05 09:00"), "a", "b", "c"),
		loc:      utc, from: "2026-01-01 00:00", to: "2026-01-27 00:00",
		want: []string{
			"a 2026-01-05 09:00 +0000 → 2026-01-12 09:00 +0000 168h",
			"b 2026-01-12 09:00 +0000 → 2026-01-19 09:00 +0000 168h",
			"c 2026-01-19 09:00 +0000 → 2026-01-26 09:00 +0000 168h",
			"a 2026-01-26 09:00 +0000 → 2026-01-27 00:00 +0000 15h",
		},
	}, {
		name:     "one participant: one shift",
		rotation: rot("solo", day, tm(t, utc, "2026-01-01 09:00"), "a"),
		loc:      utc, from: "2026-01-01 00:00", to: "2026-01-05 00:00",
		want: []string{"a 2026-01-01 09:00 +0000 → 2026-01-05 00:00 +0000 87h"},
	}, {
		name:     "daily, Berlin spring forward: 23h shift, hand-off stays 09:00",
		rotation: rot("daily", day, tm(t, berlin, "2026-03-27 09:00"), "a", "b"),
		loc:      berlin, from: "2026-03-27 09:00", to: "2026-03-31 09:00",
		want: []string{
			"a 2026-03-27 09:00 +0100 → 2026-03-28 09:00 +0100 24h",
			"b 2026-03-28 09:00 +0100 → 2026-03-29 09:00 +0200 23h",
			"a 2026-03-29 09:00 +0200 → 2026-03-30 09:00 +0200 24h",
			"b 2026-03-30 09:00 +0200 → 2026-03-31 09:00 +0200 24h",
		},
	}, {
		name:     "daily, Berlin fall back: 25h shift",
		rotation: rot("daily", day, tm(t, berlin, "2026-10-23 09:00"), "a", "b"),
		loc:      berlin, from: "2026-10-24 09:00", to: "2026-10-26 09:00",
		want: []string{
			"b 2026-10-24 09:00 +0200 → 2026-10-25 09:00 +0100 25h",
			"a 2026-10-25 09:00 +0100 → 2026-10-26 09:00 +0100 24h",
		},
	}, {
		name:     "12h, Berlin spring forward: 09:00 and 21:00",
		rotation: rot("halves", 12*time.Hour, tm(t, berlin, "2026-03-28 09:00"), "a", "b"),
		loc:      berlin, from: "2026-03-28 09:00", to: "2026-03-29 21:00",
		want: []string{
			"a 2026-03-28 09:00 +0100 → 2026-03-28 21:00 +0100 12h",
			"b 2026-03-28 21:00 +0100 → 2026-03-29 09:00 +0200 11h",
			"a 2026-03-29 09:00 +0200 → 2026-03-29 21:00 +0200 12h",
		},
	}, {
		name:     "12h, Berlin fall back",
		rotation: rot("halves", 12*time.Hour, tm(t, berlin, "2026-10-24 09:00"), "a", "b"),
		loc:      berlin, from: "2026-10-24 09:00", to: "2026-10-25 21:00",
		want: []string{
			"a 2026-10-24 09:00 +0200 → 2026-10-24 21:00 +0200 12h",
			"b 2026-10-24 21:00 +0200 → 2026-10-25 09:00 +0100 13h",
			"a 2026-10-25 09:00 +0100 → 2026-10-25 21:00 +0100 12h",
		},
	}, {
		name:     "daily, New York spring forward",
		rotation: rot("daily", day, tm(t, ny, "2026-03-06 09:00"), "a", "b", "c"),
		loc:      ny, from: "2026-03-07 09:00", to: "2026-03-09 09:00",
		want: []string{
			"b 2026-03-07 09:00 -0500 → 2026-03-08 09:00 -0400 23h",
			"c 2026-03-08 09:00 -0400 → 2026-03-09 09:00 -0400 24h",
		},
	}, {
		name:     "daily, New York fall back",
		rotation: rot("daily", day, tm(t, ny, "2026-10-31 09:00"), "a", "b"),
		loc:      ny, from: "2026-10-31 09:00", to: "2026-11-02 09:00",
		want: []string{
			"a 2026-10-31 09:00 -0400 → 2026-11-01 09:00 -0500 25h",
			"b 2026-11-01 09:00 -0500 → 2026-11-02 09:00 -0500 24h",
		},
	}, {
		name:     "12h, New York spring forward",
		rotation: rot("halves", 12*time.Hour, tm(t, ny, "2026-03-07 09:00"), "a", "b"),
		loc:      ny, from: "2026-03-07 21:00", to: "2026-03-08 21:00",
		want: []string{
			"b 2026-03-07 21:00 -0500 → 2026-03-08 09:00 -0400 11h",
			"a 2026-03-08 09:00 -0400 → 2026-03-08 21:00 -0400 12h",
		},
	}, {
		name:     "12h, New York fall back",
		rotation: rot("halves", 12*time.Hour, tm(t, ny, "2026-10-31 09:00"), "a", "b"),
		loc:      ny, from: "2026-10-31 21:00", to: "2026-11-01 21:00",
		want: []string{
			"b 2026-10-31 21:00 -0400 → 2026-11-01 09:00 -0500 13h",
			"a 2026-11-01 09:00 -0500 → 2026-11-01 21:00 -0500 12h",
		},
	}, {
		// 02:30 does not exist on 29 March: that hand-off is an hour
		// late, and the next is back at 02:30.
		name:     "hand-off in the skipped hour",
		rotation: rot("early", day, tm(t, berlin, "2026-03-28 02:30"), "a", "b", "c"),
		loc:      berlin, from: "2026-03-28 02:30", to: "2026-03-30 02:30",
		want: []string{
			"a 2026-03-28 02:30 +0100 → 2026-03-29 03:30 +0200 24h",
			"b 2026-03-29 03:30 +0200 → 2026-03-30 02:30 +0200 23h",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &oncall.Schedule{Name: "ops", Location: tt.loc, Rotations: []oncall.Rotation{tt.rotation}}
			got := s.Shifts(tm(t, tt.loc, tt.from), tm(t, tt.loc, tt.to), nil)
			diff(t, "shifts", render(got, tt.loc), tt.want)
			for _, sh := range got {
				if sh.Schedule != "ops" || sh.Rotation != tt.rotation.Name || sh.Override != nil {
					t.Errorf("shift %+v: want schedule ops, rotation %s, no override", sh, tt.rotation.Name)
				}
			}
		})
	}
}

// A rotation that started years ago is computed directly, not walked
// shift by shift.
func TestShiftsYearsBack(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	start := tm(t, berlin, "2016-01-04 09:00") // a Monday
	people := []string{"a", "b", "c"}
	s := &oncall.Schedule{Name: "ops", Location: berlin, Rotations: []oncall.Rotation{
		rot("weekly", 7*24*time.Hour, start, people...),
	}}
	days := int(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).Sub(time.Date(2016, 1, 4, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	k := days / 7
	got := s.Shifts(tm(t, berlin, "2026-11-20 00:00"), tm(t, berlin, "2026-11-27 00:00"), nil)
	diff(t, "weekly since 2016", render(got, berlin), []string{
		people[(k-1)%3] + " 2026-11-20 00:00 +0100 → 2026-11-23 09:00 +0100 81h",
		people[k%3] + " 2026-11-23 09:00 +0100 → 2026-11-27 00:00 +0100 87h",
	})

	// Half-hour shifts since 2016: the shift index runs into the
	// hundreds of thousands.
	s = &oncall.Schedule{Name: "ops", Location: berlin, Rotations: []oncall.Rotation{
		rot("short", 30*time.Minute, tm(t, berlin, "2016-01-01 00:00"), "a", "b", "c"),
	}}
	days = int(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).Sub(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	k = days*48 + 20 // 10:00 is the 20th half hour of the day
	sh, ok := s.At(tm(t, berlin, "2026-11-21 10:10"), nil)
	want := people[k%3] + " 2026-11-21 10:00 +0100 → 2026-11-21 10:30 +0100 30m"
	if got := renderShift(sh, berlin); !ok || got != want {
		t.Errorf("At: got %s, %v; want %s", got, ok, want)
	}
}

// layered is a 24/7 weekly rotation under an office-hours daily one.
func layered(t *testing.T, loc *time.Location) *oncall.Schedule {
	office := rot("office", 24*time.Hour, tm(t, loc, "2026-11-02 09:00"), "carol", "dave")
	office.Hours = []oncall.Window{weekdaysWindow(9*hour, 17*hour)}
	return &oncall.Schedule{Name: "ops", Location: loc, Rotations: []oncall.Rotation{
		rot("primary", 7*24*time.Hour, tm(t, loc, "2026-11-02 09:00"), "alice", "bob"),
		office,
	}}
}

func TestLayers(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	s := layered(t, berlin)
	tests := []struct {
		at   string
		want string
	}{
		{"2026-11-17 10:00", "dave 2026-11-17 09:00 +0100 → 2026-11-17 17:00 +0100 8h"},   // Tuesday, office hours
		{"2026-11-17 20:00", "alice 2026-11-17 17:00 +0100 → 2026-11-18 09:00 +0100 16h"}, // Tuesday evening
		{"2026-11-21 10:00", "alice 2026-11-20 17:00 +0100 → 2026-11-23 09:00 +0100 64h"}, // Saturday
		{"2026-11-23 08:59", "alice 2026-11-20 17:00 +0100 → 2026-11-23 09:00 +0100 64h"}, // Monday, before the hand-off
		{"2026-11-23 17:00", "bob 2026-11-23 17:00 +0100 → 2026-11-24 09:00 +0100 16h"},   // Monday, after the hand-off
		{"2026-11-23 09:00", "dave 2026-11-23 09:00 +0100 → 2026-11-23 17:00 +0100 8h"},   // Monday, office
		{"2026-11-02 08:00", ""}, // before either started
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			sh, ok := s.At(tm(t, berlin, tt.at), nil)
			got := ""
			if ok {
				got = renderShift(sh, berlin)
			}
			if got != tt.want {
				t.Errorf("At: got %q, want %q", got, tt.want)
			}
		})
	}
	got := s.Shifts(tm(t, berlin, "2026-11-17 00:00"), tm(t, berlin, "2026-11-18 00:00"), nil)
	diff(t, "Tuesday", render(got, berlin), []string{
		"alice 2026-11-17 00:00 +0100 → 2026-11-17 09:00 +0100 9h",
		"dave 2026-11-17 09:00 +0100 → 2026-11-17 17:00 +0100 8h",
		"alice 2026-11-17 17:00 +0100 → 2026-11-18 00:00 +0100 7h",
	})
	if got[1].Rotation != "office" || got[2].Rotation != "primary" {
		t.Errorf("rotations: got %q, %q; want office, primary", got[1].Rotation, got[2].Rotation)
	}
}

func TestNightWindow(t *testing.T) {
	utc := time.UTC
	nights := rot("nights", 7*24*time.Hour, tm(t, utc, "2026-11-02 00:00"), "nina")
	nights.Hours = []oncall.Window{weekdaysWindow(22*hour, 6*hour)}
	s := &oncall.Schedule{Name: "ops", Location: utc, Rotations: []oncall.Rotation{
		rot("base", 7*24*time.Hour, tm(t, utc, "2026-11-02 00:00"), "base"),
		nights,
	}}
	for at, want := range map[string]string{
		"2026-11-20 21:59": "base", // Friday, before the window
		"2026-11-20 23:00": "nina", // Friday night
		"2026-11-21 05:59": "nina", // Friday's window, on Saturday
		"2026-11-21 06:00": "base",
		"2026-11-21 23:00": "base", // no window starts on Saturday
		"2026-11-23 03:00": "base", // nor on Sunday
		"2026-11-24 03:00": "nina", // Monday's window
	} {
		sh, _ := s.At(tm(t, utc, at), nil)
		if sh.User != want {
			t.Errorf("At %s: got %q, want %q", at, sh.User, want)
		}
	}

	berlin := mustLoad(t, "Europe/Berlin")
	nights = rot("nights", 24*time.Hour, tm(t, berlin, "2026-03-01 09:00"), "nina")
	nights.Hours = []oncall.Window{every(22*hour, 6*hour)}
	s = &oncall.Schedule{Name: "ops", Location: berlin, Rotations: []oncall.Rotation{nights}}
	for _, tt := range []struct{ from, to, want string }{
		{"2026-03-28 12:00", "2026-03-29 12:00", "nina 2026-03-28 22:00 +0100 → 2026-03-29 06:00 +0200 7h"},
		{"2026-10-24 12:00", "2026-10-25 12:00", "nina 2026-10-24 22:00 +0200 → 2026-10-25 06:00 +0100 9h"},
	} {
		got := s.Shifts(tm(t, berlin, tt.from), tm(t, berlin, tt.to), nil)
		diff(t, "night from "+tt.from, render(got, berlin), []string{tt.want})
	}
}

func TestOverrides(t *testing.T) {
	utc := time.UTC
	at := func(s string) time.Time { return tm(t, utc, s) }
	ov := func(user, replaces, start, end string) klaxon.Override {
		return klaxon.Override{Schedule: "ops", User: user, Replaces: replaces, Start: at(start), End: at(end)}
	}
	// alice until 11-20 09:00, bob until 11-21 09:00, then alice.
	daily := rot("daily", 24*time.Hour, at("2026-11-01 09:00"), "alice", "bob")
	tests := []struct {
		name   string
		config []klaxon.Override
		stored []klaxon.Override
		want   []string
	}{{
		name: "none",
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-21 09:00 +0000 24h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name:   "without replaces, across a hand-off: one shift",
		stored: []klaxon.Override{ov("carol", "", "2026-11-20 12:00", "2026-11-21 12:00")},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 12:00 +0000 3h",
			"carol* 2026-11-20 12:00 +0000 → 2026-11-21 12:00 +0000 24h",
			"alice 2026-11-21 12:00 +0000 → 2026-11-22 00:00 +0000 12h",
		},
	}, {
		name:   "replaces bob: only while bob is on",
		stored: []klaxon.Override{ov("carol", "bob", "2026-11-20 12:00", "2026-11-21 12:00")},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 12:00 +0000 3h",
			"carol* 2026-11-20 12:00 +0000 → 2026-11-21 09:00 +0000 21h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name:   "replaces someone not on call",
		stored: []klaxon.Override{ov("carol", "dave", "2026-11-20 12:00", "2026-11-21 12:00")},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-21 09:00 +0000 24h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name: "overlapping: the later wins",
		stored: []klaxon.Override{
			ov("carol", "", "2026-11-20 10:00", "2026-11-20 14:00"),
			ov("dave", "", "2026-11-20 12:00", "2026-11-20 16:00"),
		},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 10:00 +0000 1h",
			"carol* 2026-11-20 10:00 +0000 → 2026-11-20 12:00 +0000 2h",
			"dave* 2026-11-20 12:00 +0000 → 2026-11-20 16:00 +0000 4h",
			"bob 2026-11-20 16:00 +0000 → 2026-11-21 09:00 +0000 17h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name: "overlapping the other way round",
		stored: []klaxon.Override{
			ov("dave", "", "2026-11-20 12:00", "2026-11-20 16:00"),
			ov("carol", "", "2026-11-20 10:00", "2026-11-20 14:00"),
		},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 10:00 +0000 1h",
			"carol* 2026-11-20 10:00 +0000 → 2026-11-20 14:00 +0000 4h",
			"dave* 2026-11-20 14:00 +0000 → 2026-11-20 16:00 +0000 2h",
			"bob 2026-11-20 16:00 +0000 → 2026-11-21 09:00 +0000 17h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name:   "stored ones win over the configuration's",
		config: []klaxon.Override{ov("dave", "", "2026-11-20 12:00", "2026-11-20 16:00")},
		stored: []klaxon.Override{ov("carol", "", "2026-11-20 10:00", "2026-11-20 14:00")},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 10:00 +0000 1h",
			"carol* 2026-11-20 10:00 +0000 → 2026-11-20 14:00 +0000 4h",
			"dave* 2026-11-20 14:00 +0000 → 2026-11-20 16:00 +0000 2h",
			"bob 2026-11-20 16:00 +0000 → 2026-11-21 09:00 +0000 17h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name: "replacing an override's user",
		stored: []klaxon.Override{
			ov("carol", "", "2026-11-20 10:00", "2026-11-20 14:00"),
			ov("dave", "carol", "2026-11-20 12:00", "2026-11-20 13:00"),
		},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-20 10:00 +0000 1h",
			"carol* 2026-11-20 10:00 +0000 → 2026-11-20 12:00 +0000 2h",
			"dave* 2026-11-20 12:00 +0000 → 2026-11-20 13:00 +0000 1h",
			"carol* 2026-11-20 13:00 +0000 → 2026-11-20 14:00 +0000 1h",
			"bob 2026-11-20 14:00 +0000 → 2026-11-21 09:00 +0000 19h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name: "another schedule's, empty and outside the range: ignored",
		stored: []klaxon.Override{
			{Schedule: "web", User: "carol", Start: at("2026-11-20 10:00"), End: at("2026-11-20 14:00")},
			ov("carol", "", "2026-11-20 14:00", "2026-11-20 14:00"),
			ov("carol", "", "2026-11-22 00:00", "2026-11-23 00:00"),
		},
		want: []string{
			"alice 2026-11-20 00:00 +0000 → 2026-11-20 09:00 +0000 9h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-21 09:00 +0000 24h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}, {
		name:   "clipped to the range",
		stored: []klaxon.Override{ov("carol", "", "2026-11-19 00:00", "2026-11-20 01:00")},
		want: []string{
			"carol* 2026-11-20 00:00 +0000 → 2026-11-20 01:00 +0000 1h",
			"alice 2026-11-20 01:00 +0000 → 2026-11-20 09:00 +0000 8h",
			"bob 2026-11-20 09:00 +0000 → 2026-11-21 09:00 +0000 24h",
			"alice 2026-11-21 09:00 +0000 → 2026-11-22 00:00 +0000 15h",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &oncall.Schedule{Name: "ops", Location: utc, Rotations: []oncall.Rotation{daily}, Overrides: tt.config}
			got := s.Shifts(at("2026-11-20 00:00"), at("2026-11-22 00:00"), tt.stored)
			diff(t, "shifts", render(got, utc), tt.want)
			for _, sh := range got {
				if (sh.Override == nil) == (sh.Rotation == "") {
					t.Errorf("%s: rotation %q, override %v: want exactly one", renderShift(sh, utc), sh.Rotation, sh.Override)
				}
			}
		})
	}
}

func TestOverrideWhereNobodyIs(t *testing.T) {
	utc := time.UTC
	office := rot("office", 24*time.Hour, tm(t, utc, "2026-11-02 09:00"), "carol")
	office.Hours = []oncall.Window{weekdaysWindow(9*hour, 17*hour)}
	s := &oncall.Schedule{Name: "ops", Location: utc, Rotations: []oncall.Rotation{office}}
	from, to := tm(t, utc, "2026-11-17 12:00"), tm(t, utc, "2026-11-18 00:00")
	evening := klaxon.Override{Schedule: "ops", User: "eve", Start: tm(t, utc, "2026-11-17 16:00"), End: tm(t, utc, "2026-11-17 22:00")}
	diff(t, "without replaces", render(s.Shifts(from, to, []klaxon.Override{evening}), utc), []string{
		"carol 2026-11-17 12:00 +0000 → 2026-11-17 16:00 +0000 4h",
		"eve* 2026-11-17 16:00 +0000 → 2026-11-17 22:00 +0000 6h",
	})
	evening.Replaces = "carol"
	diff(t, "replacing carol", render(s.Shifts(from, to, []klaxon.Override{evening}), utc), []string{
		"carol 2026-11-17 12:00 +0000 → 2026-11-17 16:00 +0000 4h",
		"eve* 2026-11-17 16:00 +0000 → 2026-11-17 17:00 +0000 1h",
	})
	if got := s.Shifts(to, from, nil); got != nil {
		t.Errorf("reversed range: got %v, want none", got)
	}
}

func TestAt(t *testing.T) {
	utc := time.UTC
	s := &oncall.Schedule{Name: "ops", Location: utc, Rotations: []oncall.Rotation{
		rot("weekly", 7*24*time.Hour, tm(t, utc, "2026-11-02 09:00"), "alice", "bob"),
	}}
	sh, ok := s.At(tm(t, utc, "2026-11-12 15:00"), nil)
	if got, want := renderShift(sh, utc), "bob 2026-11-09 09:00 +0000 → 2026-11-16 09:00 +0000 168h"; !ok || got != want {
		t.Errorf("At: got %s, %v; want %s", got, ok, want)
	}
	if sh, ok := s.At(tm(t, utc, "2026-11-02 08:59"), nil); ok {
		t.Errorf("At before the start: got %s, want nobody", renderShift(sh, utc))
	}

	// With one participant the shift never ends: it is cut at the
	// horizon, 35 days back and 100 ahead.
	s.Rotations[0] = rot("solo", 7*24*time.Hour, tm(t, utc, "2020-01-06 09:00"), "alice")
	at := tm(t, utc, "2026-11-12 15:00")
	sh, ok = s.At(at, nil)
	if !ok || !sh.Start.Equal(at.AddDate(0, 0, -35)) || !sh.End.Equal(at.AddDate(0, 0, 100)) {
		t.Errorf("At, one participant: got %s, %v; want 35 days back to 100 ahead", renderShift(sh, utc), ok)
	}
}
