package scene

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene/sim"
)

const frameW, frameH = 640, 480

// rates are the analysis rates every scenario is played at.
var rates = []float64{3, 10, 30}

// person is someone 40×100 px whose feet follow path, in view throughout.
func person(path func(float64) (float64, float64)) sim.Object {
	return sim.Object{Class: "person", W: 40, H: 100, Path: path, Feet: true, Out: math.Inf(1), Score: 0.85}
}

func with(o sim.Object, f func(*sim.Object)) sim.Object { f(&o); return o }

func at(t float64) time.Duration { return time.Duration(t * float64(time.Second)) }

// player drives a scene with ground-truth objects, frame by frame.
type player struct {
	t      *testing.T
	scene  *Scene
	objs   []sim.Object
	fps    float64
	frame  int64
	rng    *rand.Rand
	events []event.Event
	// before, if set, runs before each frame's Update (to record
	// inspection verdicts).
	before func(s *Scene, ts float64)
}

func newPlayer(t *testing.T, cfg Config, fps float64, objs ...sim.Object) *player {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &player{t: t, scene: s, objs: objs, fps: fps, rng: sim.Rand()}
}

// play analyses frames up to dur seconds, then finishes the scene.
func (p *player) play(dur float64) []event.Event {
	p.run(dur)
	end := at(float64(p.frame) / p.fps)
	return p.scene.Finish(event.AtFrame(p.frame, end), end, p.events)
}

// run analyses frames up to dur seconds.
func (p *player) run(dur float64) {
	for ; float64(p.frame) <= dur*p.fps+1e-9; p.frame++ {
		ts := float64(p.frame) / p.fps
		if p.before != nil {
			p.before(p.scene, ts)
		}
		p.events = p.scene.Update(p.frameAt(ts, p.rng), p.events)
	}
}

func (p *player) frameAt(ts float64, rng *rand.Rand) Frame {
	f := Frame{At: event.AtFrame(p.frame, at(ts)), T: at(ts), Width: frameW, Height: frameH, Objects: []analyzer.Object{}}
	for _, o := range p.objs {
		if !o.Visible(ts) {
			continue
		}
		x1, y1, x2, y2 := o.Box(ts, rng)
		b := analyzer.BoundingBox{X: int(math.Round(x1)), Y: int(math.Round(y1))}
		b.W, b.H = int(math.Round(x2))-b.X, int(math.Round(y2))-b.Y
		f.Objects = append(f.Objects, analyzer.Object{Name: o.Class, Confidence: o.ScoreAt(ts), BoundingBox: b})
	}
	return f
}

// short describes the events of the given types, one string each.
func short(events []event.Event, types ...string) []string {
	var out []string
	for _, e := range events {
		if len(types) > 0 && !slices.Contains(types, e.Head().Type) {
			continue
		}
		switch e := e.(type) {
		case *event.Track:
			out = append(out, fmt.Sprintf("track %s %d %s", e.State, e.TrackID, e.Name))
		case *event.LineCross:
			out = append(out, fmt.Sprintf("%s %s %s", e.Line, e.Direction, e.Name))
		case *event.ZoneEnter:
			out = append(out, fmt.Sprintf("enter %s %d", e.Zone, e.Occupancy))
		case *event.ZoneExit:
			out = append(out, fmt.Sprintf("exit %s %d", e.Zone, e.Occupancy))
		case *event.Alert:
			out = append(out, "alert "+e.Rule)
		}
	}
	return out
}

// gate is a line across the middle of the frame, drawn left to right.
var gate = Line{Name: "gate", Points: []Point{{0.1, 0.5}, {0.9, 0.5}}}

// lineY is gate's height in pixels.
const lineY = 240.0

