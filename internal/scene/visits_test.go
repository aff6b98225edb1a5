//go:build realvideo

package scene_test

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// The visits clip: a person cut out of vtest walks into a "room" on
// vtest's empty background, stays, and walks out of the frame, one visit
// at a time, with known times, so that tracks and dwell can be checked
// against the truth.

const visitsFPS = 10

// visit is one visitor's stay: walk in from the left edge to stand, stay,
// walk back out.
type visit struct {
	start float64    // seconds into the clip
	stand [2]float64 // where the feet stand, pixels
	stay  float64    // seconds standing
}

// visits follow each other with the frame empty for 3 s between them:
// longer than lost_after_s, or one visitor's track would be the next's.
var visits = schedule(3, []visit{
	{stand: [2]float64{330, 340}, stay: 4},
	{stand: [2]float64{300, 320}, stay: 12},
	{stand: [2]float64{350, 360}, stay: 7},
	{stand: [2]float64{320, 335}, stay: 20},
})

// schedule starts each visit gap seconds after the one before has left.
func schedule(gap float64, vs []visit) []visit {
	t := 1.0
	for i := range vs {
		vs[i].start = t
		t += vs[i].duration() + gap
	}
	return vs
}

// duration is how long the visitor is in the picture, give or take the
// time the sprite takes to cross the frame's edge.
func (v visit) duration() float64 {
	return 2*math.Hypot(v.stand[0]-entryX, v.stand[1]-entryY)/walkSpeed + v.stay
}

const (
	entryX, entryY = -40.0, 300.0 // off the left edge
	walkSpeed      = 70.0         // px/s, about vtest's walkers
)

// feet is where visit v's feet are at t, and whether the visitor walks (and
// which way: +1 right, −1 left) or stands (0); ok is false outside the visit.
func (v visit) feet(t float64) (x, y float64, walking int, ok bool) {
	walk := (v.duration() - v.stay) / 2
	f := (t - v.start) / walk
	switch in := t - v.start; {
	case in < 0 || in > v.duration():
		return 0, 0, 0, false
	case in < walk:
		return entryX + f*(v.stand[0]-entryX), entryY + f*(v.stand[1]-entryY), 1, true
	case in < walk+v.stay:
		return v.stand[0], v.stand[1], 0, true
	}
	f = (t - v.start - walk - v.stay) / walk
	return v.stand[0] + f*(entryX-v.stand[0]), v.stand[1] + f*(entryY-v.stand[1]), -1, true
}

// truth is the time visit v's feet spend in the room, to the millisecond.
func (v visit) truth(w, h int) (enter, leave float64) {
	enter = -1
	for t := v.start; t < v.start+200; t += 0.001 {
		x, y, _, ok := v.feet(t)
		if !ok && enter >= 0 {
			break
		}
		if ok && insideRoom(x, y, w, h) {
			if enter < 0 {
				enter = t
			}
			leave = t
		}
	}
	return enter, leave
}

func insideRoom(x, y float64, w, h int) bool {
	p := room.Polygon
	return x >= p[0].X*float64(w) && x <= p[1].X*float64(w) && y >= p[0].Y*float64(h) && y <= p[2].Y*float64(h)
}

// medianBackground is the per-pixel median of n frames spread over clip:
// the scene without the people walking through it.
func medianBackground(t *testing.T, clip string, n int) gocv.Mat {
	t.Helper()
	var all [][]byte
	var w, h int
	k := 0
	eachFrame(t, clip, func(img gocv.Mat) {
		if k%13 == 0 && len(all) < n {
			all = append(all, img.ToBytes())
			w, h = img.Cols(), img.Rows()
		}
		k++
	})
	out := make([]byte, len(all[0]))
	vals := make([]byte, len(all))
	for i := range out {
		for j, f := range all {
			vals[j] = f[i]
		}
		slices.Sort(vals)
		out[i] = vals[len(vals)/2]
	}
	bg, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, out)
	if err != nil {
		t.Fatal(err)
	}
	return bg
}

