package track

import (
	"time"

	"github.com/sightline/sightline/internal/scene/sim"
)

// simulation runs a tracker over objects at fps for dur seconds and records,
// per object, the track ID its detection carried at each analysis (0 while
// unconfirmed or unmatched).
type simulation struct {
	ids    [][]int // per object, per analysis where it was visible
	ended  []int   // IDs in the order they ended
	starts []int
}

func simulate(objs []sim.Object, fps, dur float64, opts Options) simulation {
	tr := New(opts)
	rng := sim.Rand()
	res := simulation{ids: make([][]int, len(objs))}
	var dets []Detection
	var owner []int
	n := int(dur * fps)
	for k := 0; k <= n; k++ {
		t := float64(k) / fps
		dets, owner = dets[:0], owner[:0]
		for i, o := range objs {
			if !o.Visible(t) {
				continue
			}
			x1, y1, x2, y2 := o.Box(t, rng)
			dets = append(dets, Detection{Class: o.Class, Score: o.ScoreAt(t), Box: Box{x1, y1, x2, y2}})
			owner = append(owner, i)
		}
		tr.Update(time.Duration(t*float64(time.Second)), dets)
		for _, s := range tr.Confirmed() {
			res.starts = append(res.starts, tr.Tracks()[s].ID)
		}
		for _, s := range tr.Ended() {
			res.ended = append(res.ended, tr.Tracks()[s].ID)
		}
		for i := range dets {
			id := 0
			if s := tr.Matched(i); s >= 0 {
				id = tr.Tracks()[s].ID
			}
			res.ids[owner[i]] = append(res.ids[owner[i]], id)
		}
	}
	tr.EndAll()
	for _, s := range tr.Ended() {
		res.ended = append(res.ended, tr.Tracks()[s].ID)
	}
	return res
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
