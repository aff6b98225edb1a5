// Package scene turns detections into what a production line acts on:
// tracks with stable IDs, crossings of counting lines, zone occupancy and
// dwell, and alerts from rules on those counts (the contract's "Scenes").
// The pipeline calls Update once an analysed frame, in order, from one
// goroutine; a Scene holds no locks.
package scene

import (
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene/track"
)

// Frame is one analysed frame.
type Frame struct {
	At event.At
	// T is the frame's time on the stream's monotonic clock: every
	// duration (tracks lost, dwell, rules) is measured on it.
	T             time.Duration
	Width, Height int
	// Objects are tracked; when the analysis has none (nil), People are,
	// as "person". Update sets TrackID on those that belong to a
	// confirmed track, and on People matching a tracked person object.
	Objects []analyzer.Object
	People  []analyzer.Person
}

// Scene follows one source's scene.
type Scene struct {
	cfg     Config
	tracker *track.Tracker
	lines   []line
	zones   []zone
	rules   []rule
	points  []point

	width, height int
	begun         bool
	start, now    time.Duration

	slots      []slot         // per tracker slot
	lineTracks []lineTrack    // slot × line
	zoneTracks []zoneTrack    // slot × zone
	tracks     map[string]int // confirmed tracks a class
	dets       []track.Detection
	fromPeople bool
}

// slot is what the scene keeps about the track in a tracker slot.
type slot struct {
	id    int
	class string
	box   analyzer.BoundingBox // the latest detection's
	seen  bool                 // matched on the latest analysis
	trail trail
}

// TrailLen is how many recent positions a track's trail keeps.
const TrailLen = 16

// trail is a ring of a track's latest anchors.
type trail struct {
	pts  [TrailLen]vec
	next int
	n    int
}

func (t *trail) add(p vec) {
	t.pts[t.next] = p
	t.next = (t.next + 1) % TrailLen
	t.n = min(t.n+1, TrailLen)
}

// New returns a scene for cfg, which is validated first.
func New(cfg Config) (*Scene, error) { return NewWithTracker(cfg, track.Options{}) }

// NewWithTracker is New with the tracker's thresholds set, for detectors
// whose confidences are calibrated unlike YOLOX's (the defaults);
// cfg's lost_after_s sets o.LostAfter.
func NewWithTracker(cfg Config, o track.Options) (*Scene, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o.LostAfter = seconds(cfg.Tracking.LostAfter())
	s := &Scene{cfg: cfg, tracker: track.New(o), tracks: map[string]int{}}
	for _, l := range cfg.Lines {
		s.lines = append(s.lines, line{cfg: l})
	}
	for _, z := range cfg.Zones {
		s.zones = append(s.zones, zone{cfg: z})
	}
	for _, in := range cfg.Inspections {
		s.points = append(s.points, point{cfg: in})
	}
	s.rules = make([]rule, len(cfg.Rules)) // rules are pointed to: never appended to
	for i, rc := range cfg.Rules {
		s.rules[i] = newRule(rc)
		r := &s.rules[i]
		if j := index(cfg.Zones, rc.Zone, Zone.name); j >= 0 {
			r.zone = &s.zones[j]
		}
		if j := index(cfg.Lines, rc.Line, Line.name); j >= 0 {
			r.line = &s.lines[j]
			r.line.rules = append(r.line.rules, r)
		}
		if j := index(cfg.Inspections, rc.Point, Inspection.name); j >= 0 {
			r.point = &s.points[j]
			if rc.When == WhenYieldBelow {
				r.point.yields = append(r.point.yields, r)
			}
		}
	}
	return s, nil
}

// Config returns the scene's configuration.
func (s *Scene) Config() Config { return s.cfg }

// Update follows the scene to one analysed frame and appends the events
// it caused to out: track starts, line crossings, zone entries and exits,
// track ends and alerts, in that order.
func (s *Scene) Update(f Frame, out []event.Event) []event.Event {
	s.begin(f.T)
	s.place(f.Width, f.Height)
	s.collect(f)
	s.tracker.Update(f.T, s.dets)
	s.grow()
	out = s.started(f.At, out)
	s.label(f)
	out = s.observe(f, out)
	out = s.ended(f.At, out)
	return s.checkRules(f.At, out)
}

// Finish ends every open track, as the run ends: their zone exits and
// track ends, before the summary.
func (s *Scene) Finish(at event.At, t time.Duration, out []event.Event) []event.Event {
	s.begin(t)
	s.tracker.EndAll()
	for i := range s.slots {
		s.slots[i].seen = false
	}
	return s.ended(at, out)
}

func (s *Scene) begin(t time.Duration) {
	if !s.begun {
		s.begun, s.start = true, t
		for i := range s.zones {
			s.zones[i].emptySince = t
		}
	}
	s.now = max(s.now, t)
}