func TestLineCrossings(t *testing.T) {
	down := sim.Linear(320, 100, 0, 100, 0) // crosses at t = 1.4
	up := sim.Linear(320, 400, 0, -100, 0)
	reversed := gate
	reversed.Points = []Point{gate.Points[1], gate.Points[0]}
	vertical := Line{Name: "gate", Points: []Point{{0.5, 0.1}, {0.5, 0.9}}}
	// Stand on the line from 2 to 5 s, jittering across it.
	stand := sim.Waypoints([3]float64{0, 320, 140}, [3]float64{1, 320, lineY}, [3]float64{4, 320, lineY}, [3]float64{6, 320, 440})
	standBack := sim.Waypoints([3]float64{0, 320, 140}, [3]float64{1, 320, lineY}, [3]float64{4, 320, lineY}, [3]float64{6, 320, 40})
	jitter := func(o *sim.Object) { o.JitterPx = 4 }
	tests := []struct {
		name string
		line Line
		obj  sim.Object
		want []string
	}{
		{"walking down a line drawn left to right is in", gate, person(down), []string{"gate in person"}},
		{"walking up is out", gate, person(up), []string{"gate out person"}},
		{"the same line drawn right to left swaps them", reversed, person(down), []string{"gate out person"}},
		{"right to left across a line drawn downwards is in", vertical, person(sim.Linear(600, 300, -100, 0, 0)), []string{"gate in person"}},
		{"left to right across it is out", vertical, person(sim.Linear(40, 300, 100, 0, 0)), []string{"gate out person"}},
		{"standing on the line, jittering, then going on counts once", gate, with(person(stand), jitter), []string{"gate in person"}},
		{"standing on the line, jittering, then going back counts nothing", gate, with(person(standBack), jitter), nil},
		{"passing beside the segment's end counts nothing", gate, person(sim.Linear(610, 100, 0, 100, 0)), nil},
		{"a class the line does not count", with2(gate, func(l *Line) { l.Classes = []string{"car"} }), person(down), nil},
		{"a class the line counts", with2(gate, func(l *Line) { l.Classes = []string{"Person"} }), person(down), []string{"gate in person"}},
		{"center anchor", with2(gate, func(l *Line) { l.Anchor = AnchorCenter }), person(sim.Linear(320, 150, 0, 100, 0)), []string{"gate in person"}},
	}
	for _, fps := range rates {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s at %g fps", tt.name, fps), func(t *testing.T) {
				p := newPlayer(t, Config{Lines: []Line{tt.line}}, fps, tt.obj)
				events := p.play(6)
				if got := short(events, event.TypeLineCross); !slices.Equal(got, tt.want) {
					t.Errorf("crossings %q, want %q", got, tt.want)
				}
				var sum event.Summary
				p.scene.Summary(&sum)
				in, out := 0, 0
				for _, w := range tt.want {
					if strings.Contains(w, " in ") {
						in++
					} else {
						out++
					}
				}
				if got := sum.Lines["gate"]; got != (event.LineCount{In: in, Out: out}) {
					t.Errorf("summary %+v, want in %d out %d", got, in, out)
				}
			})
		}
	}
}

func with2(l Line, f func(*Line)) Line { f(&l); return l }

// A crossing that happens between two analyses, the anchor never seen near
// the line, still counts: the path between the analysed positions crosses.
func TestLineCrossingSkippedOver(t *testing.T) {
	l := line{cfg: gate}
	l.place(frameW, frameH)
	tests := []struct {
		name string
		path []vec
		want []int8
	}{
		{"one jump across", []vec{{320, 100}, {320, 400}}, []int8{0, 1}},
		{"a jump across and back", []vec{{320, 100}, {320, 400}, {300, 60}}, []int8{0, 1, -1}},
		{"a diagonal jump through the segment", []vec{{40, 100}, {600, 400}}, []int8{0, 1}},
		{"a jump across the line beyond the segment", []vec{{600, 100}, {620, 400}}, []int8{0, 0}},
		{"a jump from beside the segment round its end", []vec{{600, 100}, {560, 400}}, []int8{0, 0}},
		{"jitter within the margin", []vec{{320, 200}, {320, 243}, {320, 238}, {320, 242}, {320, 200}}, []int8{0, 0, 0, 0, 0}},
		{"jitter, then away on the far side", []vec{{320, 200}, {320, 243}, {320, 238}, {320, 242}, {320, 300}}, []int8{0, 0, 0, 0, 1}},
		{"a track born on the line", []vec{{320, 238}, {320, 243}, {320, 300}}, []int8{0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lt lineTrack
			var got []int8
			for _, p := range tt.path {
				got = append(got, l.observe(&lt, p, 100))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("crossings %v, want %v", got, tt.want)
			}
		})
	}
}

