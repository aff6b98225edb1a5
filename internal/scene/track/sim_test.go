package track

import (
	"math/rand/v2"
	"time"
)

// object is a ground-truth object moving through a synthetic scene: a box
// of W×H centred on path(t), in view from In to Out seconds except while
// Hidden, detected with Score (LowFrom..LowTo: with LowScore instead).
type object struct {
	Class    string
	W, H     float64
	Path     func(t float64) (x, y float64)
	In, Out  float64
	Hidden   [][2]float64
	Score    float64
	LowScore float64
	LowFrom  float64
	LowTo    float64
	JitterPx float64 // uniform noise on each box edge
}

func (o object) visible(t float64) bool {
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

// linear moves from (x0, y0) at t0 at (vx, vy) pixels a second.
func linear(x0, y0, vx, vy, t0 float64) func(float64) (float64, float64) {
	return func(t float64) (float64, float64) { return x0 + vx*(t-t0), y0 + vy*(t-t0) }
}

// simulation runs a tracker over objects at fps for dur seconds and records,
// per object, the track ID its detection carried at each analysis (0 while
// unconfirmed or unmatched).
type simulation struct {
	ids    [][]int // per object, per analysis where it was visible
	ended  []int   // IDs in the order they ended
	starts []int
}

func simulate(objs []object, fps, dur float64, opts Options) simulation {
	tr := New(opts)
	rng := rand.New(rand.NewPCG(1, 2))
	sim := simulation{ids: make([][]int, len(objs))}
	var dets []Detection
	var owner []int
	n := int(dur * fps)
	for k := 0; k <= n; k++ {
		t := float64(k) / fps
		dets, owner = dets[:0], owner[:0]
		for i, o := range objs {
			if !o.visible(t) {
				continue
			}
			x, y := o.Path(t)
			j := func() float64 { return (rng.Float64()*2 - 1) * o.JitterPx }
			score := o.Score
			if t >= o.LowFrom && t < o.LowTo {
				score = o.LowScore
			}
			dets = append(dets, Detection{Class: o.Class, Score: score,
				Box: Box{x - o.W/2 + j(), y - o.H/2 + j(), x + o.W/2 + j(), y + o.H/2 + j()}})
			owner = append(owner, i)
		}
		tr.Update(time.Duration(t*float64(time.Second)), dets)
		for _, s := range tr.Confirmed() {
			sim.starts = append(sim.starts, tr.Tracks()[s].ID)
		}
		for _, s := range tr.Ended() {
			sim.ended = append(sim.ended, tr.Tracks()[s].ID)
		}
		for i := range dets {
			id := 0
			if s := tr.Matched(i); s >= 0 {
				id = tr.Tracks()[s].ID
			}
			sim.ids[owner[i]] = append(sim.ids[owner[i]], id)
		}
	}
	tr.EndAll()
	for _, s := range tr.Ended() {
		sim.ended = append(sim.ended, tr.Tracks()[s].ID)
	}
	return sim
}

// distinct lists the non-zero IDs in ids, in order of first appearance,
// each once.
func distinct(ids []int) []int {
	var out []int
	for _, id := range ids {
		if id == 0 {
			continue
		}
		seen := false
		for _, o := range out {
			seen = seen || o == id
		}
		if !seen {
			out = append(out, id)
		}
	}
	return out
}
