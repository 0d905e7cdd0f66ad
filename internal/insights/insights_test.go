package insights

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// fakeStore holds facts and pages and answers as a real store does: what
// falls in [since, until), in order.
type fakeStore struct {
	klaxon.Store
	facts []klaxon.AlertFact // by ID
	pages []klaxon.PageRecord
	err   error
}

func (s *fakeStore) AlertFacts(_ context.Context, since, until time.Time, fn func(klaxon.AlertFact) error) error {
	if s.err != nil {
		return s.err
	}
	for _, f := range s.facts {
		if !f.FirstSeen.Before(since) && f.FirstSeen.Before(until) {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *fakeStore) PageRecords(_ context.Context, since, until time.Time) ([]klaxon.PageRecord, error) {
	var out []klaxon.PageRecord
	for _, p := range s.pages {
		if !p.At.Before(since) && p.At.Before(until) {
			out = append(out, p)
		}
	}
	return out, nil
}

// monday is midnight UTC at the start of a week.
var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return monday.Add(d) }

const (
	h = time.Hour
	m = time.Minute
	d = 24 * time.Hour
)

// history is a small story over three days, told by alert ID:
//
//	1 DiskFull   db    P0  before the span; resolved 10m before it starts
//	2 DiskFull   db    P0  day 0, re-fires 15m after 1 (not a flap: 1 is not streamed); acked 5m, resolved 30m by alice
//	3 DiskFull   db    P0  day 0, acked after 15m, never resolved
//	4 HighLat.   api   P1  day 1, resolved by its integration after 10m, unacked
//	5 HighLat.   api   P1  day 1, 20m after 4 resolved (a flap); resolved by its integration after 10m, unacked
//	6 HighLat.   api   P1  day 1, 2h after 5 resolved; acked after 1h, resolved after 2h by bob
//	7 Flappy     web   P2  day 2, follows 99 (never streamed); open
//	8 Watchdog   other P3  day 2, acked after 2m, resolved by its integration after 4m (acked: not auto-resolved)
//	9 HighLat.   api   P1  day 1, exactly 1h after 6 resolved (not a flap: the window is open-ended); open
func history() []klaxon.AlertFact {
	am := "alertmanager"
	labels := func(kv ...string) map[string]string {
		l := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	return []klaxon.AlertFact{
		{ID: 1, Integration: am, Labels: labels("alertname", "DiskFull", "service", "db"), Level: 0, FirstSeen: at(-30 * m), ResolvedAt: at(-10 * m), ResolvedBy: am},
		{ID: 2, Integration: am, Labels: labels("alertname", "DiskFull", "service", "db", "job", "node"), Level: 0, PreviousID: 1,
			FirstSeen: at(5 * m), AckedAt: at(10 * m), AckedBy: "alice", ResolvedAt: at(35 * m), ResolvedBy: "alice"},
		{ID: 3, Integration: am, Labels: labels("alertname", "DiskFull", "service", "db"), Level: 0, FirstSeen: at(2 * h), AckedAt: at(2*h + 15*m), AckedBy: "alice"},
		{ID: 4, Integration: am, Labels: labels("alertname", "HighLatency", "job", "api"), Level: 1, FirstSeen: at(d + 3*h), ResolvedAt: at(d + 3*h + 10*m), ResolvedBy: am},
		{ID: 5, Integration: am, Labels: labels("alertname", "HighLatency", "job", "api"), Level: 1, PreviousID: 4,
			FirstSeen: at(d + 3*h + 30*m), ResolvedAt: at(d + 3*h + 40*m), ResolvedBy: am},
		{ID: 6, Integration: am, Labels: labels("alertname", "HighLatency", "job", "api"), Level: 1, PreviousID: 5,
			FirstSeen: at(d + 5*h + 40*m), AckedAt: at(d + 6*h + 40*m), AckedBy: "bob", ResolvedAt: at(d + 7*h + 40*m), ResolvedBy: "bob"},
		{ID: 7, Integration: am, Labels: labels("alertname", "Flappy", "namespace", "web"), Level: 2, PreviousID: 99, FirstSeen: at(2*d + 12*h)},
		{ID: 8, Integration: am, Labels: labels("alertname", "Watchdog"), Level: 3,
			FirstSeen: at(2*d + h), AckedAt: at(2*d + h + 2*m), AckedBy: "carol", ResolvedAt: at(2*d + h + 4*m), ResolvedBy: am},
		{ID: 9, Integration: am, Labels: labels("alertname", "HighLatency", "job", "api"), Level: 1, PreviousID: 6, FirstSeen: at(d + 8*h + 40*m)},
	}
}

func newService(store klaxon.Store) *Service {
	return New(Options{Store: store, Severity: klaxon.DefaultSeverityPolicy(), Now: func() time.Time { return at(3 * d) }})
}

// Hand-computed summaries of the history's slices.
var (
	// 2 and 3: acks after 5m and 15m; 2 resolved after 30m.
	dbSummary = Summary{Alerts: 2, Acked: 2, AckRate: 1, Resolved: 1, MTTA: 10 * m, MTTR: 30 * m}
	// 4, 5, 6, 9: 6 acked after 1h; 4, 5, 6 resolved after 10m, 10m,
	// 2h (140m / 3 = 46m40s); 4 and 5 auto-resolved; 5 flapped.
	apiSummary   = Summary{Alerts: 4, Acked: 1, AckRate: 0.25, Resolved: 3, AutoResolved: 2, Flaps: 1, MTTA: h, MTTR: 46*m + 40*sec}
	webSummary   = Summary{Alerts: 1}
	otherSummary = Summary{Alerts: 1, Acked: 1, AckRate: 1, Resolved: 1, MTTA: 2 * m, MTTR: 4 * m}
)

const sec = time.Second

func TestReport(t *testing.T) {
	svc := newService(&fakeStore{facts: history()})
	r, err := svc.Report(context.Background(), Query{Since: monday, Until: at(3 * d)})
	if err != nil {
		t.Fatal(err)
	}
	// Acks after 5m, 15m, 1h, 2m: 82m / 4. Resolved after 30m, 10m, 10m,
	// 2h, 4m: 174m / 5.
	wantTotal := Summary{Alerts: 8, Acked: 4, AckRate: 0.5, Resolved: 5, AutoResolved: 2, Flaps: 1, MTTA: 20*m + 30*sec, MTTR: 34*m + 48*sec}
	if r.Total != wantTotal {
		t.Errorf("total:\n got %+v\nwant %+v", r.Total, wantTotal)
	}
	wantSeries := []Point{
		{Start: monday, Summary: dbSummary, ByLevel: []int{2, 0, 0, 0},
			Levels: []Summary{dbSummary, {}, {}, {}}},
		{Start: at(d), Summary: apiSummary, ByLevel: []int{0, 4, 0, 0},
			Levels: []Summary{{}, apiSummary, {}, {}}},
		{Start: at(2 * d), Summary: Summary{Alerts: 2, Acked: 1, AckRate: 0.5, Resolved: 1, MTTA: 2 * m, MTTR: 4 * m}, ByLevel: []int{0, 0, 1, 1},
			Levels: []Summary{{}, {}, webSummary, otherSummary}},
	}
	if !reflect.DeepEqual(r.Series, wantSeries) {
		t.Errorf("series:\n got %+v\nwant %+v", r.Series, wantSeries)
	}
	wantByService := []Slice{{"api", apiSummary}, {"db", dbSummary}, {"other", otherSummary}, {"web", webSummary}}
	if !reflect.DeepEqual(r.ByService, wantByService) {
		t.Errorf("by service:\n got %+v\nwant %+v", r.ByService, wantByService)
	}
	wantByLevel := []Slice{{"P0", dbSummary}, {"P1", apiSummary}, {"P2", webSummary}, {"P3", otherSummary}}
	if !reflect.DeepEqual(r.ByLevel, wantByLevel) {
		t.Errorf("by level:\n got %+v\nwant %+v", r.ByLevel, wantByLevel)
	}
	// HighLatency: 4 fires + 2 auto-resolved + 1 flap.
	wantNoisiest := []Rule{
		{Name: "HighLatency", Service: "api", Summary: apiSummary, Noise: 7},
		{Name: "DiskFull", Service: "db", Summary: dbSummary, Noise: 2},
		{Name: "Flappy", Service: "web", Summary: webSummary, Noise: 1},
		{Name: "Watchdog", Service: "other", Summary: otherSummary, Noise: 1},
	}
	if !reflect.DeepEqual(r.Noisiest, wantNoisiest) {
		t.Errorf("noisiest:\n got %+v\nwant %+v", r.Noisiest, wantNoisiest)
	}
	if want := []string{"api", "db", "other", "web"}; !reflect.DeepEqual(r.Services, want) {
		t.Errorf("services: got %q, want %q", r.Services, want)
	}
	if want := []string{"P0", "P1", "P2", "P3"}; !reflect.DeepEqual(r.LevelNames, want) {
		t.Errorf("level names: got %q, want %q", r.LevelNames, want)
	}
	if r.Bucket != d || !r.Since.Equal(monday) || !r.Until.Equal(at(3*d)) {
		t.Errorf("span: got %s..%s by %s, want %s..%s by a day", r.Since, r.Until, r.Bucket, monday, at(3*d))
	}
}

func TestReportFilters(t *testing.T) {
	pages := []klaxon.PageRecord{{ID: 1, At: at(d + 12*h), Person: "bob"}}
	svc := newService(&fakeStore{facts: history(), pages: pages})
	tests := []struct {
		name         string
		q            Query
		wantTotal    Summary
		wantServices []string // ByService
		wantLevels   []string // ByLevel
		wantRules    []string // Noisiest
	}{
		{"service", Query{Service: "api"}, apiSummary, []string{"api"}, []string{"P0", "P1", "P2", "P3"}, []string{"HighLatency"}},
		{"levels", Query{Levels: []klaxon.Level{0, 3}},
			// 2, 3 and 8: acks after 5m, 15m, 2m (22m / 3 = 7m20s);
			// resolved after 30m and 4m.
			Summary{Alerts: 3, Acked: 3, AckRate: 1, Resolved: 2, MTTA: 7*m + 20*sec, MTTR: 17 * m},
			[]string{"db", "other"}, []string{"P0", "P3"}, []string{"DiskFull", "Watchdog"}},
		{"service and level that never meet", Query{Service: "db", Levels: []klaxon.Level{1}}, Summary{}, nil, []string{"P1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Since, tt.q.Until = monday, at(3*d)
			r, err := svc.Report(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tt.wantTotal {
				t.Errorf("total:\n got %+v\nwant %+v", r.Total, tt.wantTotal)
			}
			if got := sliceNames(r.ByService); !reflect.DeepEqual(got, tt.wantServices) {
				t.Errorf("by service: got %q, want %q", got, tt.wantServices)
			}
			if got := sliceNames(r.ByLevel); !reflect.DeepEqual(got, tt.wantLevels) {
				t.Errorf("by level: got %q, want %q", got, tt.wantLevels)
			}
			var rules []string
			for _, rule := range r.Noisiest {
				rules = append(rules, rule.Name)
			}
			if !reflect.DeepEqual(rules, tt.wantRules) {
				t.Errorf("noisiest: got %q, want %q", rules, tt.wantRules)
			}
			// The filter lists every service, and load is everyone's.
			if want := []string{"api", "db", "other", "web"}; !reflect.DeepEqual(r.Services, want) {
				t.Errorf("services: got %q, want %q", r.Services, want)
			}
			if want := []Load{{Person: "bob", Pages: 1}}; !reflect.DeepEqual(r.Load, want) {
				t.Errorf("load: got %+v, want %+v", r.Load, want)
			}
		})
	}
}

func sliceNames(s []Slice) []string {
	var names []string
	for _, x := range s {
		names = append(names, x.Name)
	}
	return names
}

func TestReportSpans(t *testing.T) {
	// wednesday 01:00 in UTC+2 is Tuesday 23:00 UTC.
	plus2 := time.FixedZone("UTC+2", 2*3600)
	wednesday := time.Date(2026, 3, 4, 1, 0, 0, 0, plus2)
	tests := []struct {
		name       string
		facts      []klaxon.AlertFact
		q          Query
		wantBucket time.Duration
		wantStarts []time.Time // first and last bucket
		wantPoints int
		wantAlerts []int // per point, when given
	}{
		{
			name:       "no data: the last 30 days, every day present",
			wantBucket: d, wantPoints: 30, // now is a midnight, so 30 days back is one too
			wantStarts: []time.Time{at(-27 * d), at(2 * d)},
		},
		{
			name:       "one bucket",
			facts:      []klaxon.AlertFact{{ID: 1, FirstSeen: at(90 * m)}, {ID: 2, FirstSeen: at(2 * h)}},
			q:          Query{Since: at(h), Until: at(2 * h)},
			wantBucket: d, wantPoints: 1, wantStarts: []time.Time{monday, monday},
			wantAlerts: []int{1}, // 2 is at Until: outside
		},
		{
			name:       "a bucket is a day in UTC, whatever the zone asked in",
			facts:      []klaxon.AlertFact{{ID: 1, FirstSeen: wednesday}, {ID: 2, FirstSeen: wednesday.Add(h)}},
			q:          Query{Since: wednesday, Until: wednesday.Add(2 * h)},
			wantBucket: d, wantPoints: 2, wantStarts: []time.Time{at(d), at(2 * d)},
			wantAlerts: []int{1, 1},
		},
		{
			name:       "past 90 days a bucket is a week, from Monday",
			q:          Query{Since: wednesday, Until: wednesday.Add(91 * d)},
			wantBucket: 7 * d, wantPoints: 14, wantStarts: []time.Time{monday, monday.Add(13 * 7 * d)},
		},
		{
			name:       "90 days are still days",
			q:          Query{Since: monday, Until: at(90 * d)},
			wantBucket: d, wantPoints: 90, wantStarts: []time.Time{monday, at(89 * d)},
		},
		{
			name:       "buckets asked for",
			facts:      []klaxon.AlertFact{{ID: 1, FirstSeen: at(5 * h)}, {ID: 2, FirstSeen: at(6 * h)}},
			q:          Query{Since: monday, Until: at(12 * h), Bucket: 6 * h},
			wantBucket: 6 * h, wantPoints: 2, wantStarts: []time.Time{monday, at(6 * h)},
			wantAlerts: []int{1, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newService(&fakeStore{facts: tt.facts}).Report(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if r.Bucket != tt.wantBucket {
				t.Errorf("bucket: got %s, want %s", r.Bucket, tt.wantBucket)
			}
			if len(r.Series) != tt.wantPoints {
				t.Fatalf("got %d points, want %d", len(r.Series), tt.wantPoints)
			}
			first, last := r.Series[0].Start, r.Series[len(r.Series)-1].Start
			if !first.Equal(tt.wantStarts[0]) || !last.Equal(tt.wantStarts[1]) {
				t.Errorf("buckets: got %s..%s, want %s..%s", first, last, tt.wantStarts[0], tt.wantStarts[1])
			}
			for i, p := range r.Series {
				want := 0
				if tt.wantAlerts != nil {
					want = tt.wantAlerts[i]
				}
				if p.Alerts != want || len(p.ByLevel) != 4 || len(p.Levels) != 4 {
					t.Errorf("point %d: got %d alerts and %d, %d levels, want %d alerts and 4 levels", i, p.Alerts, len(p.ByLevel), len(p.Levels), want)
				}
			}
		})
	}
}

func TestReportEmptyIsNotNull(t *testing.T) {
	r, err := newService(&fakeStore{}).Report(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != (Summary{}) {
		t.Errorf("total: got %+v, want zeros", r.Total)
	}
	// JSON clients get [] rather than null.
	if r.ByService == nil || r.Noisiest == nil || r.Load == nil || r.Services == nil {
		t.Errorf("got nil lists: by service %v, noisiest %v, load %v, services %v", r.ByService, r.Noisiest, r.Load, r.Services)
	}
	if len(r.ByLevel) != 4 {
		t.Errorf("got %d levels, want every level of the policy: %+v", len(r.ByLevel), r.ByLevel)
	}
}

func TestReportLevelsPastThePolicy(t *testing.T) {
	facts := []klaxon.AlertFact{{ID: 1, Level: 5, FirstSeen: at(h)}}
	r, err := newService(&fakeStore{facts: facts}).Report(context.Background(), Query{Since: monday, Until: at(d)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"P0", "P1", "P2", "P3", "L4", "L5"}; !reflect.DeepEqual(r.LevelNames, want) {
		t.Errorf("level names: got %q, want %q", r.LevelNames, want)
	}
	if want := []int{0, 0, 0, 0, 0, 1}; !reflect.DeepEqual(r.Series[0].ByLevel, want) {
		t.Errorf("by level: got %v, want %v", r.Series[0].ByLevel, want)
	}
}

func TestNoisiestKeepsTwenty(t *testing.T) {
	var facts []klaxon.AlertFact
	for i := range 25 {
		// Rule r24 fires twice, every other rule once.
		for range 1 + i/24 {
			facts = append(facts, klaxon.AlertFact{ID: int64(len(facts) + 1), FirstSeen: at(h), Labels: map[string]string{"alertname": fmt.Sprintf("r%02d", i)}})
		}
	}
	r, err := newService(&fakeStore{facts: facts}).Report(context.Background(), Query{Since: monday, Until: at(d)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rule := range r.Noisiest {
		got = append(got, rule.Name)
	}
	want := []string{"r24"}
	for i := range 19 {
		want = append(want, fmt.Sprintf("r%02d", i))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("noisiest: got %q, want %q", got, want)
	}
}

func TestRuleService(t *testing.T) {
	rule := func(id int64, service string) klaxon.AlertFact {
		return klaxon.AlertFact{ID: id, FirstSeen: at(h), Labels: map[string]string{"alertname": "X", "service": service}}
	}
	tests := []struct {
		name  string
		facts []klaxon.AlertFact
		want  string
	}{
		{"most alerts", []klaxon.AlertFact{rule(1, "b"), rule(2, "a"), rule(3, "b")}, "b"},
		{"a tie goes to the first by name", []klaxon.AlertFact{rule(1, "b"), rule(2, "a")}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newService(&fakeStore{facts: tt.facts}).Report(context.Background(), Query{Since: monday, Until: at(d)})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Noisiest[0].Service; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	plus1 := time.FixedZone("UTC+1", 3600)
	minus5 := time.FixedZone("UTC-5", -5*3600)
	zones := map[string]*time.Location{"alice": plus1, "bob": minus5}
	pages := []klaxon.PageRecord{
		{ID: 1, At: at(-time.Minute), Person: "alice"}, // before the span
		{ID: 2, At: at(20*h + 59*m), Person: "alice"},  // 21:59 local: evening
		{ID: 3, At: at(21 * h), Person: "alice"},       // 22:00 local: night starts
		{ID: 4, At: at(d + 3*h), Person: "bob"},        // 22:00 the day before, local
		{ID: 5, At: at(d + 5*h + 59*m), Person: "alice"},
		{ID: 6, At: at(d + 6*h), Person: "alice"}, // 07:00 local: morning
		{ID: 7, At: at(d + 12*h), Person: "bob"},  // 07:00 local
		{ID: 8, At: at(d + 13*h), Person: "carol"},
	}
	tests := []struct {
		name       string
		start, end int
		want       []Load
	}{
		{"default night, 22 to 7, over midnight", 0, 0, []Load{{"alice", 4, 2}, {"bob", 2, 1}, {"carol", 1, 0}}},
		{"a night that does not wrap, 0 to 7", 0, 7, []Load{{"alice", 4, 1}, {"bob", 2, 0}, {"carol", 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := New(Options{
				Store:      &fakeStore{pages: pages},
				Severity:   klaxon.DefaultSeverityPolicy(),
				NightStart: tt.start, NightEnd: tt.end,
				// carol has no zone: the server's, here UTC so the test holds anywhere.
				Zone: func(p string) *time.Location {
					if p == "carol" {
						return time.UTC
					}
					return zones[p]
				},
			})
			r, err := svc.Report(context.Background(), Query{Since: monday, Until: at(2 * d)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Load, tt.want) {
				t.Errorf("load:\n got %+v\nwant %+v", r.Load, tt.want)
			}
		})
	}
}

func TestReportErrors(t *testing.T) {
	broken := errors.New("disk on fire")
	tests := []struct {
		name     string
		store    *fakeStore
		q        Query
		wantCode string
	}{
		{"since after until", &fakeStore{}, Query{Since: at(d), Until: monday}, klaxon.EINVALID},
		{"empty span", &fakeStore{}, Query{Since: monday, Until: monday}, klaxon.EINVALID},
		{"more than a year", &fakeStore{}, Query{Since: monday, Until: at(367 * d)}, klaxon.EINVALID},
		{"negative bucket", &fakeStore{}, Query{Since: monday, Until: at(d), Bucket: -h}, klaxon.EINVALID},
		{"too many buckets", &fakeStore{}, Query{Since: monday, Until: at(d), Bucket: time.Minute}, klaxon.EINVALID},
		{"store fails", &fakeStore{err: broken}, Query{}, klaxon.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newService(tt.store).Report(context.Background(), tt.q)
			if code := klaxon.ErrorCode(err); code != tt.wantCode {
				t.Errorf("got %v (%s), want a %s error", err, code, tt.wantCode)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	svc := newService(&fakeStore{})
	if l, err := svc.Level("p1"); err != nil || l != 1 {
		t.Errorf("Level(p1): got %d, %v, want 1", l, err)
	}
	if _, err := svc.Level("critical"); klaxon.ErrorCode(err) != klaxon.EINVALID {
		t.Errorf("Level(critical): got %v, want an invalid error", err)
	}
}

func TestServiceOf(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"service": "db", "job": "node", "namespace": "prod"}, "db"},
		{map[string]string{"job": "node", "namespace": "prod"}, "node"},
		{map[string]string{"namespace": "prod"}, "prod"},
		{map[string]string{"service": ""}, "other"},
		{nil, "other"},
	}
	for _, tt := range tests {
		if got := ServiceOf(tt.labels); got != tt.want {
			t.Errorf("ServiceOf(%v): got %q, want %q", tt.labels, got, tt.want)
		}
	}
}
