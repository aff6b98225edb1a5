package track

import (
	"fmt"
	"github.com/sightline/sightline/internal/scene/sim"
	"slices"
	"testing"
	"time"
)

// walker is a person 40×100 px walking at speed px/s from x0 along y,
// in view for the whole run.
func walker(x0, y, speed float64) sim.Object {
	return sim.Object{Class: "person", W: 40, H: 100, Path: sim.Linear(x0, y, speed, 0, 0),
		In: 0, Out: 1e9, Score: 0.8, JitterPx: 2}
}

func with(o sim.Object, f func(*sim.Object)) sim.Object { f(&o); return o }

// TestTrackerGroundTruth runs synthetic scenes with known identities at
// the rates Sightline analyses at, and checks each object's IDs.
func TestTrackerGroundTruth(t *testing.T) {
	tests := func(fps float64) []struct {
		name string
		objs []sim.Object
		dur  float64
		want []int
	} {
		return []struct {
			name string
			objs []sim.Object
			dur  float64
			// want is, per object, how many IDs it should have had in turn.
			want []int
		}{
			{"one walker", []sim.Object{walker(100, 300, 100)}, 5, []int{1}},
			{"crossing paths", []sim.Object{walker(100, 300, 100), walker(700, 330, -100)}, 6, []int{1, 1}},
			{"swap places, the far one hidden while they overlap", []sim.Object{
				walker(100, 300, 100),
				with(walker(700, 300, -100), func(o *sim.Object) { o.Hidden = [][2]float64{{2.8, 3.2}} }),
			}, 6, []int{1, 1}},
			{"occluded for 0.5 s", []sim.Object{
				with(walker(100, 300, 100), func(o *sim.Object) { o.Hidden = [][2]float64{{2, 2.5}} }),
			}, 5, []int{1}},
			{"gone for 1.5 s: a new track", []sim.Object{
				with(walker(100, 300, 100), func(o *sim.Object) { o.Hidden = [][2]float64{{2, 3.5}} }),
			}, 6, []int{2}},
			{"low confidence for 2 s keeps its track", []sim.Object{
				with(walker(100, 300, 100), func(o *sim.Object) { o.LowScore, o.LowFrom, o.LowTo = 0.3, 2, 4 }),
			}, 6, []int{1}},
			{"a false box on two analyses gets no ID", []sim.Object{
				with(walker(300, 300, 0), func(o *sim.Object) { o.In, o.Out = 1, 1+1.5/fps }),
			}, 3, []int{0}},
			{"a rider and a bicycle keep their classes", []sim.Object{
				walker(100, 300, 100),
				with(walker(100, 300, 100), func(o *sim.Object) { o.Class = "bicycle"; o.H = 60 }),
			}, 5, []int{1, 1}},
			{"a parked and a passing car", []sim.Object{
				with(walker(400, 300, 0), func(o *sim.Object) { o.Class, o.W, o.H = "car", 160, 80 }),
				with(walker(0, 310, 300), func(o *sim.Object) { o.Class, o.W, o.H = "car", 160, 80 }),
			}, 3, []int{1, 1}},
		}
	}
	for _, fps := range []float64{3, 10, 30, 60} {
		for _, tt := range tests(fps) {
			t.Run(fmt.Sprintf("%s at %g fps", tt.name, fps), func(t *testing.T) {
				res := simulate(tt.objs, fps, tt.dur, Options{})
				var all []int
				for i, ids := range res.ids {
					d := distinct(ids)
					if len(d) != tt.want[i] {
						t.Errorf("object %d had IDs %v, want %d of them (per analysis: %v)", i, d, tt.want[i], ids)
					}
					for _, id := range d {
						if slices.Contains(all, id) {
							t.Errorf("ID %d given to two objects", id)
						}
						all = append(all, id)
					}
				}
				if !slices.Equal(sortedCopy(res.starts), sortedCopy(all)) {
					t.Errorf("started %v, but detections carried %v", res.starts, all)
				}
				if !slices.Equal(sortedCopy(res.ended), sortedCopy(res.starts)) {
					t.Errorf("ended %v, started %v: every track must end once", res.ended, res.starts)
				}
			})
		}
	}
}

func sortedCopy(s []int) []int { s = slices.Clone(s); slices.Sort(s); return s }

// A confirmed track that disappears ends LostAfter later, not a number of
// frames later: at 3 and at 30 analyses a second alike.
func TestTrackEndsAfterLostAfter(t *testing.T) {
	for _, fps := range []float64{3, 30} {
		tr := New(Options{LostAfter: 700 * time.Millisecond})
		box := Box{100, 100, 140, 200}
		var endedAt time.Duration
		for k := 0; endedAt == 0 && k < 100; k++ {
			now := time.Duration(float64(k) / fps * float64(time.Second))
			var dets []Detection
			if now < time.Second {
				dets = []Detection{{Box: box, Score: 0.9, Class: "person"}}
			}
			tr.Update(now, dets)
			if len(tr.Ended()) > 0 {
				endedAt = now
			}
		}
		lastSeen := time.Duration(float64(int(1*fps-1e-9)) / fps * float64(time.Second))
		if gone := endedAt - lastSeen; gone <= 700*time.Millisecond || gone > 701*time.Millisecond+time.Duration(float64(time.Second)/fps) {
			t.Errorf("%g fps: ended %v after it was last seen, want just over 700ms", fps, gone)
		}
	}
}

// Confirmation waits for ConfirmHits consecutive analyses.
func TestConfirmHits(t *testing.T) {
	for _, hits := range []int{1, 2, 3, 5} {
		tr := New(Options{ConfirmHits: hits})
		for k := 1; k <= 6; k++ {
			tr.Update(time.Duration(k)*100*time.Millisecond, []Detection{{Box: Box{0, 0, 40, 100}, Score: 0.9, Class: "person"}})
			if confirmed := len(tr.Confirmed()) == 1; confirmed != (k == hits) {
				t.Errorf("ConfirmHits %d: confirmed on analysis %d = %v", hits, k, confirmed)
			}
		}
	}
}