// place puts lines and zones in pixels when the frame's size changes.
func (s *Scene) place(w, h int) {
	if w == s.width && h == s.height {
		return
	}
	s.width, s.height = w, h
	for i := range s.lines {
		s.lines[i].place(w, h)
	}
	for i := range s.zones {
		s.zones[i].place(w, h)
	}
}

// collect turns the frame's tracked classes into the tracker's detections,
// in the frame's order so that detection i is object (or person) i.
func (s *Scene) collect(f Frame) {
	s.dets = s.dets[:0]
	s.fromPeople = f.Objects == nil
	if s.fromPeople {
		for _, p := range f.People {
			s.dets = append(s.dets, s.detection("person", p.Confidence, p.BoundingBox))
		}
		return
	}
	for _, o := range f.Objects {
		s.dets = append(s.dets, s.detection(o.Name, o.Confidence, o.BoundingBox))
	}
}

// detection is a tracker detection; classes not tracked get score 0,
// which the tracker ignores.
func (s *Scene) detection(class string, conf float64, b analyzer.BoundingBox) track.Detection {
	if !watches(s.cfg.Tracking.Classes, class) {
		conf = 0
	}
	return track.Detection{Box: boxOf(b), Score: conf, Class: class}
}

// grow keeps the per-slot state as long as the tracker's slots.
func (s *Scene) grow() {
	n := len(s.tracker.Tracks())
	for len(s.slots) < n {
		s.slots = append(s.slots, slot{})
		for range s.lines {
			s.lineTracks = append(s.lineTracks, lineTrack{})
		}
		for range s.zones {
			s.zoneTracks = append(s.zoneTracks, zoneTrack{})
		}
	}
}

// started resets the state of newly confirmed tracks and reports them.
func (s *Scene) started(at event.At, out []event.Event) []event.Event {
	tracks := s.tracker.Tracks()
	for _, i := range s.tracker.Confirmed() {
		tr := &tracks[i]
		s.slots[i] = slot{id: tr.ID, class: tr.Class}
		clear(s.lineTracksOf(i))
		clear(s.zoneTracksOf(i))
		s.tracks[tr.Class]++
		out = append(out, &event.Track{Header: event.Header{Type: event.TypeTrack}, At: at,
			State: "start", TrackID: tr.ID, Name: tr.Class})
	}
	return out
}

// countOf finds class in counts, adding it if it is new.
func countOf(counts *[]ClassCount, class string) *ClassCount {
	for i := range *counts {
		if (*counts)[i].Name == class {
			return &(*counts)[i]
		}
	}
	*counts = append(*counts, ClassCount{Name: class})
	return &(*counts)[len(*counts)-1]
}

func (s *Scene) lineTracksOf(i int) []lineTrack {
	n := len(s.lines)
	return s.lineTracks[i*n : (i+1)*n]
}

func (s *Scene) zoneTracksOf(i int) []zoneTrack {
	n := len(s.zones)
	return s.zoneTracks[i*n : (i+1)*n]
}

// label sets the track IDs on the frame's detections.
func (s *Scene) label(f Frame) {
	tracks := s.tracker.Tracks()
	id := func(i int) int {
		if j := s.tracker.Matched(i); j >= 0 && tracks[j].ID > 0 {
			return tracks[j].ID
		}
		return 0
	}
	if s.fromPeople {
		for i := range f.People {
			f.People[i].TrackID = id(i)
		}
		return
	}
	for i := range f.Objects {
		f.Objects[i].TrackID = id(i)
	}
	for i := range f.People {
		f.People[i].TrackID = personTrack(f.Objects, f.People[i].BoundingBox)
	}
}

// personTrack is the track of the person object that is box (the local
// backend reports people as person objects too), or that overlaps it
// best, by at least half.
func personTrack(objs []analyzer.Object, box analyzer.BoundingBox) int {
	best, id := 0.5, 0
	for _, o := range objs {
		if o.TrackID == 0 || !strings.EqualFold(o.Name, "person") {
			continue
		}
		if iou := track.IoU(boxOf(o.BoundingBox), boxOf(box)); iou >= best {
			best, id = iou, o.TrackID
		}
	}
	return id
}

// observe moves every confirmed track seen on this frame along the lines
// and through the zones.
func (s *Scene) observe(f Frame, out []event.Event) []event.Event {
	tracks := s.tracker.Tracks()
	for i := range s.slots {
		sl := &s.slots[i]
		tr := &tracks[i]
		sl.seen = tr.ID > 0 && tr.State == track.Tracked
		if !sl.seen {
			continue
		}
		sl.box = s.boxOf(f, tr.Det)
		sl.trail.add(anchorOf(sl.box, AnchorBottomCenter))
		if s.width <= 0 || s.height <= 0 {
			continue // no frame size: lines and zones cannot be placed
		}
		out = s.cross(i, f.At, out)
		out = s.occupy(i, f.At, out)
	}
	return out
}

func (s *Scene) boxOf(f Frame, det int) analyzer.BoundingBox {
	if s.fromPeople {
		return f.People[det].BoundingBox
	}
	return f.Objects[det].BoundingBox
}