// sprite is a person cut out of a real frame: pixels and mask of the box.
type sprite struct{ img, mask gocv.Mat }

func (s sprite) close() { s.img.Close(); s.mask.Close() }

// cutSprites follows the person detection nearest start through frames
// [from, to] of clip and cuts each out of its frame where it differs from
// the background.
func cutSprites(t *testing.T, clip string, dets []detFrame, bg gocv.Mat, from, to int, start image.Point) []sprite {
	t.Helper()
	var out []sprite
	at := start
	i := 0
	kernel := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(5, 5))
	defer kernel.Close()
	eachFrame(t, clip, func(img gocv.Mat) {
		defer func() { i++ }()
		if i < from || i > to {
			return
		}
		best, bestD := image.Rectangle{}, math.Inf(1)
		for _, o := range dets[i].Objects {
			b := o.BoundingBox
			r := image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H)
			c := r.Min.Add(r.Max).Div(2)
			if d := math.Hypot(float64(c.X-at.X), float64(c.Y-at.Y)); o.Name == "person" && o.Confidence > 0.5 && d < bestD {
				best, bestD = r, d
			}
		}
		if bestD > 30 {
			t.Fatalf("frame %d: lost the person near %v", i, at)
		}
		at = best.Min.Add(best.Max).Div(2)
		box := best.Inset(-4).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
		roi, bgRoi := img.Region(box), bg.Region(box)
		defer roi.Close()
		defer bgRoi.Close()
		diff, gray, mask := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
		defer diff.Close()
		defer gray.Close()
		gocv.AbsDiff(roi, bgRoi, &diff)
		gocv.CvtColor(diff, &gray, gocv.ColorBGRToGray)
		gocv.Threshold(gray, &mask, 25, 255, gocv.ThresholdBinary)
		gocv.MorphologyEx(mask, &mask, gocv.MorphClose, kernel)
		out = append(out, sprite{img: roi.Clone(), mask: mask})
	})
	return out
}

