package scene_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/scene/track"
)

// Real detections: YOLOX-nano's person boxes (confidence ≥ 0.1) on every
// frame of two clips, recorded by the realvideo harness
// (go test -tags realvideo ./internal/scene/, which writes them as
// *-people.csv.gz): vtest.avi, and the visits clip made from it. Replaying
// them checks the tracker on real, flickering boxes in milliseconds and
// without the model.

// detFrame is one analysed frame of a clip.
type detFrame struct {
	Objects []analyzer.Object `json:"objects"`
}

// loadPeople reads a *-people.csv.gz fixture.
func loadPeople(t *testing.T, path string) []detFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan() // the header
	var frames []detFrame
	for sc.Scan() {
		var i int
		var o analyzer.Object
		b := &o.BoundingBox
		if _, err := fmt.Sscanf(sc.Text(), "%d,%d,%d,%d,%d,%g", &i, &b.X, &b.Y, &b.W, &b.H, &o.Confidence); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		o.Name = "person"
		for len(frames) <= i {
			frames = append(frames, detFrame{Objects: []analyzer.Object{}})
		}
		frames[i].Objects = append(frames[i].Objects, o)
	}
	return frames
}

// result is what a scene made of a clip.
type result struct {
	events  []event.Event
	summary event.Summary
	// views and objects of every frame (nil unless kept), for drawing;
	// frames between analyses hold the latest.
	views   []scene.View
	objects [][]analyzer.Object
}

// playScene feeds a clip's detections, recorded at fps, to a scene,
// analysing every step-th frame (an analysis rate of fps/step).
func playScene(t *testing.T, cfg scene.Config, frames []detFrame, fps float64, step, w, h int, keep bool) result {
	return playTracked(t, cfg, track.Options{}, frames, fps, step, w, h, keep)
}

// playTracked is playScene with the tracker's options.
func playTracked(t *testing.T, cfg scene.Config, o track.Options, frames []detFrame, fps float64, step, w, h int, keep bool) result {
	t.Helper()
	s, err := scene.NewWithTracker(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	var r result
	if keep {
		r.views = make([]scene.View, len(frames))
		r.objects = make([][]analyzer.Object, len(frames))
	}
	var last event.At
	var lastT time.Duration
	for i := 0; i < len(frames); i += step {
		objs := append([]analyzer.Object(nil), frames[i].Objects...)
		lastT = time.Duration(float64(i) / fps * float64(time.Second))
		last = event.AtFrame(int64(i), lastT)
		r.events = s.Update(scene.Frame{At: last, T: lastT, Width: w, Height: h, Objects: objs}, r.events)
		if keep {
			for k := i; k < min(i+step, len(frames)); k++ {
				s.View(&r.views[k])
				r.objects[k] = objs
			}
		}
	}
	r.events = s.Finish(last, lastT, r.events)
	s.Summary(&r.summary)
	return r
}

// walkway is a line across vtest's walkway and the parking area above it,
// drawn top to bottom: "in" is walking right to left.
var walkway = scene.Line{Name: "walkway", Points: []scene.Point{{X: 0.365, Y: 0.29}, {X: 0.365, Y: 0.60}},
	Classes: []string{"person"}}

// vtest's walkway counts at 10 analyses a second, each crossing checked
// by eye on the annotated clip (see the realvideo harness).
const vtestIn, vtestOut = 15, 11

// The walkway counts hold from vtest's 10 analyses a second down to 2;
// without the time-scaled buffer on IoU they collapse at low rates (2 a
// second: 1 in, 4 out).
func TestRealVtestWalkway(t *testing.T) {
	frames := loadPeople(t, "testdata/vtest-people.csv.gz")
	cfg := scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Lines: []scene.Line{walkway}}
	for _, step := range []int{1, 2, 3, 5} {
		r := playScene(t, cfg, frames, 10, step, 768, 576, false)
		c := r.summary.Lines["walkway"]
		t.Logf("%4.1f analyses/s: %d person tracks, in %d out %d", 10/float64(step), r.summary.Tracks["person"], c.In, c.Out)
		tol := 2
		if step == 1 {
			tol = 0
		}
		if abs(c.In-vtestIn) > tol || abs(c.Out-vtestOut) > tol {
			t.Errorf("%.1f analyses/s: in %d out %d, want %d and %d (±%d)", 10/float64(step), c.In, c.Out, vtestIn, vtestOut, tol)
		}
	}
}

func abs(v int) int { return max(v, -v) }

