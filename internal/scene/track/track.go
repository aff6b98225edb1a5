// Package track follows detected objects from one analysis to the next and
// gives each a stable integer ID. It is ByteTrack (Zhang et al., "ByteTrack:
// Multi-Object Tracking by Associating Every Detection Box", ECCV 2022)
// written from the paper and the reference implementation's behaviour:
// Kalman-predicted tracks matched by IoU to confident boxes first, then the
// remaining tracks to low-confidence boxes so that an occluded or blurred
// object keeps its track, then new tracks from what is left.
//
// Where the reference counts frames at a fixed 30 fps, this tracker counts
// time, because Sightline analyses anywhere from 2 to 60 frames a second:
// the Kalman step is the real time between analyses, a lost track ends
// after LostAfter, and boxes are compared with a buffer that grows with the
// time since the track was last seen (the buffered IoU of Yang et al.,
// "Hard to Track Objects with Irregular Motions and Similar Appearances?
// Make It Easier by Buffering the Matching Space", WACV 2023), so a walker
// still overlaps its prediction at 3 analyses a second. IDs are issued only
// when a track is confirmed, so none are wasted on one-off false boxes.
package track

import (
	"time"
)

// Detection is one detected box.
type Detection struct {
	Box   Box
	Score float64
	Class string
}

// State is a track's place in its life.
type State uint8

const (
	// Free marks an unused slot.
	Free State = iota
	// Tentative tracks have been seen but not yet on enough consecutive
	// analyses; they have no ID.
	Tentative
	// Tracked tracks are confirmed and were matched on the latest analysis.
	Tracked
	// Lost tracks are confirmed but were not matched on the latest analysis.
	Lost
	// Ended tracks ended on the latest analysis; their slot is freed on
	// the next.
	Ended
)

// Track is one followed object.
type Track struct {
	ID    int // 0 until confirmed; then unique for the tracker's life
	Class string
	State State
	// Det is the index of the detection matched on the latest analysis,
	// or -1.
	Det   int
	Score float64 // the matched detection's score
	// Box is the Kalman filter's estimate after the latest analysis.
	Box   Box
	First time.Duration // when the track was first seen
	Last  time.Duration // when it was last matched

	hits int // consecutive matches while tentative
	kf   kalman
}

// Options tune the tracker; zero fields take the defaults.
type Options struct {
	// HighScore splits confident boxes (matched first, and the only ones
	// that start tracks) from low-confidence ones (default 0.5).
	HighScore float64
	// LowScore is the lowest score looked at (default 0.1).
	LowScore float64
	// NewScore is the score a box needs to start a track (default 0.6).
	NewScore float64
	// MatchHigh, MatchLow and MatchNew are the highest costs the three
	// associations accept: 1 − IoU×score for confident boxes (defaults
	// 0.8 and 0.7, for existing and tentative tracks) and 1 − IoU for
	// low-confidence ones (default 0.5).
	MatchHigh, MatchLow, MatchNew float64
	// ConfirmHits is how many consecutive analyses a new track must be
	// matched on before it is confirmed and given an ID (default 3).
	ConfirmHits int
	// LostAfter is how long a confirmed track may go unseen before it
	// ends (default 1 s).
	LostAfter time.Duration
	// BufferPerSecond is how much the boxes compared grow, as a fraction
	// of their size on every side, for each second since the previous
	// analysis, or for a lost track since it was last seen (default 1.5),
	// up to BufferMax (default 1). At 30 analyses a second boxes grow by
	// 5 %, about ByteTrack's plain IoU; at 3 a second by half, so that a
	// walker's new track still meets its next box.
	BufferPerSecond, BufferMax float64
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.HighScore, 0.5)
	def(&o.LowScore, 0.1)
	def(&o.NewScore, 0.6)
	def(&o.MatchHigh, 0.8)
	def(&o.MatchLow, 0.5)
	def(&o.MatchNew, 0.7)
	def(&o.BufferPerSecond, 1.5)
	def(&o.BufferMax, 1)
	if o.ConfirmHits <= 0 {
		o.ConfirmHits = 3
	}
	if o.LostAfter <= 0 {
		o.LostAfter = time.Second
	}
	return o
}

// Tracker follows objects across analyses. It is not safe for concurrent
// use.
type Tracker struct {
	opts   Options
	tracks []Track // slots; Free ones are reused
	nextID int
	now    time.Duration
	step   time.Duration // since the previous analysis
	begun  bool

	confirmed, ended []int // slots, by the latest Update
	detTrack         []int // the slot each detection was matched to, or -1

	// Scratch, kept between updates.
	high, low, pool, rest []int
	assign                assigner
}

