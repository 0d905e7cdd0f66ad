package insights

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// counts gathers one slice's Summary as facts stream past.
type counts struct {
	alerts, acked, resolved, autoResolved, flaps int
	// Seconds to ack and to resolve, summed: a sum of Durations would
	// overflow past a few hundred years of alert time.
	ackSeconds, resolveSeconds float64
}

func (c *counts) add(f *klaxon.AlertFact, flap bool) {
	c.alerts++
	acked := !f.AckedAt.IsZero()
	if acked {
		c.acked++
		c.ackSeconds += f.AckedAt.Sub(f.FirstSeen).Seconds()
	}
	if !f.ResolvedAt.IsZero() {
		c.resolved++
		c.resolveSeconds += f.ResolvedAt.Sub(f.FirstSeen).Seconds()
		// Its own integration resolved it and nobody acked it: the
		// condition went away before a person had to act.
		if !acked && f.ResolvedBy == f.Integration {
			c.autoResolved++
		}
	}
	if flap {
		c.flaps++
	}
}

func (c *counts) summary() Summary {
	s := Summary{
		Alerts:       c.alerts,
		Acked:        c.acked,
		Resolved:     c.resolved,
		AutoResolved: c.autoResolved,
		Flaps:        c.flaps,
		MTTA:         mean(c.ackSeconds, c.acked),
		MTTR:         mean(c.resolveSeconds, c.resolved),
	}
	if c.alerts > 0 {
		s.AckRate = float64(c.acked) / float64(c.alerts)
	}
	return s
}

// mean is the mean of n durations summing to seconds, to the second.
func mean(seconds float64, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return time.Duration(math.Round(seconds/float64(n))) * time.Second
}

// slot returns (*cs)[i], growing *cs as needed.
func slot(cs *[]counts, i int) *counts {
	for len(*cs) <= i {
		*cs = append(*cs, counts{})
	}
	return &(*cs)[i]
}

type bucket struct {
	all    counts
	levels []counts // index = level
}

type ruleCounts struct {
	counts
	services map[string]int // alerts per service
}

// builder turns streamed facts into a Report.
type builder struct {
	q          Query
	levels     map[klaxon.Level]bool // nil: every level
	flapWindow time.Duration
	first      time.Time // start of the first bucket
	// resolvedAt holds every resolved occurrence seen so far: facts come
	// by ID, so an alert's previous occurrence is always already here.
	resolvedAt map[int64]time.Time
	total      counts
	buckets    []bucket
	byLevel    []counts
	byService  map[string]*counts
	rules      map[string]*ruleCounts
	services   map[string]bool // every service, filtered out or not
}

func newBuilder(q Query, flapWindow time.Duration) *builder {
	b := &builder{
		q:          q,
		flapWindow: flapWindow,
		first:      firstBucket(q),
		resolvedAt: map[int64]time.Time{},
		buckets:    make([]bucket, bucketCount(q)),
		byService:  map[string]*counts{},
		rules:      map[string]*ruleCounts{},
		services:   map[string]bool{},
	}
	if len(q.Levels) > 0 {
		b.levels = map[klaxon.Level]bool{}
		for _, l := range q.Levels {
			b.levels[l] = true
		}
	}
	return b
}

func (b *builder) add(f klaxon.AlertFact) error {
	if !f.ResolvedAt.IsZero() {
		b.resolvedAt[f.ID] = f.ResolvedAt
	}
	service := ServiceOf(f.Labels)
	b.services[service] = true
	if b.q.Service != "" && service != b.q.Service || b.levels != nil && !b.levels[f.Level] {
		return nil
	}
	i := int(f.FirstSeen.Sub(b.first) / b.q.Bucket)
	if f.FirstSeen.Before(b.first) || i >= len(b.buckets) {
		return fmt.Errorf("alert %d first seen at %s, outside [%s, %s)", f.ID, f.FirstSeen.Format(time.RFC3339), b.q.Since.Format(time.RFC3339), b.q.Until.Format(time.RFC3339))
	}
	level := max(int(f.Level), 0) // a stored level below 0 counts as the most severe
	prev, ok := b.resolvedAt[f.PreviousID]
	flap := ok && f.FirstSeen.Sub(prev) < b.flapWindow

	b.total.add(&f, flap)
	b.buckets[i].all.add(&f, flap)
	slot(&b.buckets[i].levels, level).add(&f, flap)
	slot(&b.byLevel, level).add(&f, flap)
	sc := b.byService[service]
	if sc == nil {
		sc = &counts{}
		b.byService[service] = sc
	}
	sc.add(&f, flap)
	name := f.Labels["alertname"]
	rc := b.rules[name]
	if rc == nil {
		rc = &ruleCounts{services: map[string]int{}}
		b.rules[name] = rc
	}
	rc.add(&f, flap)
	rc.services[service]++
	return nil
}

func (b *builder) report(policy klaxon.SeverityPolicy) *Report {
	levels := max(len(policy.Names), len(b.byLevel))
	r := &Report{
		Since:      b.q.Since,
		Until:      b.q.Until,
		Bucket:     b.q.Bucket,
		LevelNames: make([]string, levels),
		Total:      b.total.summary(),
		Series:     make([]Point, len(b.buckets)),
		ByService:  []Slice{},
		ByLevel:    []Slice{},
		Load:       []Load{},
	}
	for l := range levels {
		r.LevelNames[l] = policy.Name(klaxon.Level(l))
	}
	for i, bk := range b.buckets {
		p := Point{
			Start:   b.first.Add(time.Duration(i) * b.q.Bucket),
			Summary: bk.all.summary(),
			ByLevel: make([]int, levels),
			Levels:  make([]Summary, levels),
		}
		for l, c := range bk.levels {
			p.ByLevel[l] = c.alerts
			p.Levels[l] = c.summary()
		}
		r.Series[i] = p
	}
	for l := range levels {
		if b.levels == nil || b.levels[klaxon.Level(l)] {
			r.ByLevel = append(r.ByLevel, Slice{Name: r.LevelNames[l], Summary: slot(&b.byLevel, l).summary()})
		}
	}
	for name, c := range b.byService {
		r.ByService = append(r.ByService, Slice{Name: name, Summary: c.summary()})
	}
	slices.SortFunc(r.ByService, func(a, b Slice) int {
		return cmp.Or(cmp.Compare(b.Alerts, a.Alerts), cmp.Compare(a.Name, b.Name))
	})
	r.Noisiest = b.noisiest()
	r.Services = make([]string, 0, len(b.services))
	for s := range b.services {
		r.Services = append(r.Services, s)
	}
	slices.Sort(r.Services)
	return r
}

// noisiest ranks the rules by Noise and keeps the top maxNoisiest.
func (b *builder) noisiest() []Rule {
	rules := make([]Rule, 0, len(b.rules))
	for name, c := range b.rules {
		s := c.summary()
		rules = append(rules, Rule{Name: name, Service: mostCommon(c.services), Summary: s, Noise: s.Alerts + s.AutoResolved + s.Flaps})
	}
	slices.SortFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(b.Noise, a.Noise), cmp.Compare(a.Name, b.Name))
	})
	return rules[:min(len(rules), maxNoisiest)]
}

// mostCommon returns the key with the highest count, the first by name on
// a tie.
func mostCommon(n map[string]int) string {
	best := ""
	for k, c := range n {
		if c > n[best] || c == n[best] && k < best {
			best = k
		}
	}
	return best
}
