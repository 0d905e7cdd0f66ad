package oncall_test

import (
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/oncall"
)

func TestDeadlineFrom(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	office := oncall.BusinessHours{Location: berlin, Start: 9 * hour}
	for d := time.Monday; d <= time.Friday; d++ {
		office.Days[d] = true
	}
	at := func(s string) time.Time { return tm(t, berlin, s) }
	nbd := oncall.Deadline{NextBusinessDay: true}
	tests := []struct {
		name     string
		deadline oncall.Deadline
		t        time.Time
		bh       oncall.BusinessHours
		want     string // in Berlin; "" for none
	}{
		{"after", oncall.Deadline{After: 15 * time.Minute}, at("2026-11-20 20:00"), office, "2026-11-20 20:15 +0100"},
		{"after, across a DST change: real time", oncall.Deadline{After: time.Hour}, at("2026-03-29 01:30"), office, "2026-03-29 03:30 +0200"},
		{"none", oncall.Deadline{None: true}, at("2026-11-20 20:00"), office, ""},
		{"zero", oncall.Deadline{}, at("2026-11-20 20:00"), office, ""},
		{"Friday evening: Monday", nbd, at("2026-11-20 20:00"), office, "2026-11-23 09:00 +0100"},
		{"Tuesday before opening: Wednesday", nbd, at("2026-11-17 08:00"), office, "2026-11-18 09:00 +0100"},
		{"Tuesday afternoon: Wednesday", nbd, at("2026-11-17 15:00"), office, "2026-11-18 09:00 +0100"},
		{"Saturday: Monday", nbd, at("2026-11-21 10:00"), office, "2026-11-23 09:00 +0100"},
		{"Sunday late: Monday", nbd, at("2026-11-22 23:30"), office, "2026-11-23 09:00 +0100"},
		{"spring DST weekend", nbd, at("2026-03-27 20:00"), office, "2026-03-30 09:00 +0200"},
		{"fall DST weekend", nbd, at("2026-10-23 18:00"), office, "2026-10-26 09:00 +0100"},
		// 23:30 UTC Thursday is already Friday in Berlin.
		{"local date, not UTC's", nbd, time.Date(2026, 11, 19, 23, 30, 0, 0, time.UTC), office, "2026-11-23 09:00 +0100"},
		{"zero business hours: UTC midnight, Monday to Friday", nbd, at("2026-11-20 20:00"), oncall.BusinessHours{}, "2026-11-23 01:00 +0100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.deadline.From(tt.t, tt.bh)
			s := ""
			if ok {
				s = got.In(berlin).Format("2006-01-02 15:04 -0700")
			}
			if s != tt.want || ok != (tt.want != "") {
				t.Errorf("From: got %q, %v; want %q", s, ok, tt.want)
			}
		})
	}

	// A weekend that is not Saturday and Sunday.
	gulf := oncall.BusinessHours{Location: time.UTC, Start: 8 * hour}
	for _, d := range []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday} {
		gulf.Days[d] = true
	}
	got, _ := nbd.From(time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC), gulf) // Thursday
	if want := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Sunday-to-Thursday week: got %s, want %s", got, want)
	}
}