// station is a zone in the middle of the frame: x 160–480, y 120–360.
var station = Zone{Name: "station", Polygon: []Point{{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}}}

func TestZoneVisits(t *testing.T) {
	// In at x=160 (t=1.4), stays at x=320 from 3 to 8 s, out at x=480 (t=9.6).
	visit := sim.Waypoints([3]float64{0, 20, 300}, [3]float64{3, 320, 300}, [3]float64{8, 320, 300}, [3]float64{11, 620, 300})
	const truth = 9.6 - 1.4
	// On the left edge, jittering across it, from 1 to 4 s; then in.
	edge := sim.Waypoints([3]float64{0, 100, 300}, [3]float64{1, 160, 300}, [3]float64{4, 160, 300}, [3]float64{6, 320, 300}, [3]float64{8, 320, 300}, [3]float64{11, 620, 300})
	tests := []struct {
		name  string
		zone  Zone
		objs  []sim.Object
		want  []string
		dwell []float64 // per exit, the truth
	}{
		{"a visit", station, []sim.Object{person(visit)}, []string{"enter station 1", "exit station 0"}, []float64{truth}},
		{"a visit hidden for 0.5 s inside", station, []sim.Object{with(person(visit), func(o *sim.Object) { o.Hidden = [][2]float64{{5, 5.5}} })},
			[]string{"enter station 1", "exit station 0"}, []float64{truth}},
		{"flicker on the edge enters once", station, []sim.Object{with(person(edge), func(o *sim.Object) { o.JitterPx = 4 })},
			[]string{"enter station 1", "exit station 0"}, []float64{9.6 - 4.0}},
		{"a visit that ends inside: exit when the track ends", station,
			[]sim.Object{with(person(visit), func(o *sim.Object) { o.Out = 6.01 })}, // last seen at 6 s at every rate
			[]string{"enter station 1", "exit station 0"}, []float64{6 - 1.4}},
		{"two at once", station, []sim.Object{person(visit), person(sim.Linear(320, 200, 0, 0, 0))},
			[]string{"enter station 1", "enter station 2", "exit station 1", "exit station 0"}, nil},
		{"a class the zone does not watch", with3(station, func(z *Zone) { z.Classes = []string{"car"} }), []sim.Object{person(visit)}, nil, nil},
		{"the feet below the zone", station, []sim.Object{person(sim.Linear(320, 400, 0, 0, 0))}, nil, nil},
		{"center anchor: the centre in the zone, the feet below", with3(station, func(z *Zone) { z.Anchor = AnchorCenter }),
			[]sim.Object{person(sim.Linear(320, 400, 0, 0, 0))}, []string{"enter station 1", "exit station 0"}, nil},
	}
	for _, fps := range rates {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s at %g fps", tt.name, fps), func(t *testing.T) {
				p := newPlayer(t, Config{Zones: []Zone{tt.zone}}, fps, tt.objs...)
				events := p.play(12)
				if got := short(events, event.TypeZoneEnter, event.TypeZoneExit); !slices.Equal(got, tt.want) {
					t.Errorf("zone events %q, want %q", got, tt.want)
				}
				k := 0
				for _, e := range events {
					if x, ok := e.(*event.ZoneExit); ok && k < len(tt.dwell) {
						// Within half an analysis interval at each end, plus the margin.
						if tol := 1/fps + 0.05; math.Abs(x.DwellS-tt.dwell[k]) > tol {
							t.Errorf("dwell %.2f s, truth %.2f s (±%.2f)", x.DwellS, tt.dwell[k], tol)
						}
						k++
					}
				}
			})
		}
	}
}

func with3(z Zone, f func(*Zone)) Zone { f(&z); return z }