// cross moves track i along the lines.
func (s *Scene) cross(i int, at event.At, out []event.Event) []event.Event {
	sl := &s.slots[i]
	lts := s.lineTracksOf(i)
	for j := range s.lines {
		l := &s.lines[j]
		if !l.watches(sl.class) {
			continue
		}
		p := anchorOf(sl.box, l.cfg.Anchor)
		if dir := l.observe(&lts[j], p, float64(sl.box.H)); dir != 0 {
			out = append(out, l.count(dir, sl.id, sl.class, at, s.now))
		}
	}
	return out
}

// occupy moves track i through the zones.
func (s *Scene) occupy(i int, at event.At, out []event.Event) []event.Event {
	sl := &s.slots[i]
	zts := s.zoneTracksOf(i)
	for j := range s.zones {
		z := &s.zones[j]
		if !z.watches(sl.class) {
			continue
		}
		switch z.observe(&zts[j], anchorOf(sl.box, z.cfg.Anchor), float64(sl.box.H), s.now) {
		case 1:
			out = append(out, z.enter(sl.id, sl.class, at))
		case -1:
			out = append(out, z.exit(&zts[j], sl.id, sl.class, at))
		}
	}
	return out
}

// ended closes the tracks that ended: a crossing in progress, zone exits,
// then the track's end with its duration.
func (s *Scene) ended(at event.At, out []event.Event) []event.Event {
	tracks := s.tracker.Tracks()
	for _, i := range s.tracker.Ended() {
		sl := &s.slots[i]
		sl.seen = false
		lts := s.lineTracksOf(i)
		for j := range s.lines {
			if dir := s.lines[j].finish(&lts[j]); dir != 0 {
				out = append(out, s.lines[j].count(dir, sl.id, sl.class, at, s.now))
			}
		}
		zts := s.zoneTracksOf(i)
		for j := range s.zones {
			if zts[j].inside {
				out = append(out, s.zones[j].exit(&zts[j], sl.id, sl.class, at))
			}
		}
		d := (tracks[i].Last - tracks[i].First).Seconds()
		out = append(out, &event.Track{Header: event.Header{Type: event.TypeTrack}, At: at,
			State: "end", TrackID: sl.id, Name: sl.class, DurationS: &d})
	}
	return out
}

// longestDwell is the confirmed track in z the longest, and for how long.
func (s *Scene) longestDwell(z *zone, now time.Duration) (slot int, d time.Duration) {
	j := s.zoneIndex(z)
	slot = -1
	for i := range s.slots {
		zt := &s.zoneTracksOf(i)[j]
		if zt.inside && s.slots[i].id > 0 && now-zt.entered > d {
			slot, d = i, now-zt.entered
		}
	}
	return slot, d
}

// checkRules evaluates every rule and fires those that hold and are out
// of their cooldown.
func (s *Scene) checkRules(at event.At, out []event.Event) []event.Event {
	for i := range s.rules {
		r := &s.rules[i]
		r.active = r.holds(s, s.now)
		if r.active && (!r.fired || s.now-r.lastFired >= r.cooldown) {
			out = append(out, r.alert(s, at, s.now))
		}
	}
	return out
}

// RecordInspection records an inspection point's verdict (pass, fail or
// review) at t, for the inspection_fail and yield_below rules, which are
// evaluated on the next Update. A point the scene does not have is
// ignored. The verdicts' totals are counted once, by internal/inspect,
// which fills the summary's inspections.
func (s *Scene) RecordInspection(name, state string, t time.Duration) {
	j := index(s.cfg.Inspections, name, Inspection.name)
	if j < 0 {
		return
	}
	p := &s.points[j]
	if !p.seen {
		p.seen, p.first = true, t
	}
	switch state {
	case "pass":
		p.failRun = 0
	case "fail":
		p.failRun++
	default: // a review neither ends a run of fails nor counts in a yield
		return
	}
	for _, r := range p.yields {
		r.verdict(state == "pass", t)
	}
}

// Summary adds the scene's totals to sum: confirmed tracks a class, line
// counts, zone entries and peak occupancy (inspection verdicts are the
// inspect package's).
func (s *Scene) Summary(sum *event.Summary) {
	sum.Tracks = make(map[string]int, len(s.tracks))
	for class, n := range s.tracks {
		sum.Tracks[class] = n
	}
	if len(s.lines) > 0 {
		sum.Lines = make(map[string]event.LineCount, len(s.lines))
		for _, l := range s.lines {
			sum.Lines[l.cfg.Name] = event.LineCount{In: l.in, Out: l.out}
		}
	}
	if len(s.zones) > 0 {
		sum.Zones = make(map[string]event.ZoneCount, len(s.zones))
		for _, z := range s.zones {
			sum.Zones[z.cfg.Name] = event.ZoneCount{Entries: z.entries, MaxOccupancy: z.maxOcc}
		}
	}
}
