// Package sim moves ground-truth objects through a synthetic scene, for
// the tests of the tracker and of scenes: each object's box, visibility
// and score at any time are known, so tests can check IDs, crossings and
// dwell against the truth.
package sim

import "math/rand/v2"

// Object is a box of W×H pixels whose anchor follows Path (seconds →
// pixels), in view from In to Out seconds except while Hidden, detected
// with Score (LowScore from LowFrom to LowTo), its edges jittered by up to
// JitterPx. The anchor is the box's centre, or with Feet its bottom centre.
type Object struct {
	Class          string
	W, H           float64
	Path           func(t float64) (x, y float64)
	Feet           bool
	In, Out        float64
	Hidden         [][2]float64
	Score          float64
	LowScore       float64
	LowFrom, LowTo float64
	JitterPx       float64
}

// Visible reports whether the object is detected at t.
func (o Object) Visible(t float64) bool {
	if t < o.In || t >= o.Out {
		return false
	}
	for _, h := range o.Hidden {
		if t >= h[0] && t < h[1] {
			return false
		}
	}
	return true
}

// ScoreAt is the detection's score at t.
func (o Object) ScoreAt(t float64) float64 {
	if t >= o.LowFrom && t < o.LowTo {
		return o.LowScore
	}
	return o.Score
}

// Box is the detected box at t: left, top, right, bottom.
func (o Object) Box(t float64, rng *rand.Rand) (x1, y1, x2, y2 float64) {
	x, y := o.Path(t)
	if o.Feet {
		y -= o.H / 2
	}
	j := func() float64 {
		if o.JitterPx == 0 {
			return 0
		}
		return (rng.Float64()*2 - 1) * o.JitterPx
	}
	return x - o.W/2 + j(), y - o.H/2 + j(), x + o.W/2 + j(), y + o.H/2 + j()
}

// Linear moves from (x0, y0) at t0 at (vx, vy) pixels a second.
func Linear(x0, y0, vx, vy, t0 float64) func(float64) (float64, float64) {
	return func(t float64) (float64, float64) { return x0 + vx*(t-t0), y0 + vy*(t-t0) }
}

// Waypoints moves through (t, x, y) points in turn, straight between
// them, and stays at the first before it and at the last after it.
func Waypoints(pts ...[3]float64) func(float64) (float64, float64) {
	return func(t float64) (float64, float64) {
		if t <= pts[0][0] {
			return pts[0][1], pts[0][2]
		}
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			if t <= b[0] {
				f := (t - a[0]) / (b[0] - a[0])
				return a[1] + f*(b[1]-a[1]), a[2] + f*(b[2]-a[2])
			}
		}
		last := pts[len(pts)-1]
		return last[1], last[2]
	}
}

// Rand is the deterministic source tests use for jitter.
func Rand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