// Each rule fires when its condition holds and again after each cooldown
// while it lasts.
func TestRulesFireAndCooldown(t *testing.T) {
	stays := person(sim.Linear(320, 300, 0, 0, 0)) // in the station throughout
	crossEvery2s := func() []sim.Object {
		var objs []sim.Object
		for k := range 14 {
			t0 := 2 * float64(k)
			objs = append(objs, with(person(sim.Linear(100+40*float64(k%4), 100, 0, 200, t0)), func(o *sim.Object) { o.In, o.Out = t0, t0+1.9 }))
		}
		return objs
	}
	fail := func(s *Scene, ts float64) { s.RecordInspection("cap", "fail", at(ts)) }
	mostlyFail := func(s *Scene, ts float64) {
		state := "fail"
		if int(ts*10)%3 == 0 {
			state = "pass"
		}
		s.RecordInspection("cap", state, at(ts))
	}
	cap := Inspection{Name: "cap", Rect: []float64{0, 0, 0.5, 0.5}, Model: InspectionModel{Dir: "m"}, Pass: []string{"ok"}}
	tests := []struct {
		name   string
		rule   Rule
		objs   []sim.Object
		before func(*Scene, float64)
		want   []float64 // alert times, seconds
	}{
		{"occupancy_above", Rule{When: WhenOccupancyAbove, Zone: "station", CooldownS: 10}, []sim.Object{stays}, nil, []float64{0.1, 10.1, 20.1}},
		{"occupancy_above, not reached", Rule{When: WhenOccupancyAbove, Zone: "station", Count: 1, CooldownS: 10}, []sim.Object{stays}, nil, nil},
		{"empty_for", Rule{When: WhenEmptyFor, Zone: "station", Seconds: 5, CooldownS: 10}, nil, nil, []float64{5, 15, 25}},
		{"empty_for, someone there", Rule{When: WhenEmptyFor, Zone: "station", Seconds: 5}, []sim.Object{stays}, nil, nil},
		{"dwell_above", Rule{When: WhenDwellAbove, Zone: "station", Seconds: 3, CooldownS: 10}, []sim.Object{stays}, nil, []float64{3.1, 13.1, 23.1}},
		{"crossings_below", Rule{When: WhenCrossingsBelow, Line: "gate", Count: 1, Seconds: 5, CooldownS: 10}, nil, nil, []float64{5, 15, 25}},
		{"crossings_below, crossed every 2 s", Rule{When: WhenCrossingsBelow, Line: "gate", Count: 1, Seconds: 5}, crossEvery2s(), nil, nil},
		{"inspection_fail", Rule{When: WhenInspectionFail, Point: "cap", Count: 3, CooldownS: 10}, nil, fail, []float64{0.2, 10.2, 20.2}},
		{"yield_below", Rule{When: WhenYieldBelow, Point: "cap", Percent: 50, Seconds: 5, CooldownS: 10}, nil, mostlyFail, []float64{5, 15, 25}},
		{"yield_below, above", Rule{When: WhenYieldBelow, Point: "cap", Percent: 20, Seconds: 5, CooldownS: 10}, nil, mostlyFail, nil},
	}
	for _, fps := range []float64{10} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.rule.Name = "r"
				cfg := Config{Lines: []Line{gate}, Zones: []Zone{station}, Inspections: []Inspection{cap}, Rules: []Rule{tt.rule}}
				p := newPlayer(t, cfg, fps, tt.objs...)
				p.before = tt.before
				var got []float64
				for _, e := range p.play(26) {
					if a, ok := e.(*event.Alert); ok {
						got = append(got, a.PTSMS/1000)
						if a.Detail == "" {
							t.Error("an alert without detail")
						}
					}
				}
				if len(got) != len(tt.want) {
					t.Fatalf("alerts at %v s, want %v", got, tt.want)
				}
				for i := range got {
					if math.Abs(got[i]-tt.want[i]) > 0.35 { // confirmation and settling take a few analyses
						t.Errorf("alerts at %v s, want %v", got, tt.want)
						break
					}
				}
			})
		}
	}
}

