package oncall_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/oncall"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// tm reads "2006-01-02 15:04" on loc's wall clock.
func tm(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// render shows shifts as "user start → end length", in loc, with "*"
// after the user for an override.
func render(shifts []oncall.Shift, loc *time.Location) []string {
	out := []string{}
	for _, sh := range shifts {
		out = append(out, renderShift(sh, loc))
	}
	return out
}

func renderShift(sh oncall.Shift, loc *time.Location) string {
	user := sh.User
	if sh.Override != nil {
		user += "*"
	}
	const layout = "2006-01-02 15:04 -0700"
	return fmt.Sprintf("%s %s → %s %s", user, sh.Start.In(loc).Format(layout), sh.End.In(loc).Format(layout), hours(sh.End.Sub(sh.Start)))
}

// hours shows 23h0m0s as 23h and 7h30m0s as 7h30m.
func hours(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// every is a window on every day of the week.
func every(from, to int) oncall.Window {
	return oncall.Window{Days: [7]bool{true, true, true, true, true, true, true}, Start: from, End: to}
}

// weekdaysWindow is a window Monday to Friday.
func weekdaysWindow(from, to int) oncall.Window {
	w := oncall.Window{Start: from, End: to}
	for d := time.Monday; d <= time.Friday; d++ {
		w.Days[d] = true
	}
	return w
}

const hour = 60 // minutes, for windows
