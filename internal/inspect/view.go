package inspect

import (
	"image"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// View is what the overlay and the app's panel show of the inspection
// points. Inspector.View fills one in place, reusing its slices.
type View struct {
	Points []PointView
}

// PointView is one inspection point.
type PointView struct {
	Name    string
	Mode    string // continuous or per_track
	Cloud   bool
	Polygon []image.Point // the region in the latest frame's pixels
	// Verdict is the latest ("" state before the first), with its age;
	// Stale is set when there is none or it is older than StaleAfter.
	Verdict Verdict
	Stale   bool
	Pending bool // a call off the frame loop (cloud, offloaded) is in flight
	Counts  event.InspectionCount
	// Minutes are the verdicts a minute, [0] the current minute; PerMinute
	// is their rate and Yield the percentage of passes among passes and
	// fails (reviews aside, as the scene's yield_below) over the last
	// RateMinutes (HasYield false before the first pass or fail).
	Minutes   [RateMinutes]event.InspectionCount
	PerMinute float64
	Yield     float64
	HasYield  bool
	Missed    int    // per_track, off the loop: parts that left before their call could go
	Err       string // why the point cannot be judged now, "" when it can
	Alarm     bool   // a rule on the point holds (MarkAlarms)
}

// View copies the points' state into dst without allocating once dst's
// slices have grown to the points'.
func (in *Inspector) View(dst *View) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if cap(dst.Points) < len(in.points) {
		dst.Points = append(dst.Points[:cap(dst.Points)], make([]PointView, len(in.points)-cap(dst.Points))...)
	}
	dst.Points = dst.Points[:len(in.points)]
	for i, p := range in.points {
		v := &dst.Points[i]
		v.Name, v.Mode, v.Cloud = p.cfg.Name, p.cfg.InspectMode(), p.model.cloud
		v.Polygon = append(v.Polygon[:0], p.polygon...)
		v.Verdict = p.verdict
		if p.verdict.State != "" {
			v.Verdict.Age = max(in.lastT-p.verdict.At, 0)
		}
		v.Stale = p.verdict.State == "" || v.Verdict.Age > in.opts.StaleAfter
		v.Pending, v.Counts, v.Missed, v.Err, v.Alarm = p.busy, p.tally.total, p.missed, p.lastErr, false
		p.tally.window(in.lastT, v)
	}
}

// MarkAlarms sets Alarm on the points that rules in alarm (a scene view's
// Alerts) are about.
func (v *View) MarkAlarms(alerts []scene.AlertView, rules []scene.Rule) {
	for i := range v.Points {
		v.Points[i].Alarm = false
	}
	for _, a := range alerts {
		for _, r := range rules {
			if r.Name != a.Rule || r.Point == "" {
				continue
			}
			for i := range v.Points {
				if v.Points[i].Name == r.Point {
					v.Points[i].Alarm = true
				}
			}
		}
	}
}