// The alert says what triggered it.
func TestAlertDetail(t *testing.T) {
	cfg := Config{Zones: []Zone{station}, Rules: []Rule{
		{Name: "crowd", When: WhenOccupancyAbove, Zone: "station", Count: 1},
		{Name: "long stay", When: WhenDwellAbove, Zone: "station", Seconds: 2},
		{Name: "empty", When: WhenEmptyFor, Zone: "station", Seconds: 40},
	}}
	p := newPlayer(t, cfg, 10, person(sim.Linear(320, 300, 0, 0, 0)), person(sim.Linear(250, 300, 0, 0, 0)))
	var details []string
	for _, e := range p.play(3) {
		if a, ok := e.(*event.Alert); ok {
			details = append(details, a.Rule+": "+a.Detail)
		}
	}
	want := []string{"crowd: 2 in station (more than 1)", "long stay: person 1 in station for 2.1 s (more than 2.0 s)"}
	if !slices.Equal(details, want) {
		t.Errorf("details %q, want %q", details, want)
	}
	p = newPlayer(t, cfg, 10)
	details = details[:0]
	for _, e := range p.play(41) {
		if a, ok := e.(*event.Alert); ok {
			details = append(details, a.Detail)
		}
	}
	if want := []string{"station empty for 40 s"}; !slices.Equal(details, want) {
		t.Errorf("details %q, want %q (the contract's example)", details, want)
	}
}

// Tracks start once confirmed, carry their ID on the analysis's objects
// and people, and end (after their zone exits) at Finish.
func TestTrackEventsAndLabels(t *testing.T) {
	s, err := New(Config{Tracking: Tracking{Classes: []string{"person"}}, Zones: []Zone{station}})
	if err != nil {
		t.Fatal(err)
	}
	var events []event.Event
	var objs []analyzer.Object
	var people []analyzer.Person
	for k := range 5 {
		b := analyzer.BoundingBox{X: 300 + 2*k, Y: 200, W: 40, H: 100}
		objs = []analyzer.Object{{Name: "person", Confidence: 0.9, BoundingBox: b},
			{Name: "car", Confidence: 0.9, BoundingBox: analyzer.BoundingBox{X: 10, Y: 10, W: 100, H: 50}}}
		people = []analyzer.Person{{Confidence: 0.9, BoundingBox: b}}
		ts := at(float64(k) / 10)
		events = s.Update(Frame{At: event.AtFrame(int64(k), ts), T: ts, Width: frameW, Height: frameH, Objects: objs, People: people}, events)
		if wantID := map[bool]int{true: 1, false: 0}[k >= 2]; objs[0].TrackID != wantID || people[0].TrackID != wantID {
			t.Errorf("analysis %d: person track_id %d, people %d, want %d", k, objs[0].TrackID, people[0].TrackID, wantID)
		}
		if objs[1].TrackID != 0 {
			t.Error("a car was tracked; tracking.classes is person only")
		}
	}
	events = s.Finish(event.AtFrame(5, at(0.5)), at(0.5), events)
	want := []string{"track start 1 person", "enter station 1", "exit station 0", "track end 1 person"}
	if got := short(events); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	end := events[len(events)-1].(*event.Track)
	if end.DurationS == nil || math.Abs(*end.DurationS-0.4) > 1e-9 {
		t.Errorf("duration %v, want 0.4 s (first to last seen)", end.DurationS)
	}
	var sum event.Summary
	s.Summary(&sum)
	if sum.Tracks["person"] != 1 || len(sum.Tracks) != 1 || sum.Zones["station"] != (event.ZoneCount{Entries: 1, MaxOccupancy: 1}) {
		t.Errorf("summary tracks %v zones %v", sum.Tracks, sum.Zones)
	}
}

// Without objects, people are tracked as persons.
func TestTracksPeopleWithoutObjects(t *testing.T) {
	s, _ := New(Config{})
	var people []analyzer.Person
	for k := range 4 {
		people = []analyzer.Person{{Confidence: 0.9, BoundingBox: analyzer.BoundingBox{X: 100, Y: 100, W: 40, H: 100}}}
		s.Update(Frame{T: at(float64(k) / 10), Width: frameW, Height: frameH, People: people}, nil)
	}
	if people[0].TrackID != 1 {
		t.Errorf("person track_id %d, want 1", people[0].TrackID)
	}
}

