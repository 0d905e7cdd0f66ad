package alerting_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
	"github.com/klaxon-oss/klaxon/internal/storetest"
)

// countingStore counts the alerts the service reads through Alerts.
type countingStore struct {
	klaxon.Store
	read int
}

func (s *countingStore) Alerts(ctx context.Context, f klaxon.AlertFilter) ([]*klaxon.Alert, error) {
	alerts, err := s.Store.Alerts(ctx, f)
	s.read += len(alerts)
	return alerts, err
}

// storeAlerts inserts alerts with these labels, oldest first, and returns
// their IDs.
func storeAlerts(t *testing.T, store klaxon.Store, labelSets ...map[string]string) []int64 {
	t.Helper()
	ids := make([]int64, len(labelSets))
	err := store.Update(context.Background(), func(tx klaxon.Tx) error {
		for i, l := range labelSets {
			a := &klaxon.Alert{Integration: "am", Key: fmt.Sprint(i), State: klaxon.StateFiring, Level: 2,
				Summary: "Something is wrong.", Labels: l, StartsAt: t0, FirstSeen: t0, LastSeen: t0, Count: 1}
			if err := tx.InsertAlert(context.Background(), a); err != nil {
				return err
			}
			ids[i] = a.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func pageIDs(p alerting.Page) []int64 {
	var ids []int64
	for _, a := range p.Alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

// matchers parses Prometheus label matchers, as the UI and the API do.
func matchers(t testing.TB, s string) []*labels.Matcher {
	t.Helper()
	ms, err := labels.ParseMatchers(s)
	if err != nil {
		t.Fatalf("ParseMatchers(%s): %v", s, err)
	}
	return ms
}

func search(t *testing.T, s *alerting.Service, q alerting.Query) alerting.Page {
	t.Helper()
	p, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return p
}

func TestSearchMatchers(t *testing.T) {
	s, store, _ := newService(t, alerting.Options{})
	ids := storeAlerts(t, store,
		map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod", "pod": "api-0"},
		map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod"},
		map[string]string{"alertname": "KubeJobFailed", "namespace": "prod", "pod": "cron-1"},
		map[string]string{"alertname": "NodeDown", "namespace": "prod", "pod": "x"},
		map[string]string{"alertname": "KubePodCrashLooping", "namespace": "staging", "pod": "api-0"},
		map[string]string{"alertname": "Watchdog"},
	)
	tests := []struct {
		match string
		want  []int64
	}{
		{``, []int64{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{`{namespace="prod",alertname=~"Kube.*",pod!=""}`, []int64{ids[2], ids[0]}},
		{`namespace="prod", alertname!~"Kube.*"`, []int64{ids[3]}},
		{`{pod=""}`, []int64{ids[5], ids[1]}},    // absent or empty, stored side
		{`{pod=~""}`, []int64{ids[5], ids[1]}},   // the same, applied here
		{`{pod!~".+"}`, []int64{ids[5], ids[1]}}, // and once more
		{`{alertname="Watchdog",alertname="NodeDown"}`, nil},
		{`{alertname=~"kube.*"}`, nil}, // regular expressions are anchored and case-sensitive
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.match), func(t *testing.T) {
			p := search(t, s, alerting.Query{Matchers: matchers(t, tt.match)})
			if got := pageIDs(p); !slices.Equal(got, tt.want) || p.Next != 0 || p.Truncated {
				t.Errorf("got %v next %d truncated %t; want %v, next 0", got, p.Next, p.Truncated, tt.want)
			}
		})
	}
}

func TestSearchPassesFiltersToStore(t *testing.T) {
	s, store, _ := newService(t, alerting.Options{})
	ids := storeAlerts(t, store,
		map[string]string{"namespace": "prod", "pod": "a"},
		map[string]string{"namespace": "prod", "pod": "b"},
		map[string]string{"namespace": "dev", "pod": "c"},
		map[string]string{"namespace": "prod", "pod": "d"},
	)
	counted := &countingStore{Store: store}
	s = alerting.New(counted, alerting.Options{})
	t.Cleanup(s.Close)

	p := search(t, s, alerting.Query{Matchers: matchers(t, `{namespace="prod"}`), Limit: 2, Since: t0, Until: t0.Add(time.Hour)})
	if got := pageIDs(p); !slices.Equal(got, []int64{ids[3], ids[1]}) || p.Next != ids[1] || p.Truncated {
		t.Errorf("first page: got %v next %d truncated %t; want [%d %d] next %d", got, p.Next, p.Truncated, ids[3], ids[1], ids[1])
	}
	// The newest alert bounds the search window; then the page's 2.
	if counted.read != 3 {
		t.Errorf("read %d alerts for an equality match, want the newest and the page's 2", counted.read)
	}
	p = search(t, s, alerting.Query{Matchers: matchers(t, `{namespace="prod"}`), Limit: 2, Before: p.Next})
	if got := pageIDs(p); !slices.Equal(got, []int64{ids[0]}) || p.Next != 0 {
		t.Errorf("second page: got %v next %d; want [%d] next 0", got, p.Next, ids[0])
	}
}

// Paging with matchers applied here: each page carries on from the last
// alert it returned, and together they are the whole answer.
func TestSearchPagesWithRegexp(t *testing.T) {
	s, store, _ := newService(t, alerting.Options{})
	var labelSets []map[string]string
	for i := range 1200 {
		labelSets = append(labelSets, map[string]string{"pod": fmt.Sprintf("api-%d", i%7)})
	}
	ids := storeAlerts(t, store, labelSets...)
	var want []int64
	for i := len(ids) - 1; i >= 0; i-- {
		if labelSets[i]["pod"] == "api-3" {
			want = append(want, ids[i])
		}
	}
	q := alerting.Query{Matchers: matchers(t, `{pod=~"api-3"}`), Limit: 50}
	var got []int64
	for range len(ids) {
		p := search(t, s, q)
		if p.Truncated {
			t.Fatalf("page before %d truncated after fewer than 5000 alerts", q.Before)
		}
		got = append(got, pageIDs(p)...)
		if p.Next == 0 {
			break
		}
		q.Before = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged through %d alerts, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// A rare match does not read the whole table in one call: the search stops
// after its bound, says so, and the next call carries on.
func TestSearchBoundsTheScan(t *testing.T) {
	s, store, _ := newService(t, alerting.Options{})
	labelSets := make([]map[string]string, 6000)
	for i := range labelSets {
		labelSets[i] = map[string]string{"pod": "noise"}
	}
	labelSets[0]["pod"] = "needle" // the oldest
	ids := storeAlerts(t, store, labelSets...)
	counted := &countingStore{Store: store}
	s = alerting.New(counted, alerting.Options{})
	t.Cleanup(s.Close)

	q := alerting.Query{Matchers: matchers(t, `{pod=~"need.*"}`)}
	first := search(t, s, q)
	if len(first.Alerts) != 0 || !first.Truncated || first.Next != ids[1000] {
		t.Fatalf("first call: got %v next %d truncated %t; want nothing yet, next %d, truncated",
			pageIDs(first), first.Next, first.Truncated, ids[1000])
	}
	if counted.read != 5000 {
		t.Errorf("first call read %d alerts, want the bound, 5000", counted.read)
	}
	q.Before = first.Next
	second := search(t, s, q)
	if got := pageIDs(second); !slices.Equal(got, []int64{ids[0]}) || second.Next != 0 || second.Truncated {
		t.Errorf("second call: got %v next %d truncated %t; want [%d], done", got, second.Next, second.Truncated, ids[0])
	}
}

// Free text and label equalities are answered in SQL, where a rare one
// would read the whole table: one call looks through a window of IDs
// below where it starts, and says when older alerts remain.
func TestSearchWindow(t *testing.T) {
	defer alerting.SetSearchWindow(10)()
	s, store, _ := newService(t, alerting.Options{})
	labelSets := make([]map[string]string, 25)
	for i := range labelSets {
		labelSets[i] = map[string]string{"pod": "noise"}
	}
	labelSets[2]["pod"] = "needle"
	labelSets[20]["pod"] = "needle"
	ids := storeAlerts(t, store, labelSets...)

	for _, q := range []alerting.Query{{Search: "NEEDLE"}, {Matchers: matchers(t, `{pod="needle"}`)}} {
		var got []int64
		var calls []bool
		for range 5 {
			p := search(t, s, q)
			got = append(got, pageIDs(p)...)
			calls = append(calls, p.Truncated)
			if p.Next == 0 {
				break
			}
			q.Before = p.Next
		}
		// Windows of 10 IDs below the newest: ids[15..24] hold ids[20];
		// ids[5..14] nothing; ids[0..4] hold ids[2] and are the last.
		if want := []int64{ids[20], ids[2]}; !slices.Equal(got, want) {
			t.Errorf("%+v: found %v over the calls, want %v", q, got, want)
		}
		if want := []bool{true, true, false}; !slices.Equal(calls, want) {
			t.Errorf("%+v: truncated per call %v, want %v", q, calls, want)
		}
	}
}

// BenchmarkSearchUnmatchedRegexp measures the costliest call of a search
// with a matcher the store cannot apply: one that matches nothing reads its
// bound of alerts (5,000) and stops.
//
//	go test -run '^$' -bench SearchUnmatchedRegexp ./internal/alerting
func BenchmarkSearchUnmatchedRegexp(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) klaxon.Store
	}{
		{"sqlite", func(b *testing.B) klaxon.Store {
			store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return store
		}},
		{"postgres", func(b *testing.B) klaxon.Store {
			store, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return store
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			defer store.Close()
			storetest.SeedAlerts(b, store, 20_000)
			s := alerting.New(store, alerting.Options{})
			defer s.Close()
			q := alerting.Query{Matchers: matchers(b, `{pod=~"nothing-.*"}`)}
			for b.Loop() {
				p, err := s.Search(context.Background(), q)
				if err != nil || !p.Truncated {
					b.Fatalf("Search: %v, truncated %t; want a truncated page", err, p.Truncated)
				}
			}
		})
	}
}
