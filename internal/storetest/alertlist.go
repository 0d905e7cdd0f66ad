package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func listIDs(t *testing.T, s klaxon.Store, f klaxon.AlertFilter) []int64 {
	t.Helper()
	got, err := s.Alerts(context.Background(), f)
	if err != nil {
		t.Fatalf("Alerts(%+v): %v", f, err)
	}
	return alertIDs(got)
}

func testAlertFilters(t *testing.T, s klaxon.Store) {
	alert := func(key string, state klaxon.State, level klaxon.Level, summary string, seen time.Duration, labels map[string]string) *klaxon.Alert {
		a := newAlert(key)
		a.State, a.Level, a.Summary, a.Labels = state, level, summary, labels
		a.FirstSeen, a.LastSeen = t0.Add(seen), t0.Add(seen)
		return a
	}
	crash := alert("crash", klaxon.StateFiring, 0, "Pod is crash looping.", 0, map[string]string{
		"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": "api-0",
		"odd.name[0] <x>": "odd", // a name that is not a plain JSON path step
	})
	disk := alert("disk", klaxon.StateResolved, 2, "Disk 95% full_now", time.Hour, map[string]string{
		"alertname": "DiskFull", "namespace": "storage", "team": "",
	})
	crash2 := alert("crash2", klaxon.StateAcknowledged, 1, "Pod is crash looping.", 2*time.Hour, map[string]string{
		"alertname": "KubePodCrashLooping", "namespace": "checkout",
	})
	watchdog := alert("watchdog", klaxon.StateFiring, 3, "All good", 3*time.Hour, map[string]string{
		"alertname": "Watchdog", "team": "sre", "note": `said "ok" & <left>\now`,
	})
	db := alert("db", klaxon.StateResolved, 0, "Database disk full", 4*time.Hour, map[string]string{
		"alertname": "DiskFull", "namespace": "payments", "host": "DB-1",
	})
	insert(t, s, crash, disk, crash2, watchdog, db)
	ids := func(alerts ...*klaxon.Alert) []int64 { return alertIDs(alerts) }

	tests := []struct {
		name string
		f    klaxon.AlertFilter
		want []int64
	}{
		{"level", klaxon.AlertFilter{Levels: []klaxon.Level{0}}, ids(db, crash)},
		{"levels", klaxon.AlertFilter{Levels: []klaxon.Level{1, 2}}, ids(crash2, disk)},
		{"state and level", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}, Levels: []klaxon.Level{0}}, ids(crash)},
		{"label", klaxon.AlertFilter{Labels: map[string]string{"namespace": "payments"}}, ids(db, crash)},
		{"labels", klaxon.AlertFilter{Labels: map[string]string{"namespace": "payments", "alertname": "DiskFull"}}, ids(db)},
		{"label absent or empty", klaxon.AlertFilter{Labels: map[string]string{"team": ""}}, ids(db, crash2, disk, crash)},
		{"label absent", klaxon.AlertFilter{Labels: map[string]string{"namespace": ""}}, ids(watchdog)},
		{"label set and absent", klaxon.AlertFilter{Labels: map[string]string{"alertname": "DiskFull", "team": ""}}, ids(db, disk)},
		{"odd label name", klaxon.AlertFilter{Labels: map[string]string{"odd.name[0] <x>": "odd"}}, ids(crash)},
		{"label values are exact", klaxon.AlertFilter{Labels: map[string]string{"namespace": "Payments"}}, nil},
		{"unknown label", klaxon.AlertFilter{Labels: map[string]string{"cluster": "eu"}}, nil},
		{"search summary", klaxon.AlertFilter{Search: "CRASH"}, ids(crash2, crash)},
		{"search label value", klaxon.AlertFilter{Search: "db-1"}, ids(db)},
		{"search summary or label", klaxon.AlertFilter{Search: "disk"}, ids(db, disk)},
		{"search not label names", klaxon.AlertFilter{Search: "alertname"}, nil},
		{"search percent", klaxon.AlertFilter{Search: "%"}, ids(disk)},
		{"search underscore", klaxon.AlertFilter{Search: "_"}, ids(disk)},
		{"search backslash", klaxon.AlertFilter{Search: `\`}, ids(watchdog)},
		{"search quotes and brackets", klaxon.AlertFilter{Search: `"OK" & <LEFT>`}, ids(watchdog)},
		{"label with quotes and brackets", klaxon.AlertFilter{Labels: map[string]string{"note": `said "ok" & <left>\now`}}, ids(watchdog)},
		{"since", klaxon.AlertFilter{Since: t0.Add(3 * time.Hour)}, ids(db, watchdog)},
		{"until", klaxon.AlertFilter{Until: t0.Add(time.Hour)}, ids(crash)},
		{"since and until", klaxon.AlertFilter{Since: t0.Add(time.Hour).In(cest), Until: t0.Add(3 * time.Hour).In(cest)}, ids(crash2, disk)},
		{"before and limit", klaxon.AlertFilter{Before: watchdog.ID, Limit: 2}, ids(crash2, disk)},
		{"after", klaxon.AlertFilter{After: disk.ID}, ids(db, watchdog, crash2)},
		{"a window", klaxon.AlertFilter{After: crash.ID, Before: watchdog.ID}, ids(crash2, disk)},
		{"everything", klaxon.AlertFilter{
			States: []klaxon.State{klaxon.StateFiring, klaxon.StateAcknowledged},
			Levels: []klaxon.Level{0, 1},
			Labels: map[string]string{"alertname": "KubePodCrashLooping", "team": ""},
			Search: "looping",
			Since:  t0,
			Until:  t0.Add(4 * time.Hour),
			Before: db.ID,
			Limit:  1,
		}, ids(crash2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listIDs(t, s, tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("got IDs %v, want %v", got, tt.want)
			}
		})
	}
}

// testAlertPages walks a filtered listing page by page with Before set to
// the last ID of the previous page: no alert is lost or repeated.
func testAlertPages(t *testing.T, s klaxon.Store) {
	var want []int64
	var all []*klaxon.Alert
	for i := range 23 {
		a := newAlert(fmt.Sprintf("k%d", i))
		if i%3 == 0 {
			a.Labels["namespace"] = "checkout"
		}
		all = append(all, a)
	}
	insert(t, s, all...)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Labels["namespace"] == "payments" {
			want = append(want, all[i].ID)
		}
	}
	f := klaxon.AlertFilter{Labels: map[string]string{"namespace": "payments"}, Limit: 4}
	var got []int64
	for pages := 1; ; pages++ {
		page := listIDs(t, s, f)
		got = append(got, page...)
		if len(page) < f.Limit {
			break
		}
		if pages > len(all) {
			t.Fatalf("still paging after %d pages: %v", pages, got)
		}
		f.Before = page[len(page)-1]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged through IDs %v, want %v", got, want)
	}
}