// New returns a tracker.
func New(o Options) *Tracker { return &Tracker{opts: o.withDefaults()} }

// Options returns the tracker's options with defaults filled in.
func (t *Tracker) Options() Options { return t.opts }

// Tracks returns every slot; look at State. The slice is the tracker's own
// and valid until the next Update.
func (t *Tracker) Tracks() []Track { return t.tracks }

// Confirmed lists the slots of tracks confirmed (given an ID) by the latest
// Update.
func (t *Tracker) Confirmed() []int { return t.confirmed }

// Ended lists the slots of confirmed tracks that ended in the latest Update
// or EndAll; they stay readable until the next Update.
func (t *Tracker) Ended() []int { return t.ended }

// Matched returns the slot of the track detection i of the latest Update
// was matched to, or -1.
func (t *Tracker) Matched(i int) int { return t.detTrack[i] }

// Update follows the tracks to dets, analysed at now (monotonic stream
// time).
func (t *Tracker) Update(now time.Duration, dets []Detection) {
	t.release()
	t.step = 0
	if t.begun && now > t.now {
		t.step = now - t.now
	}
	t.now, t.begun = now, true
	t.detTrack = fill(grow(t.detTrack, len(dets)), -1)
	t.predict(t.step.Seconds())
	t.splitDetections(dets)
	t.followConfirmed(dets)
	t.followTentative(dets)
	t.startTracks(dets)
	t.endLost()
}

// followConfirmed matches the confirmed tracks with the boxes, in
// ByteTrack's two stages: confident boxes first, then low-confidence boxes
// for the tracks still unmatched.
func (t *Tracker) followConfirmed(dets []Detection) {
	// First association: the tracks followed until now with the confident
	// boxes; then the lost tracks with the confident boxes left. ByteTrack
	// matches both at once; matching in turn (DeepSORT's matching cascade)
	// keeps a lost track's prediction, which has drifted and is buffered
	// for longer, from taking the box of a track followed all along, as
	// when one person passes in front of another.
	t.pool = t.slotsIn(t.pool[:0], Tracked)
	t.associate(t.pool, t.high, dets, true, t.opts.MatchHigh, false)
	t.high = t.unmatched(t.high)
	t.rest = t.slotsIn(t.rest[:0], Lost)
	t.associate(t.rest, t.high, dets, true, t.opts.MatchHigh, true)
	t.high = t.unmatched(t.high)
	// Second: the tracks followed until now that found no confident box,
	// with the low-confidence boxes; what is still unmatched is lost.
	t.rest = t.rest[:0]
	for _, s := range t.pool {
		if t.tracks[s].Det < 0 {
			t.rest = append(t.rest, s)
		}
	}
	t.associate(t.rest, t.low, dets, false, t.opts.MatchLow, false)
	for _, s := range t.rest {
		if t.tracks[s].Det < 0 {
			t.tracks[s].State = Lost
		}
	}
}

// followTentative matches tentative tracks with the confident boxes left
// (ByteTrack's third association); a tentative track that misses one
// analysis is dropped, one matched ConfirmHits times in a row confirmed.
func (t *Tracker) followTentative(dets []Detection) {
	t.pool = t.slotsIn(t.pool[:0], Tentative)
	t.associate(t.pool, t.high, dets, true, t.opts.MatchNew, false)
	for _, s := range t.pool {
		tr := &t.tracks[s]
		if tr.Det < 0 {
			tr.State = Free
			continue
		}
		if tr.hits++; tr.hits >= t.opts.ConfirmHits {
			t.confirm(s)
		}
	}
}

// EndAll ends every confirmed track, as at the end of a run; Ended lists
// them. Tentative tracks are dropped.
func (t *Tracker) EndAll() {
	t.release()
	for s := range t.tracks {
		switch t.tracks[s].State {
		case Tracked, Lost:
			t.end(s)
		case Tentative:
			t.tracks[s].State = Free
		}
	}
}

// release frees the slots of tracks that ended on the previous update.
func (t *Tracker) release() {
	for _, s := range t.ended {
		t.tracks[s].State = Free
	}
	t.confirmed, t.ended = t.confirmed[:0], t.ended[:0]
}

func (t *Tracker) predict(dt float64) {
	for s := range t.tracks {
		tr := &t.tracks[s]
		if tr.State == Free {
			continue
		}
		tr.Det = -1
		if tr.State == Lost {
			tr.kf.ax[dimH].vel = 0 // as ByteTrack: a lost box keeps its size
		}
		tr.kf.predict(dt)
		tr.Box = tr.kf.box()
	}
}

