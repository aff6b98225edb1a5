package scene

import (
	"image"
	"time"
)

// View is what the overlay draws of a scene, in the pixels of the latest
// analysed frame. Scene.View fills one in place, reusing its slices.
type View struct {
	Width, Height int
	Tracks        []TrackView
	Lines         []LineView
	Zones         []ZoneView
	Alerts        []AlertView // rules whose condition holds now
}

// TrackView is a confirmed track seen on the latest analysis.
type TrackView struct {
	ID    int
	Name  string
	Box   image.Rectangle
	Trail [TrailLen]image.Point // oldest first; the anchor (bottom centre) of each analysis
	N     int                   // points in Trail
}

// LineView is a counting line with its counts.
type LineView struct {
	Name    string
	A, B    image.Point
	In, Out int
	ByClass []ClassCount
	Alarm   bool // a rule on this line holds
}

// ZoneView is a zone with its counts.
type ZoneView struct {
	Name      string
	Polygon   []image.Point
	Occupancy int
	Entries   int
	MeanDwell time.Duration // of the finished visits
	Alarm     bool          // a rule on this zone holds
}

// AlertView is a rule in alarm.
type AlertView struct {
	Rule   string
	Detail string // the latest alert's
	Since  time.Duration
}

// View copies what the overlay draws into dst without allocating once
// dst's slices have grown to the scene's size.
func (s *Scene) View(dst *View) {
	dst.Width, dst.Height = s.width, s.height
	dst.Tracks = dst.Tracks[:0]
	for i := range s.slots {
		if sl := &s.slots[i]; sl.seen {
			dst.Tracks = append(dst.Tracks, trackView(sl))
		}
	}
	dst.Lines = resize(dst.Lines, len(s.lines))
	for i := range s.lines {
		l, v := &s.lines[i], &dst.Lines[i]
		v.Name, v.A, v.B, v.In, v.Out = l.cfg.Name, l.a.point(), l.b.point(), l.in, l.out
		v.ByClass = append(v.ByClass[:0], l.byClass...)
		v.Alarm = false
	}
	dst.Zones = resize(dst.Zones, len(s.zones))
	for i := range s.zones {
		z, v := &s.zones[i], &dst.Zones[i]
		v.Name, v.Occupancy, v.Entries, v.MeanDwell = z.cfg.Name, z.occupancy, z.entries, z.meanDwell()
		v.Polygon = v.Polygon[:0]
		for _, p := range z.poly {
			v.Polygon = append(v.Polygon, p.point())
		}
		v.Alarm = false
	}
	dst.Alerts = dst.Alerts[:0]
	for i := range s.rules {
		r := &s.rules[i]
		if !r.active || !r.fired {
			continue
		}
		dst.Alerts = append(dst.Alerts, AlertView{Rule: r.cfg.Name, Detail: r.detail, Since: r.lastFired})
		if r.zone != nil {
			dst.Zones[s.zoneIndex(r.zone)].Alarm = true
		}
		if r.line != nil {
			dst.Lines[s.lineIndex(r.line)].Alarm = true
		}
	}
}

func trackView(sl *slot) TrackView {
	v := TrackView{ID: sl.id, Name: sl.class, Box: rectOf(sl.box), N: sl.trail.n}
	first := (sl.trail.next - sl.trail.n + TrailLen) % TrailLen
	for k := range sl.trail.n {
		v.Trail[k] = sl.trail.pts[(first+k)%TrailLen].point()
	}
	return v
}

// resize returns s with length n, keeping its elements' own slices for
// reuse.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return append(s[:cap(s)], make([]T, n-cap(s))...)
}

func (s *Scene) zoneIndex(z *zone) int {
	for i := range s.zones {
		if &s.zones[i] == z {
			return i
		}
	}
	return -1
}

func (s *Scene) lineIndex(l *line) int {
	for i := range s.lines {
		if &s.lines[i] == l {
			return i
		}
	}
	return -1
}