// paste draws s scaled by scale with its bottom centre at feet, flipped
// left-right when flip is set, clipped to the frame.
func paste(dst *gocv.Mat, s sprite, feet image.Point, scale float64, flip bool) {
	w, h := int(float64(s.img.Cols())*scale), int(float64(s.img.Rows())*scale)
	img, mask := gocv.NewMat(), gocv.NewMat()
	defer img.Close()
	defer mask.Close()
	gocv.Resize(s.img, &img, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	gocv.Resize(s.mask, &mask, image.Pt(w, h), 0, 0, gocv.InterpolationNearestNeighbor)
	if flip {
		gocv.Flip(img, &img, 1)
		gocv.Flip(mask, &mask, 1)
	}
	r := image.Rect(feet.X-w/2, feet.Y-h, feet.X-w/2+w, feet.Y)
	vis := r.Intersect(image.Rect(0, 0, dst.Cols(), dst.Rows()))
	if vis.Empty() {
		return
	}
	src := vis.Sub(r.Min)
	si, sm, d := img.Region(src), mask.Region(src), dst.Region(vis)
	defer si.Close()
	defer sm.Close()
	defer d.Close()
	si.CopyToWithMask(&d, sm)
}

// makeVisits writes the visits clip to path and returns its length in
// seconds.
func makeVisits(t *testing.T, dets []detFrame, path string) float64 {
	t.Helper()
	bg := medianBackground(t, vtest, 61)
	defer bg.Close()
	gocv.IMWrite(filepath.Join(filepath.Dir(path), "visits-background.png"), bg)
	// vtest's man in the dark jacket: walking right (frames 444-468),
	// about standing near the walkway line (frames 400-430).
	walking := cutSprites(t, vtest, dets, bg, 444, 468, image.Pt(312, 244))
	standing := cutSprites(t, vtest, dets, bg, 400, 430, image.Pt(288, 240))
	defer func() {
		for _, s := range append(walking, standing...) {
			s.close()
		}
	}()
	last := visits[len(visits)-1]
	_, leave := last.truth(bg.Cols(), bg.Rows())
	end := leave + 8
	enc := newEncoder(t, path, bg.Cols(), bg.Rows(), visitsFPS)
	frame := gocv.NewMat()
	defer frame.Close()
	for k := 0; float64(k)/visitsFPS < end; k++ {
		ts := float64(k) / visitsFPS
		bg.CopyTo(&frame)
		for _, v := range visits {
			x, y, walk, ok := v.feet(ts)
			if !ok {
				continue
			}
			feet := image.Pt(int(math.Round(x)), int(math.Round(y)))
			scale := 1 + (y-290)/300 // nearer the camera, bigger
			if walk != 0 {
				paste(&frame, walking[k%len(walking)], feet, scale, walk < 0)
			} else {
				paste(&frame, standing[(k/2)%len(standing)], feet, scale, false)
			}
		}
		enc.write(t, frame)
	}
	enc.close(t)
	return end
}

// TestVisits makes the visits clip, runs YOLOX and a scene with the room
// on it at several analysis rates, and checks that each visit is one
// person track and that each visit's dwell is within 2 s of the truth.
func TestVisits(t *testing.T) {
	dir := outDir(t)
	// The clip and its detections are kept for the schedule they show.
	h := fnv.New32a()
	fmt.Fprint(h, visits)
	key := fmt.Sprintf("visits-%08x", h.Sum32())
	clip := filepath.Join(dir, key+".mp4")
	if _, err := os.Stat(clip); err != nil {
		vdets := detectClip(t, vtest, filepath.Join(dir, "vtest-dets.json"), 0.1)
		os.Remove(filepath.Join(dir, key+"-dets.json"))
		makeVisits(t, vdets, clip)
	}
	frames := detectClip(t, clip, filepath.Join(dir, key+"-dets.json"), 0.1)
	writePeople(t, frames, filepath.Join(dir, "visits-people.csv.gz"))
	cfg := scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Zones: []scene.Zone{room}}
	for _, step := range []int{1, 2, 3, 5} {
		r := playScene(t, cfg, frames, visitsFPS, step, 768, 576, step == 1)
		rate := visitsFPS / float64(step)
		var dwell []float64
		for _, e := range r.events {
			if x, ok := e.(*event.ZoneExit); ok {
				dwell = append(dwell, x.DwellS)
			}
		}
		tracks := r.summary.Tracks["person"]
		t.Logf("%4.1f analyses/s: %d person tracks, %d room visits, dwell %s", rate, tracks, len(dwell), fmtSecs(dwell))
		if tracks != len(visits) || len(dwell) != len(visits) {
			t.Errorf("%.1f analyses/s: %d person tracks and %d visits, want %d of each", rate, tracks, len(dwell), len(visits))
			continue
		}
		var worst float64
		for i, v := range visits {
			enter, leave := v.truth(768, 576)
			d := dwell[i] - (leave - enter)
			worst = max(worst, math.Abs(d))
			if math.Abs(d) > 2 {
				t.Errorf("%.1f analyses/s: visit %d dwell %.2f s, truth %.2f s", rate, i+1, dwell[i], leave-enter)
			}
		}
		t.Logf("%4.1f analyses/s: worst dwell error %.2f s", rate, worst)
		if step == 1 {
			annotate(t, clip, r, visitsFPS, filepath.Join(dir, "visits-scene.mp4"))
		}
	}
	for i, v := range visits {
		enter, leave := v.truth(768, 576)
		t.Logf("visit %d: in the room from %.2f to %.2f s", i+1, enter, leave)
		if math.Abs(leave-enter-visitDwell[i]) > 0.005 {
			t.Errorf("visit %d lasts %.2f s; the fixture's truth (visitDwell) says %.2f s", i+1, leave-enter, visitDwell[i])
		}
	}
}

func fmtSecs(s []float64) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%.2f", v)
	}
	return out + "] s"
}
