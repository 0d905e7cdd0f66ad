package oncall_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

func TestWriteICS(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	stamp := time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC)
	shifts := []oncall.Shift{{
		Schedule: "ops", User: "alice", Rotation: "primary",
		Start: tm(t, berlin, "2026-11-21 10:00"), End: tm(t, berlin, "2026-11-23 09:00"),
	}, {
		Schedule: "ops", User: "bob",
		Start: tm(t, berlin, "2026-11-23 09:00"), End: tm(t, berlin, "2026-11-23 17:00"),
		Override: &klaxon.Override{ID: 3, Schedule: "ops", User: "bob", Replaces: "carol"},
	}}
	// A name with every character TEXT escapes, long enough to fold, with
	// two-octet characters at every offset.
	name := `Ops; "a,b" \ on call` + "\n" + strings.Repeat("ä", 40)

	var b strings.Builder
	if err := oncall.WriteICS(&b, name, shifts, stamp); err != nil {
		t.Fatalf("WriteICS: %v", err)
	}
	out := b.String()

	if !strings.HasSuffix(out, "\r\n") {
		t.Error("the last line does not end in CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d %q: a bare CR or LF", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets, more than 75: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, l)
		}
	}

	unfolded := strings.Split(strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""), "\r\n")
	diff(t, "content lines", unfolded, []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//Klaxon//On call//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		`X-WR-CALNAME:Ops\; "a\,b" \\ on call\n` + strings.Repeat("ä", 40),
		"BEGIN:VEVENT",
		"UID:ops-alice-1795251600@klaxon",
		"DTSTAMP:20261121T044300Z",
		"DTSTART:20261121T090000Z",
		"DTEND:20261123T080000Z",
		"SUMMARY:On call: ops (alice)",
		"DESCRIPTION:Rotation primary.",
		"TRANSP:TRANSPARENT",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"UID:ops-bob-1795420800@klaxon",
		"DTSTAMP:20261121T044300Z",
		"DTSTART:20261123T080000Z",
		"DTEND:20261123T160000Z",
		"SUMMARY:On call: ops (bob)",
		"DESCRIPTION:Override: bob in place of carol.",
		"TRANSP:TRANSPARENT",
		"END:VEVENT",
		"END:VCALENDAR",
	})
	if len(unfolded) == len(lines) {
		t.Error("nothing was folded")
	}
}

func TestWriteICSFolding(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value string
	}{
		{"ASCII", strings.Repeat("x", 200)},
		{"two octets", strings.Repeat("é", 100)},
		{"three octets", strings.Repeat("€", 70)},
		{"four octets, shifted", "x" + strings.Repeat("🚨", 50)},
		{"exactly one line", strings.Repeat("x", 75-len("X-WR-CALNAME:"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := oncall.WriteICS(&b, tt.value, nil, time.Time{}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(b.String(), "\r\n")
			var calname []string
			for i, l := range lines {
				if strings.HasPrefix(l, "X-WR-CALNAME:") {
					calname = append(calname, l)
					for _, c := range lines[i+1:] {
						if !strings.HasPrefix(c, " ") {
							break
						}
						calname = append(calname, c)
					}
				}
			}
			var got strings.Builder
			for i, l := range calname {
				if len(l) > 75 || !utf8.ValidString(l) {
					t.Errorf("line %d: %d octets, valid UTF-8 %v: %q", i, len(l), utf8.ValidString(l), l)
				}
				if i > 0 {
					l = l[1:]
				}
				got.WriteString(l)
			}
			if want := "X-WR-CALNAME:" + tt.value; got.String() != want {
				t.Errorf("unfolded: got %q, want %q", got.String(), want)
			}
			if tt.name == "exactly one line" && len(calname) != 1 {
				t.Errorf("a 75-octet line was folded: %q", calname)
			}
		})
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestWriteICSError(t *testing.T) {
	if err := oncall.WriteICS(brokenWriter{}, "ops", nil, time.Time{}); err == nil {
		t.Error("WriteICS to a broken writer: got no error")
	}
}
