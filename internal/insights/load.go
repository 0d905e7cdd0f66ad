package insights

import (
	"cmp"
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// load counts each person's pages, and those that came at night where
// the person lives. Most pages first.
func (s *Service) load(pages []klaxon.PageRecord) []Load {
	type person struct {
		Load
		zone *time.Location
	}
	people := map[string]*person{}
	for _, p := range pages {
		who := people[p.Person]
		if who == nil {
			who = &person{Load: Load{Person: p.Person}, zone: s.zone(p.Person)}
			people[p.Person] = who
		}
		who.Pages++
		if s.atNight(p.At.In(who.zone)) {
			who.NightPages++
		}
	}
	load := make([]Load, 0, len(people))
	for _, who := range people {
		load = append(load, who.Load)
	}
	slices.SortFunc(load, func(a, b Load) int {
		return cmp.Or(cmp.Compare(b.Pages, a.Pages), cmp.Compare(a.Person, b.Person))
	})
	return load
}

func (s *Service) zone(person string) *time.Location {
	if s.opts.Zone != nil {
		if z := s.opts.Zone(person); z != nil {
			return z
		}
	}
	return time.Local
}

// atNight reports whether local falls in [NightStart, NightEnd), a span
// that may wrap over midnight.
func (s *Service) atNight(local time.Time) bool {
	h, start, end := local.Hour(), s.opts.NightStart, s.opts.NightEnd
	if start <= end {
		return start <= h && h < end
	}
	return h >= start || h < end
}