// room is the zone the visitors of the visits clip stay in.
var room = scene.Zone{Name: "room", Classes: []string{"person"},
	Polygon: []scene.Point{{X: 0.30, Y: 0.47}, {X: 0.52, Y: 0.47}, {X: 0.52, Y: 0.70}, {X: 0.30, Y: 0.70}}}

// visitDwell is each visit's time in the room in the visits clip, from its
// known path (the realvideo harness's schedule), in seconds.
var visitDwell = []float64{6.86, 13.99, 10.46, 22.57}

// On the visits clip, every visit is one person track and one stay in the
// room, whose dwell is within 2 s of the truth, from 10 analyses a second
// down to 2.
func TestRealVisits(t *testing.T) {
	frames := loadPeople(t, "testdata/visits-people.csv.gz")
	cfg := scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Zones: []scene.Zone{room}}
	for _, step := range []int{1, 2, 3, 5} {
		rate := 10 / float64(step)
		r := playScene(t, cfg, frames, 10, step, 768, 576, false)
		var dwell []float64
		for _, e := range r.events {
			if x, ok := e.(*event.ZoneExit); ok {
				dwell = append(dwell, x.DwellS)
			}
		}
		if tracks := r.summary.Tracks["person"]; tracks != len(visitDwell) || len(dwell) != len(visitDwell) {
			t.Errorf("%.1f analyses/s: %d person tracks and %d stays, want %d of each", rate, tracks, len(dwell), len(visitDwell))
			continue
		}
		worst := 0.0
		for i, d := range dwell {
			worst = max(worst, math.Abs(d-visitDwell[i]))
		}
		t.Logf("%4.1f analyses/s: dwell %.2f s, worst error %.2f s", rate, dwell, worst)
		if worst > 2 {
			t.Errorf("%.1f analyses/s: dwell %.2f s, truth %.2f s", rate, dwell, visitDwell)
		}
	}
}

// TestTrackerAblation shows, on the real detections, what each part of
// the tracker is worth: the defaults, then one change at a time, as a
// table (go test -run Ablation -v ./internal/scene/). It checks only that
// ByteTrack's plain IoU loses the walkway's crossings at 2 analyses a
// second, which the time-scaled buffer exists to keep.
func TestTrackerAblation(t *testing.T) {
	vtestFrames := loadPeople(t, "testdata/vtest-people.csv.gz")
	visitFrames := loadPeople(t, "testdata/visits-people.csv.gz")
	cfg := scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Lines: []scene.Line{walkway}, Zones: []scene.Zone{room}}
	variants := []struct {
		name       string
		o          track.Options
		losesAt2Hz bool // loses the walkway's counts at 2 analyses a second
	}{
		{"defaults", track.Options{}, false},
		{"ByteTrack's plain IoU (no buffer)", track.Options{BufferPerSecond: 1e-9, BufferMax: 1e-9}, true},
		{"no low-confidence stage", track.Options{LowScore: 0.4999}, false},
		{"confirmed after 2 analyses", track.Options{ConfirmHits: 2}, false},
		{"confident from 0.4, new from 0.5", track.Options{HighScore: 0.4, NewScore: 0.5}, false},
		{"confident from 0.6, new from 0.7", track.Options{HighScore: 0.6, NewScore: 0.7}, false},
		{"looser first match (0.9)", track.Options{MatchHigh: 0.9}, false},
	}
	t.Logf("%-36s %s", "variant", "per analysis rate 10 | 5 | 3.3 | 2 a second: vtest tracks, walkway in/out; visits tracks/stays")
	for _, v := range variants {
		row := ""
		for _, step := range []int{1, 2, 3, 5} {
			a := playTracked(t, cfg, v.o, vtestFrames, 10, step, 768, 576, false).summary
			b := playTracked(t, cfg, v.o, visitFrames, 10, step, 768, 576, false).summary
			row += fmt.Sprintf(" | %2d %2d/%-2d %d/%d", a.Tracks["person"], a.Lines["walkway"].In, a.Lines["walkway"].Out,
				b.Tracks["person"], b.Zones["room"].Entries)
			if c := a.Lines["walkway"]; step == 5 && v.losesAt2Hz != (abs(c.In-vtestIn)+abs(c.Out-vtestOut) > 4) {
				t.Errorf("%s at 2 analyses/s: in %d out %d (verified: %d and %d)", v.name, c.In, c.Out, vtestIn, vtestOut)
			}
		}
		t.Logf("%-36s%s", v.name, row)
	}
}
