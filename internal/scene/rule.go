package scene

import (
	"fmt"
	"math"
	"time"

	"github.com/sightline/sightline/internal/event"
)

// rule is a rule's state. A rule is a condition on the live counts; it
// fires when the condition holds and it has not fired for its cooldown, so
// a condition that lasts fires again every cooldown.
type rule struct {
	cfg      Rule
	zone     *zone
	line     *line
	point    *point
	seconds  time.Duration
	cooldown time.Duration

	fired     bool
	lastFired time.Duration
	active    bool   // the condition held on the latest analysis
	detail    string // what the latest alert said

	// crossings_below: the latest cfg.Count crossing times, a ring.
	times []time.Duration
	next  int
	// yield_below: verdicts in yieldBuckets buckets over the window.
	buckets []bucket
}

// yieldBuckets divide a yield_below window: memory stays fixed however
// many verdicts come, at the price of a window that moves in 1/60 steps.
const yieldBuckets = 60

type bucket struct {
	k          int64 // which bucket of time this is
	pass, fail int
}

func newRule(cfg Rule) rule {
	r := rule{cfg: cfg, seconds: seconds(cfg.Seconds), cooldown: seconds(cfg.Cooldown())}
	switch cfg.When {
	case WhenCrossingsBelow:
		r.times = make([]time.Duration, 0, cfg.Count)
	case WhenYieldBelow:
		r.buckets = make([]bucket, yieldBuckets)
	}
	return r
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// crossed records a crossing of the rule's line.
func (r *rule) crossed(now time.Duration) {
	if len(r.times) < cap(r.times) {
		r.times = append(r.times, now)
		return
	}
	r.times[r.next] = now
	r.next = (r.next + 1) % len(r.times)
}

// crossingsSince counts the recorded crossings after t.
func (r *rule) crossingsSince(t time.Duration) int {
	n := 0
	for _, c := range r.times {
		if c > t {
			n++
		}
	}
	return n
}

func (r *rule) bucketLen() time.Duration { return max(r.seconds/yieldBuckets, time.Millisecond) }

// verdict records an inspection verdict for a yield_below rule.
func (r *rule) verdict(pass bool, now time.Duration) {
	k := int64(now / r.bucketLen())
	b := &r.buckets[k%yieldBuckets]
	if b.k != k {
		*b = bucket{k: k}
	}
	if pass {
		b.pass++
	} else {
		b.fail++
	}
}

// yield is the pass and fail counts of the window ending now.
func (r *rule) yield(now time.Duration) (pass, fail int) {
	k := int64(now / r.bucketLen())
	for _, b := range r.buckets {
		if b.k > k-yieldBuckets && b.k <= k && (b.pass+b.fail) > 0 {
			pass += b.pass
			fail += b.fail
		}
	}
	return pass, fail
}

// holds evaluates the condition at now.
func (r *rule) holds(s *Scene, now time.Duration) bool {
	switch r.cfg.When {
	case WhenOccupancyAbove:
		return r.zone.occupancy > r.cfg.Count
	case WhenEmptyFor:
		return r.zone.occupancy == 0 && now-r.zone.emptySince >= r.seconds
	case WhenDwellAbove:
		_, d := s.longestDwell(r.zone, now)
		return d > r.seconds
	case WhenCrossingsBelow:
		return now-s.start >= r.seconds && r.crossingsSince(now-r.seconds) < r.cfg.Count
	case WhenInspectionFail:
		return r.point.failRun >= max(r.cfg.Count, 1)
	case WhenYieldBelow:
		if !r.point.seen || now-r.point.first < r.seconds {
			return false
		}
		pass, fail := r.yield(now)
		return pass+fail > 0 && 100*float64(pass)/float64(pass+fail) < r.cfg.Percent
	}
	return false
}

// describe says what triggered the rule, for the alert's detail.
func (r *rule) describe(s *Scene, now time.Duration) string {
	z, l, p := "", "", ""
	if r.zone != nil {
		z = r.zone.cfg.Name
	}
	if r.line != nil {
		l = r.line.cfg.Name
	}
	if r.point != nil {
		p = r.point.cfg.Name
	}
	switch r.cfg.When {
	case WhenOccupancyAbove:
		return fmt.Sprintf("%d in %s (more than %d)", r.zone.occupancy, z, r.cfg.Count)
	case WhenEmptyFor:
		return fmt.Sprintf("%s empty for %s", z, secs(now-r.zone.emptySince))
	case WhenDwellAbove:
		slot, d := s.longestDwell(r.zone, now)
		return fmt.Sprintf("%s %d in %s for %s (more than %s)", s.slots[slot].class, s.slots[slot].id, z, secs(d), secs(r.seconds))
	case WhenCrossingsBelow:
		return fmt.Sprintf("%s: %d crossings in the last %s (fewer than %d)", l, r.crossingsSince(now-r.seconds), secs(r.seconds), r.cfg.Count)
	case WhenInspectionFail:
		return fmt.Sprintf("%s: %d fails in a row", p, r.point.failRun)
	case WhenYieldBelow:
		pass, fail := r.yield(now)
		return fmt.Sprintf("%s: yield %.0f%% over the last %s (below %g%%): %d pass, %d fail", p,
			100*float64(pass)/float64(pass+fail), secs(r.seconds), r.cfg.Percent, pass, fail)
	}
	return ""
}

// secs prints a duration as whole seconds, or tenths under 10 s.
func secs(d time.Duration) string {
	s := d.Seconds()
	if s < 10 {
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", math.Round(s))
}

// alert fires the rule at now.
func (r *rule) alert(s *Scene, at event.At, now time.Duration) *event.Alert {
	r.fired, r.lastFired = true, now
	r.detail = r.describe(s, now)
	return &event.Alert{Header: event.Header{Type: event.TypeAlert}, At: at, Rule: r.cfg.Name, Detail: r.detail}
}

// point is what the rules need of an inspection point's verdicts.
type point struct {
	cfg     Inspection
	failRun int // consecutive fails; a pass ends the run, a review does not
	seen    bool
	first   time.Duration
	yields  []*rule
}