// splitDetections sorts detection indices into confident and low ones.
func (t *Tracker) splitDetections(dets []Detection) {
	t.high, t.low = t.high[:0], t.low[:0]
	for i, d := range dets {
		switch {
		case d.Score >= t.opts.HighScore:
			t.high = append(t.high, i)
		case d.Score >= t.opts.LowScore:
			t.low = append(t.low, i)
		}
	}
}

// slotsIn appends the slots of tracks in either state.
func (t *Tracker) slotsIn(dst []int, states ...State) []int {
	for s := range t.tracks {
		for _, st := range states {
			if t.tracks[s].State == st {
				dst = append(dst, s)
				break
			}
		}
	}
	return dst
}

// unmatched keeps the detections no track took.
func (t *Tracker) unmatched(idx []int) []int {
	out := idx[:0]
	for _, i := range idx {
		if t.detTrack[i] < 0 {
			out = append(out, i)
		}
	}
	return out
}

// associate matches the tracks in slots with the detections in idx
// (those still free) and updates the matched tracks. With fuse the cost is
// ByteTrack's 1 − IoU×score, otherwise 1 − IoU. Boxes are buffered for the
// time since the previous analysis, or with sinceSeen since each track was
// last matched.
func (t *Tracker) associate(slots, idx []int, dets []Detection, fuse bool, limit float64, sinceSeen bool) {
	if len(slots) == 0 || len(idx) == 0 {
		return
	}
	a := &t.assign
	a.reset(len(slots), len(idx))
	for r, s := range slots {
		tr := &t.tracks[s]
		gap := t.step
		if sinceSeen {
			gap = t.now - tr.Last
		}
		buf := min(t.opts.BufferMax, t.opts.BufferPerSecond*gap.Seconds())
		pred := tr.Box.grow(buf)
		for c, i := range idx {
			d := &dets[i]
			if t.detTrack[i] >= 0 || d.Class != tr.Class {
				continue
			}
			sim := IoU(pred, d.Box.grow(buf))
			if fuse {
				sim *= d.Score
			}
			if sim > 0 {
				a.set(r, c, 1-sim)
			}
		}
	}
	a.solve(limit)
	for r, s := range slots {
		if c := a.RowMatch[r]; c >= 0 {
			t.match(s, idx[c], dets)
		}
	}
}

// match updates track s with detection i.
func (t *Tracker) match(s, i int, dets []Detection) {
	tr := &t.tracks[s]
	tr.kf.update(dets[i].Box)
	tr.Box = tr.kf.box()
	tr.Det, tr.Score, tr.Last = i, dets[i].Score, t.now
	if tr.State == Lost {
		tr.State = Tracked
	}
	t.detTrack[i] = s
}

func (t *Tracker) confirm(s int) {
	t.nextID++
	t.tracks[s].ID = t.nextID
	t.tracks[s].State = Tracked
	t.confirmed = append(t.confirmed, s)
}

// startTracks starts a tentative track from every confident box no track
// took.
func (t *Tracker) startTracks(dets []Detection) {
	for _, i := range t.high {
		d := &dets[i]
		if t.detTrack[i] >= 0 || d.Score < t.opts.NewScore {
			continue
		}
		s := t.freeSlot()
		tr := &t.tracks[s]
		*tr = Track{Class: d.Class, State: Tentative, Det: i, Score: d.Score,
			First: t.now, Last: t.now, hits: 1}
		tr.kf.init(d.Box)
		tr.Box = tr.kf.box()
		t.detTrack[i] = s
		if tr.hits >= t.opts.ConfirmHits {
			t.confirm(s)
		}
	}
}

func (t *Tracker) freeSlot() int {
	for s := range t.tracks {
		if t.tracks[s].State == Free {
			return s
		}
	}
	t.tracks = append(t.tracks, Track{})
	return len(t.tracks) - 1
}

// endLost ends the tracks unseen for longer than LostAfter.
func (t *Tracker) endLost() {
	for s := range t.tracks {
		if tr := &t.tracks[s]; tr.State == Lost && t.now-tr.Last > t.opts.LostAfter {
			t.end(s)
		}
	}
}

func (t *Tracker) end(s int) {
	tr := &t.tracks[s]
	if tr.Det >= 0 {
		t.detTrack[tr.Det] = -1
	}
	tr.State, tr.Det = Ended, -1
	t.ended = append(t.ended, s)
}