// Verdicts are counted once, by internal/inspect: the scene records them
// for its rules and leaves the summary's inspections alone.
func TestRecordInspectionLeavesSummary(t *testing.T) {
	cap := Inspection{Name: "cap", Rect: []float64{0, 0, 0.5, 0.5}, Model: InspectionModel{Dir: "m"}, Pass: []string{"ok"}}
	s, _ := New(Config{Inspections: []Inspection{cap}})
	for _, v := range []string{"pass", "fail", "review", "pass", "bogus"} {
		s.RecordInspection("cap", v, 0)
	}
	s.RecordInspection("nozzle", "pass", 0)
	sum := event.Summary{Inspections: map[string]event.InspectionCount{"cap": {Pass: 7}}}
	s.Summary(&sum)
	if got := sum.Inspections; len(got) != 1 || got["cap"] != (event.InspectionCount{Pass: 7}) {
		t.Errorf("the scene changed the inspections' counts: %v", got)
	}
}

func TestInspectionContains(t *testing.T) {
	rect := Inspection{Rect: []float64{0.2, 0.1, 0.4, 0.5}}
	tri := Inspection{Polygon: []Point{{0.5, 0.1}, {0.9, 0.9}, {0.1, 0.9}}}
	tests := []struct {
		name string
		in   Inspection
		p    Point
		want bool
	}{
		{"rect centre", rect, Point{0.4, 0.35}, true},
		{"rect left of it", rect, Point{0.1, 0.35}, false},
		{"rect below it", rect, Point{0.4, 0.7}, false},
		{"triangle centre", tri, Point{0.5, 0.6}, true},
		{"triangle's empty corner", tri, Point{0.15, 0.2}, false},
	}
	for _, tt := range tests {
		if got := tt.in.Contains(tt.p); got != tt.want {
			t.Errorf("%s: Contains(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(10, func() { tri.Contains(Point{0.5, 0.6}) }); n != 0 {
		t.Errorf("Contains allocates %v times", n)
	}
}

// The view shows a zone and a line in alarm while their rules hold, with
// the alerts, and clears them when the conditions end.
func TestViewAlarms(t *testing.T) {
	cfg := Config{Lines: []Line{gate}, Zones: []Zone{station}, Rules: []Rule{
		{Name: "occupied", When: WhenOccupancyAbove, Zone: "station"},
		{Name: "stopped", When: WhenCrossingsBelow, Line: "gate", Count: 1, Seconds: 1},
	}}
	// In the station from 0 to 2 s, then away beyond the gate's end.
	visitor := person(sim.Waypoints([3]float64{0, 320, 300}, [3]float64{2, 320, 300}, [3]float64{3, 620, 300}))
	p := newPlayer(t, cfg, 10, visitor)
	var v View
	check := func(when string, zoneAlarm, lineAlarm bool, alerts ...string) {
		t.Helper()
		p.scene.View(&v)
		var got []string
		for _, a := range v.Alerts {
			got = append(got, a.Rule)
			if a.Detail == "" {
				t.Errorf("%s: alert %s without detail", when, a.Rule)
			}
		}
		if v.Zones[0].Alarm != zoneAlarm || v.Lines[0].Alarm != lineAlarm || !slices.Equal(got, alerts) {
			t.Errorf("%s: zone alarm %v, line alarm %v, alerts %q; want %v, %v, %q", when, v.Zones[0].Alarm, v.Lines[0].Alarm, got, zoneAlarm, lineAlarm, alerts)
		}
	}
	p.run(0.5)
	check("someone in the station", true, false, "occupied")
	p.run(1.5)
	check("and nobody crossed the gate for a second", true, true, "occupied", "stopped")
	p.run(4)
	check("the station empty", false, true, "stopped")
	if v.Width != frameW || v.Zones[0].Polygon[1] != image.Pt(480, 120) || v.Lines[0].A != image.Pt(64, 240) {
		t.Errorf("view geometry %dx%d, zone %v, line %v", v.Width, v.Height, v.Zones[0].Polygon, v.Lines[0].A)
	}
}
